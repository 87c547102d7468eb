// kubectl cmlock wait NAME: block until the lock is free, without taking it.

import { waitUntilFree } from '../../lock/wait.ts';
import { defineCommand, singleName } from '../command.ts';
import { OPTIONS, withOverrides } from '../options.ts';
import { openConnection, observer } from '../connection.ts';
import { statusReporter } from '../status.ts';
import { duration } from '../validate.ts';

export interface WaitCommandOptions {
  name: string;
  /** 0 = check once; < 0 = no limit. */
  timeoutMs: number;
  /** --shared: free for a shared hold (no exclusive holder), rather than for an exclusive one. */
  shared: boolean;
}

export const waitCommand = defineCommand<WaitCommandOptions>({
  name: 'wait',
  usage: 'NAME',
  positional: { name: 'NAME', describe: 'The lock to wait for.' },
  summary: 'Wait until a lock is free, without taking it',
  description:
    'Block until the lock NAME is free: released, deleted or expired (a lock that does not exist is free), with ' +
    'nobody waiting in line for it; that is, until an acquire --timeout 0 of the same kind would get it. With ' +
    '--shared: until nobody holds it exclusively (shared holders may hold it). A semaphore is free when one of its ' +
    'slots is. The lock is not taken and wait does not queue: to hold it, use acquire or run, which wait in line. ' +
    'Prints nothing on stdout; ' +
    'exit code 0 when free, 3 when --timeout ran out. While waiting, a status line on stderr says who holds the ' +
    'lock, since when, when it expires and how long you have waited (redrawn in place on a terminal, a plain line ' +
    'every 30s otherwise). It watches the lock, so it returns within about a second of the release or expiry.',
  examples: [
    {
      comment: 'Wait for the migration to finish before deploying',
      command: 'kubectl cmlock wait db-migrate && ./deploy.sh',
    },
    { comment: 'Give up after 10 minutes (exit code 3)', command: 'kubectl cmlock wait db-migrate --timeout 10m' },
    { comment: 'Only check: exit 0 if free now, 3 if held', command: 'kubectl cmlock wait db-migrate --timeout 0' },
    { comment: 'Wait until no migration holds the lock (backups may)', command: 'kubectl cmlock wait db --shared' },
  ],
  options: [
    withOverrides(OPTIONS.timeout, {
      describe: 'How long to wait for the lock to be free, then exit 3 (0 = check once, negative = no limit).',
    }),
    withOverrides(OPTIONS.shared, {
      describe: 'Wait until the lock is free for a shared hold (nobody holds it exclusively, nobody waits).',
    }),
  ],

  longRunning: () => true,
  parse(args) {
    const timeout = args.string(OPTIONS.timeout);
    return {
      name: singleName('wait', args),
      timeoutMs: timeout === undefined ? -1 : duration('timeout', timeout, { negative: true }),
      shared: args.flag(OPTIONS.shared),
    };
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global);
    const status = statusReporter(rt, () => conn.serverNow());
    const ctx = conn.lockContext(observer(rt, conn), (s) => status.update(s));
    await waitUntilFree(ctx, { name: o.name, timeoutMs: o.timeoutMs, shared: o.shared, signal: rt.signal }).finally(
      () => status.stop(),
    );
    return 0;
  },
});
