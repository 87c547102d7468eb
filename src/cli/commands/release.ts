// kubectl cmlock release NAME: release a lock you hold (or, with --force, break someone else's).

import { release } from '../../lock/protocol.ts';
import { forcedWarning } from '../../output/messages.ts';
import { defineCommand, identityFlag, singleName } from '../command.ts';
import { OPTIONS } from '../options.ts';
import { openConnection, resolveHolder } from '../connection.ts';

export interface ReleaseCommandOptions {
  name: string;
  force: boolean;
  ignoreNotFound: boolean;
  identity?: string;
}

export const releaseCommand = defineCommand<ReleaseCommandOptions>({
  name: 'release',
  usage: 'NAME',
  positional: { name: 'NAME', describe: 'The lock to release.' },
  summary: 'Release a lock you hold',
  description:
    'Release the lock NAME. Only its holder (the same identity that took it) may release it; a lock held by ' +
    'someone else is refused with exit code 4 unless --force, which breaks it and records that you did. Only the ' +
    'exact lock that was inspected is ever deleted.',
  examples: [
    { comment: 'Release the migration lock', command: 'kubectl cmlock release db-migrate' },
    {
      comment: 'In a cleanup step: no error if it is already gone',
      command: 'kubectl cmlock release db-migrate --ignore-not-found',
    },
    { comment: "Break a colleague's stale lock (break-glass)", command: 'kubectl cmlock release db-migrate --force' },
  ],
  options: [OPTIONS.force, OPTIONS.ignoreNotFound, OPTIONS.identity],

  parse(args) {
    const options: ReleaseCommandOptions = {
      name: singleName('release', args),
      force: args.flag(OPTIONS.force),
      ignoreNotFound: args.flag(OPTIONS.ignoreNotFound),
    };
    const identity = identityFlag(args);
    if (identity !== undefined) options.identity = identity;
    return options;
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global);
    // A forced break is recorded: say who really did it (the authenticated user), not only the --identity text.
    const holder = await resolveHolder(rt, conn, o.identity, o.force);
    const result = await release(conn.lockContext(holder), {
      name: o.name,
      force: o.force,
      ignoreNotFound: o.ignoreNotFound,
      signal: rt.signal,
    });
    if (result.released === undefined) return 0; // already gone, --ignore-not-found: silent, like kubectl delete
    if (result.forced) rt.stderr.write(`${forcedWarning(result.released, conn.serverNow())}\n`);
    rt.stdout.write(`released lock "${o.name}"\n`);
    return 0;
  },
});
