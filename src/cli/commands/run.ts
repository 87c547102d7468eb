// kubectl cmlock run NAME -- CMD [ARGS...]: hold the lock while CMD runs. The supervision of CMD (renewals,
// signals, stopping it when the lock is lost) is src/run/run.ts; this file connects it to the cluster.

import { UsageError } from '../../errors.ts';
import { acquire, release, renewFrom } from '../../lock/protocol.ts';
import { runHolderIdentity } from '../../run/identity.ts';
import { runLocked } from '../../run/run.ts';
import { brokenTimingRule, defaultRunTimings, type TimingRule } from '../../run/timing.ts';
import { defineCommand, identityFlag } from '../command.ts';
import { OPTIONS, withOverrides } from '../options.ts';
import { openConnection, parseOwner, resolveHolder, resolveOwner, type OwnerFlag } from '../connection.ts';
import { statusReporter } from '../status.ts';
import { duration, holdKind, labels, lockName } from '../validate.ts';

export interface RunCommandOptions {
  name: string;
  /** CMD and its arguments. */
  command: [string, ...string[]];
  ttlMs: number;
  timeoutMs: number;
  killAfterMs: number;
  reason: string;
  identity?: string;
  owner: OwnerFlag;
  labels: Record<string, string>;
  /** --shared */
  shared?: true;
  /** --limit N (N > 1) */
  limit?: number;
}

const DEFAULT_TTL_MS = 60 * 1000;
const DEFAULT_KILL_AFTER_MS = 10 * 1000;

/** One exact message per timing rule (client-go's NewLeaderElector style), in the flags' words. */
export const TIMING_MESSAGES: Readonly<Record<TimingRule, string>> = {
  leaseNegative: '--ttl must not be negative',
  killAfterNegative: '--kill-after must not be negative',
  retryPeriodNotPositive: 'the renew period must be greater than zero',
  renewDeadlineTooShort: 'the renew deadline must be greater than 1.2 times the renew period',
  leaseTooShort:
    '--ttl must be greater than the renew deadline plus --kill-after, so that CMD is stopped before the lock can expire',
};

