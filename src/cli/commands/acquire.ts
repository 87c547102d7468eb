// kubectl cmlock acquire NAME: take the lock, waiting while someone else holds it.

import { acquire } from '../../lock/protocol.ts';
import { bornExpired } from '../../lock/go-library.ts';
import { acquiredMessage, bornExpiredWarning } from '../../output/messages.ts';
import { renderLock, type ObjectFormat } from '../../output/lock.ts';
import { defineCommand, identityFlag, lockOutputFlag, singleName } from '../command.ts';
import { LOCK_OUTPUT, OPTIONS, withOverrides } from '../options.ts';
import { openConnection, parseOwner, resolveHolder, resolveOwner, type OwnerFlag } from '../connection.ts';
import { statusReporter } from '../status.ts';
import { duration, holdKind, labels } from '../validate.ts';

export interface AcquireCommandOptions {
  name: string;
  ttlMs: number;
  timeoutMs: number;
  reason: string;
  identity?: string;
  owner: OwnerFlag;
  labels: Record<string, string>;
  output?: ObjectFormat;
  /** --shared */
  shared?: true;
  /** --limit N (N > 1) */
  limit?: number;
}

const DEFAULT_TTL_MS = 60 * 60 * 1000;

export const acquireCommand = defineCommand<AcquireCommandOptions>({
  name: 'acquire',
  usage: 'NAME',
  positional: { name: 'NAME', describe: 'The lock: a ConfigMap name (DNS-1123 subdomain).' },
  summary: 'Take a lock, waiting while someone else holds it',
  description:
    'Take the lock NAME. While someone else holds it, wait in line until it is your turn (--timeout): waiters ' +
    'are served in the order they arrived, and a release hands the lock to the first in line. Taking a lock you ' +
    'already hold (same identity) succeeds and extends its expiry. Prints the fencing token. With --shared, ' +
    'shared holders hold the lock together while nobody holds it exclusively; with --limit N, up to N hold it ' +
    'at once (a semaphore). --timeout 0 tries once and never waits in line.',
  examples: [
    {
      comment: 'Take the migration lock for 30 minutes, waiting as long as it takes',
      command: 'kubectl cmlock acquire db-migrate --ttl 30m --reason "schema v42"',
    },
    {
      comment: 'Try once: exit 3 at once if someone else holds it',
      command: 'kubectl cmlock acquire db-migrate --timeout 0',
    },
    {
      comment: 'Wait at most 5 minutes, print the lock as JSON',
      command: 'kubectl cmlock acquire drain -n ops --timeout 5m -o json',
    },
    {
      comment: 'A backup that may run beside other backups, but not during a migration (which takes it exclusively)',
      command: 'kubectl cmlock acquire db --shared --reason backup',
    },
    {
      comment: 'One of at most 2 node drains at once',
      command: 'kubectl cmlock acquire node-drain --limit 2 --reason "drain node-7"',
    },
  ],
  options: [
    withOverrides(OPTIONS.ttl, { defaultText: '1h' }),
    OPTIONS.timeout,
    OPTIONS.shared,
    OPTIONS.limit,
    OPTIONS.reason,
    OPTIONS.identity,
    OPTIONS.owner,
    OPTIONS.labels,
    LOCK_OUTPUT,
  ],

  parse(args, global) {
    const ttl = args.string(OPTIONS.ttl);
    const timeout = args.string(OPTIONS.timeout);
    const options: AcquireCommandOptions = {
      name: singleName('acquire', args),
      ttlMs: ttl === undefined ? DEFAULT_TTL_MS : duration('ttl', ttl, { min: 1000 }),
      timeoutMs: timeout === undefined ? -1 : duration('timeout', timeout, { negative: true }),
      reason: args.string(OPTIONS.reason) ?? '',
      owner: parseOwner(args.string(OPTIONS.owner), global.namespace),
      labels: labels(args.list(OPTIONS.labels)),
      ...holdKind(args.flag(OPTIONS.shared), args.string(OPTIONS.limit)),
    };
    const identity = identityFlag(args);
    if (identity !== undefined) options.identity = identity;
    const output = lockOutputFlag(args);
    if (output !== undefined) options.output = output;
    return options;
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global);
    const holder = await resolveHolder(rt, conn, o.identity, true);
    // Before anything is created: an --owner that does not exist is an error, not a lock without owner.
    const owner = await resolveOwner(rt, conn, o.owner);
    const status = statusReporter(rt, () => conn.serverNow());
    const ctx = conn.lockContext(holder, (s) => status.update(s));
    const result = await acquire(ctx, {
      name: o.name,
      ttlMs: o.ttlMs,
      timeoutMs: o.timeoutMs,
      reason: o.reason,
      labels: o.labels,
      owner,
      ...(o.shared === undefined ? {} : { shared: true }),
      ...(o.limit === undefined ? {} : { limit: o.limit }),
      signal: rt.signal,
    }).finally(() => status.stop());
    // Taken over at once, as the Go library's own waiters do (README): said, since its creator may still be at work.
    if (result.previous !== undefined && bornExpired(result.previous)) {
      rt.stderr.write(`${bornExpiredWarning(result.previous)}\n`);
    }
    rt.stdout.write(
      o.output === undefined ? `${acquiredMessage(result, conn.serverNow())}\n` : renderLock(result.lock, o.output),
    );
    return 0;
  },
});
