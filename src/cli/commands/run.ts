// kubectl cmlock run NAME -- CMD [ARGS...]: hold the lock while CMD runs. The flags and their validation are
// final; running the command is built in a later issue.

import { CmlockError, UsageError } from '../../errors.ts';
import { defineCommand } from '../command.ts';
import { OPTIONS, withOverrides } from '../options.ts';
import { parseOwner, type OwnerChoice } from '../session.ts';
import { defaultRunTimings, validateRunTimings } from '../../lock/timing.ts';
import { duration, identity as validIdentity, labels, lockName } from '../validate.ts';

export interface RunCommandOptions {
  name: string;
  /** CMD and its arguments. */
  command: string[];
  ttlMs: number;
  timeoutMs: number;
  killAfterMs: number;
  reason: string;
  identity?: string;
  owner: OwnerChoice;
  labels: Record<string, string>;
}

const DEFAULT_TTL_MS = 60 * 1000;
const DEFAULT_KILL_AFTER_MS = 10 * 1000;

export const runCommand = defineCommand<RunCommandOptions>({
  name: 'run',
  usage: 'NAME -- CMD [ARGS...]',
  positional: { name: 'NAME', describe: 'The lock to hold while CMD runs.' },
  summary: 'Run a command while holding a lock',
  description:
    'Take the lock NAME, run CMD while renewing the lock in the background, release it when CMD exits, and exit ' +
    "with CMD's exit code (128+N when CMD died of signal N). SIGINT, SIGTERM and SIGHUP are forwarded to CMD. " +
    'If the lock is lost, CMD gets SIGTERM, then SIGKILL after --kill-after, and the exit code is 6. CMD sees ' +
    'CMLOCK_NAME, CMLOCK_NAMESPACE, CMLOCK_HOLDER and CMLOCK_FENCE. Each run holds the lock under an identity of ' +
    'its own, so two runs exclude each other even for the same user on the same host.',
  examples: [
    {
      comment: 'Run the migration while holding the lock',
      command: 'kubectl cmlock run db-migrate -- ./migrate.sh --to v42',
    },
    {
      comment: 'Give up if the lock is not free within 2 minutes (exit code 3)',
      command: 'kubectl cmlock run deploy --timeout 2m -- make deploy',
    },
  ],
  options: [
    withOverrides(OPTIONS.ttl, {
      defaultText: '1m',
      describe: 'Lease length; the lock is renewed well before it runs out.',
    }),
    OPTIONS.timeout,
    OPTIONS.killAfter,
    OPTIONS.reason,
    OPTIONS.labels,
    withOverrides(OPTIONS.identity, {
      describe: 'Who holds the lock, as others see it (default: as for acquire, plus this process).',
    }),
    OPTIONS.owner,
  ],

  parse(args, global) {
    const [name, ...extra] = args.positionals;
    if (name === undefined) throw new UsageError('a lock NAME is required: kubectl cmlock run NAME -- CMD [ARGS...]');
    if (extra.length > 0) {
      throw new UsageError(`put the command after "--": kubectl cmlock run ${name} -- ${extra.join(' ')}`);
    }
    if (args.rest.length === 0)
      throw new UsageError('a command is required after "--": kubectl cmlock run NAME -- CMD [ARGS...]');
    const ttl = args.string(OPTIONS.ttl);
    const timeout = args.string(OPTIONS.timeout);
    const killAfter = args.string(OPTIONS.killAfter);
    const options: RunCommandOptions = {
      name: lockName(name),
      command: [...args.rest],
      ttlMs: ttl === undefined ? DEFAULT_TTL_MS : duration('ttl', ttl, { min: 1000 }),
      timeoutMs: timeout === undefined ? -1 : duration('timeout', timeout, { negative: true }),
      killAfterMs: killAfter === undefined ? DEFAULT_KILL_AFTER_MS : duration('kill-after', killAfter),
      reason: args.string(OPTIONS.reason) ?? '',
      owner: parseOwner(args.string(OPTIONS.owner), global.namespace),
      labels: labels(args.list(OPTIONS.labels)),
    };
    // CMD must be stopped before the lease can run out: --ttl > renew deadline + --kill-after.
    validateRunTimings(defaultRunTimings(options.ttlMs, options.killAfterMs));
    const identity = args.string(OPTIONS.identity);
    if (identity !== undefined) options.identity = validIdentity(identity, '--identity');
    return options;
  },

  run() {
    return Promise.reject(new CmlockError('run: not implemented yet'));
  },
});
