// kubectl cmlock renew NAME: extend a lock you hold.

import { renew } from '../../lock/protocol.ts';
import { renderLock, type ObjectFormat } from '../../output/lock.ts';
import { renewedMessage } from '../../output/messages.ts';
import { defineCommand, identityFlag, lockOutputFlag, singleName } from '../command.ts';
import { LOCK_OUTPUT, OPTIONS, withOverrides } from '../options.ts';
import { openConnection, resolveHolder } from '../connection.ts';
import { duration } from '../validate.ts';

export interface RenewCommandOptions {
  name: string;
  /** undefined keeps the current lease. */
  ttlMs?: number;
  identity?: string;
  output?: ObjectFormat;
}

export const renewCommand = defineCommand<RenewCommandOptions>({
  name: 'renew',
  usage: 'NAME',
  positional: { name: 'NAME', describe: 'The lock to renew.' },
  summary: 'Extend a lock you hold',
  description:
    'Renew the lock NAME: its lease starts again from now. --ttl changes the lease length (0 = never expires). ' +
    'Only the holder may renew (exit code 4 otherwise).',
  examples: [
    { comment: 'Keep the lock for another lease of the same length', command: 'kubectl cmlock renew db-migrate' },
    { comment: 'Change the lease to 2 hours from now', command: 'kubectl cmlock renew db-migrate --ttl 2h' },
  ],
  options: [withOverrides(OPTIONS.ttl, { defaultText: 'the current lease' }), OPTIONS.identity, LOCK_OUTPUT],

  parse(args) {
    const options: RenewCommandOptions = { name: singleName('renew', args) };
    const ttl = args.string(OPTIONS.ttl);
    if (ttl !== undefined) options.ttlMs = duration('ttl', ttl, { min: 1000 });
    const identity = identityFlag(args);
    if (identity !== undefined) options.identity = identity;
    const output = lockOutputFlag(args);
    if (output !== undefined) options.output = output;
    return options;
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global);
    const holder = await resolveHolder(rt, conn, o.identity, false);
    const lock = await renew(conn.lockContext(holder), { name: o.name, ttlMs: o.ttlMs, signal: rt.signal });
    rt.stdout.write(
      o.output === undefined ? `${renewedMessage(lock, conn.serverNow())}\n` : renderLock(lock, o.output),
    );
    return 0;
  },
});
