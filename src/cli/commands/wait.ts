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
}

export const waitCommand = defineCommand<WaitCommandOptions>({
  name: 'wait',
  usage: 'NAME',
  positional: { name: 'NAME', describe: 'The lock to wait for.' },
  summary: 'Wait until a lock is free, without taking it',
  description:
    'Block until the lock NAME is free: released, deleted or expired (a lock that does not exist is free). ' +
    'The lock is not taken: to hold it, use acquire or run, which wait the same way. Prints nothing on stdout; ' +
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
  ],
  options: [
    withOverrides(OPTIONS.timeout, {
      describe: 'How long to wait for the lock to be free, then exit 3 (0 = check once, negative = no limit).',
    }),
  ],

  longRunning: () => true,
  parse(args) {
    const timeout = args.string(OPTIONS.timeout);
    return {
      name: singleName('wait', args),
      timeoutMs: timeout === undefined ? -1 : duration('timeout', timeout, { negative: true }),
    };
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global);
    const status = statusReporter(rt, () => conn.serverNow());
    const ctx = conn.lockContext(observer(rt, conn), (s) => status.update(s));
    await waitUntilFree(ctx, { name: o.name, timeoutMs: o.timeoutMs, signal: rt.signal }).finally(() => status.stop());
    return 0;
  },
});
