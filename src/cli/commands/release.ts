// kubectl cmlock release NAME: release a lock you hold (or, with --force, break someone else's).

import { release } from '../../lock/protocol.ts';
import { forcedWarning } from '../../output/messages.ts';
import { UsageError } from '../../errors.ts';
import { printable } from '../../lock/text.ts';
import { defineCommand, identityFlag, singleName } from '../command.ts';
import { OPTIONS } from '../options.ts';
import { openConnection, resolveHolder } from '../connection.ts';

export interface ReleaseCommandOptions {
  name: string;
  force: boolean;
  ignoreNotFound: boolean;
  identity?: string;
  /** --holder: with --force, the hold to break on a lock with several holders. */
  holder?: string;
  /** --all: with --force, every hold. */
  all?: true;
}

export const releaseCommand = defineCommand<ReleaseCommandOptions>({
  name: 'release',
  usage: 'NAME',
  positional: { name: 'NAME', describe: 'The lock to release.' },
  summary: 'Release a lock you hold',
  description:
    'Release the lock NAME. Only its holder (the same identity that took it) may release it; a lock held by ' +
    'someone else is refused with exit code 4 unless --force, which breaks it and records that you did. Only the ' +
    'exact lock that was inspected is ever written or deleted. When others wait in line, the release hands the ' +
    'lock to the first of them (a forced one too). A shared lock or semaphore has several holders: each releases ' +
    'its own hold; --force needs --holder IDENTITY (or --all) to say whose to break.',
  examples: [
    { comment: 'Release the migration lock', command: 'kubectl cmlock release db-migrate' },
    {
      comment: 'In a cleanup step: no error if it is already gone',
      command: 'kubectl cmlock release db-migrate --ignore-not-found',
    },
    { comment: "Break a colleague's stale lock (break-glass)", command: 'kubectl cmlock release db-migrate --force' },
    {
      comment: 'Break one hold of a semaphore (the holders are listed by describe)',
      command: 'kubectl cmlock release node-drain --force --holder pod/ops/drain-7x2k',
    },
  ],
  options: [OPTIONS.force, OPTIONS.holder, OPTIONS.all, OPTIONS.ignoreNotFound, OPTIONS.identity],

  parse(args) {
    const options: ReleaseCommandOptions = {
      name: singleName('release', args),
      force: args.flag(OPTIONS.force),
      ignoreNotFound: args.flag(OPTIONS.ignoreNotFound),
    };
    const identity = identityFlag(args);
    if (identity !== undefined) options.identity = identity;
    const holder = args.string(OPTIONS.holder);
    const all = args.flag(OPTIONS.all);
    if ((holder !== undefined || all) && !options.force) {
      throw new UsageError(`${all ? '--all' : '--holder'} breaks holds: it needs --force`);
    }
    if (holder !== undefined && all) throw new UsageError('--holder and --all cannot be combined');
    if (holder !== undefined) options.holder = holder;
    if (all) options.all = true;
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
      ...(o.holder === undefined ? {} : { holder: o.holder }),
      ...(o.all === undefined ? {} : { all: true }),
      signal: rt.signal,
    });
    if (result.released === undefined) return 0; // already gone, --ignore-not-found: silent, like kubectl delete
    if (result.forced) rt.stderr.write(`${forcedWarning(result.released, conn.serverNow())}\n`);
    const handed = result.handedTo === undefined ? '' : `; handed to ${result.handedTo.map(printable).join(', ')}`;
    rt.stdout.write(`released lock "${o.name}"${handed}\n`);
    return 0;
  },
});