export const runCommand = defineCommand<RunCommandOptions>({
  name: 'run',
  usage: 'NAME -- CMD [ARGS...]',
  positional: { name: 'NAME', describe: 'The lock to hold while CMD runs.' },
  summary: 'Run a command while holding a lock',
  description:
    'Take the lock NAME (waiting while someone else holds it), run CMD while renewing the lock in the ' +
    "background, release it when CMD exits, and exit with CMD's exit code (128+N when CMD died of signal N). " +
    'CMD runs without a shell, its arguments passed exactly; use sh -c for shell syntax. SIGINT, SIGTERM and ' +
    'SIGHUP are forwarded to CMD, and the lock is released once CMD has exited. CMD sees CMLOCK_NAME, ' +
    'CMLOCK_NAMESPACE, CMLOCK_HOLDER and CMLOCK_FENCE (the fencing token). ' +
    'The lease (--ttl, 1m by default, where a lock taken by hand with acquire gets 1h) is renewed every third of ' +
    'it. If no renewal succeeds for two thirds of it (less when --kill-after is long), or someone else took the ' +
    'lock, CMD gets SIGTERM, then SIGKILL after --kill-after, all before the lease can run out for anyone else, ' +
    'and the exit code is 6. Should cmlock itself be killed, a watchdog gives CMD the same SIGTERM and SIGKILL. ' +
    'Each run holds the lock under an identity of its own, so two runs exclude each ' +
    'other even for the same user on the same host. While someone else holds the lock, run waits in line (first ' +
    'come, first served); --shared and --limit N work as for acquire.',
  examples: [
    {
      comment: 'Run the migration while holding the lock, waiting as long as someone else holds it',
      command: 'kubectl cmlock run db-migrate -- ./migrate.sh --to v42',
    },
    {
      comment: 'Give up if the lock is not free within 2 minutes (exit code 3)',
      command: 'kubectl cmlock run deploy --timeout 2m -- make deploy',
    },
    {
      comment: 'Shell syntax only through an explicit shell; pass the fencing token on to the protected system',
      command: `kubectl cmlock run db-migrate -- sh -c './migrate.sh --fence "$CMLOCK_FENCE" && ./verify.sh'`,
    },
    {
      comment: 'A command that needs a minute to stop cleanly: a longer lease and grace period',
      command: 'kubectl cmlock run drain -n ops --ttl 5m --kill-after 1m -- ./drain-node.sh node-7',
    },
    {
      comment: 'At most two node drains at once, across everyone running this',
      command: 'kubectl cmlock run node-drain -n ops --limit 2 -- kubectl drain node-7 --ignore-daemonsets',
    },
    {
      comment: 'Backups run together (--shared); the migration, run without it, waits for them and runs alone',
      command: 'kubectl cmlock run db -n ops --shared -- ./backup.sh',
    },
  ],
  options: [
    withOverrides(OPTIONS.ttl, {
      defaultText: '1m, renewed every 20s',
      describe: 'Lease length, renewed every third of it while CMD runs; at least twice --kill-after.',
    }),
    withOverrides(OPTIONS.timeout, {
      describe: 'How long to wait while someone else holds the lock, then exit 3 (0 = try once, negative = no limit).',
    }),
    withOverrides(OPTIONS.killAfter, {
      describe: 'When the lock is lost, how long CMD has after SIGTERM before SIGKILL.',
    }),
    OPTIONS.shared,
    OPTIONS.limit,
    OPTIONS.reason,
    OPTIONS.labels,
    withOverrides(OPTIONS.identity, {
      describe: 'Who holds the lock, as others see it (default: as for acquire, plus this process).',
    }),
    OPTIONS.owner,
  ],

  longRunning: () => true,
  parse(args, global) {
    const [name, ...extra] = args.positionals;
    if (name === undefined) throw new UsageError('a lock NAME is required: kubectl cmlock run NAME -- CMD [ARGS...]');
    if (extra.length > 0) {
      throw new UsageError(`put the command after "--": kubectl cmlock run ${name} -- ${extra.join(' ')}`);
    }
    const [file, ...cmdArgs] = args.rest;
    if (file === undefined)
      throw new UsageError('a command is required after "--": kubectl cmlock run NAME -- CMD [ARGS...]');
    if (file === '') throw new UsageError('run needs a command: kubectl cmlock run NAME -- CMD [ARGS...]');
    if (args.rest.some((arg) => arg.includes('\0'))) {
      throw new UsageError('the command and its arguments must not contain NUL characters');
    }
    const ttl = args.string(OPTIONS.ttl);
    const timeout = args.string(OPTIONS.timeout);
    const killAfter = args.string(OPTIONS.killAfter);
    const options: RunCommandOptions = {
      name: lockName(name),
      command: [file, ...cmdArgs],
      ttlMs: ttl === undefined ? DEFAULT_TTL_MS : duration('ttl', ttl, { min: 1000 }),
      timeoutMs: timeout === undefined ? -1 : duration('timeout', timeout, { negative: true }),
      killAfterMs: killAfter === undefined ? DEFAULT_KILL_AFTER_MS : duration('kill-after', killAfter),
      reason: args.string(OPTIONS.reason) ?? '',
      owner: parseOwner(args.string(OPTIONS.owner), global.namespace),
      labels: labels(args.list(OPTIONS.labels)),
      ...holdKind(args.flag(OPTIONS.shared), args.string(OPTIONS.limit)),
    };
    // CMD must be stopped before the lease can run out: --ttl > renew deadline + --kill-after.
    const broken = brokenTimingRule(defaultRunTimings(options.ttlMs, options.killAfterMs));
    if (broken !== undefined) throw new UsageError(TIMING_MESSAGES[broken]);
    const identity = identityFlag(args);
    if (identity !== undefined) options.identity = identity;
    return options;
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global);
    const base = await resolveHolder(rt, conn, o.identity, true);
    // Unique to this process: two runs by the same user on the same host must exclude each other.
    const holder = { ...base, identity: runHolderIdentity(base.identity, rt.pid, () => rt.clock.random()) };
    const owner = await resolveOwner(rt, conn, o.owner);
    const status = statusReporter(rt, () => conn.serverNow());
    const ctx = conn.lockContext(holder, (s) => status.update(s));
    // From here on run handles SIGINT/SIGTERM itself; one that came before is an abort.
    rt.signal.throwIfAborted();
    return runLocked(
      {
        // The status line goes once the wait is over, before CMD can print anything.
        lock: { acquire: (c, a) => acquire(c, a).finally(() => status.stop()), renewFrom, release },
        ctx,
        clock: rt.clock,
        spawn: rt.spawn,
        env: rt.env,
        signals: rt.signals,
        stopSelf: () => rt.stopSelf(),
        times: { wall: () => rt.wallNow(), boot: () => rt.bootNow?.() },
        stderr: rt.stderr,
      },
      {
        name: o.name,
        namespace: conn.namespace,
        ttlMs: o.ttlMs,
        timeoutMs: o.timeoutMs,
        killAfterMs: o.killAfterMs,
        reason: o.reason,
        labels: o.labels,
        ...(owner === undefined ? {} : { owner }),
        ...(o.shared === undefined ? {} : { shared: true }),
        ...(o.limit === undefined ? {} : { limit: o.limit }),
        command: o.command,
      },
    );
  },
});
