// kubectl cmlock ls: list locks, as a kubectl-style table or -o wide|json|yaml|name.

import { UsageError } from '../../errors.ts';
import { list } from '../../lock/protocol.ts';
import { renderLockList, renderLockTable } from '../../output/lock.ts';
import { defineCommand, noRest } from '../command.ts';
import { OPTIONS, withOverrides } from '../options.ts';
import { connect, observer } from '../session.ts';
import { outputFormat } from '../validate.ts';

const FORMATS = ['wide', 'json', 'yaml', 'name'] as const;

export interface LsCommandOptions {
  allNamespaces: boolean;
  /** Comma-joined -l values; undefined lists every lock. */
  selector?: string;
  output?: (typeof FORMATS)[number];
  noHeaders: boolean;
}

export const lsCommand = defineCommand<LsCommandOptions>({
  name: 'ls',
  aliases: ['list'],
  usage: '',
  summary: 'List locks',
  description:
    'List the locks in the namespace (all namespaces with -A): who holds each, since when, until when and why. ' +
    'STATUS is Held or Expired (an expired lock may be taken over by the next acquire).',
  examples: [
    { comment: 'Locks in the current namespace', command: 'kubectl cmlock ls' },
    { comment: 'Locks everywhere, with user, host, fencing token and owner', command: 'kubectl cmlock ls -A -o wide' },
    { comment: 'Names of the locks of one team, for scripts', command: 'kubectl cmlock ls -l team=db -o name' },
  ],
  options: [
    OPTIONS.allNamespaces,
    OPTIONS.selector,
    withOverrides(OPTIONS.output, {
      choices: FORMATS,
      describe: 'Output format: wide, json, yaml or name (default: a table).',
    }),
    OPTIONS.noHeaders,
    OPTIONS.watch,
  ],

  parse(args) {
    if (args.positionals.length > 0) {
      throw new UsageError(
        `ls takes no arguments, got: ${args.positionals.join(' ')} (use -l to select locks by label)`,
      );
    }
    noRest(args);
    if (args.flag(OPTIONS.watch)) throw new UsageError('--watch is not implemented yet');
    const options: LsCommandOptions = {
      allNamespaces: args.flag(OPTIONS.allNamespaces),
      noHeaders: args.flag(OPTIONS.noHeaders),
    };
    const selector = args.list(OPTIONS.selector).filter((s) => s !== '');
    if (selector.length > 0) options.selector = selector.join(',');
    const output = outputFormat(args.string(OPTIONS.output), FORMATS);
    if (output !== undefined) options.output = output;
    return options;
  },

  async run(rt, global, o) {
    const conn = await connect(rt, global, { allNamespaces: o.allNamespaces });
    const locks = await list(conn.lockContext(observer(rt)), {
      labelSelector: o.selector,
      allNamespaces: o.allNamespaces,
      signal: rt.signal,
    });
    // list() sorts by namespace, then name.
    if (o.output === 'json' || o.output === 'yaml' || o.output === 'name') {
      rt.stdout.write(renderLockList(locks, o.output));
      return 0;
    }
    if (locks.length === 0) {
      rt.stderr.write(o.allNamespaces ? 'No locks found.\n' : `No locks found in namespace "${conn.namespace}".\n`);
      return 0;
    }
    rt.stdout.write(
      renderLockTable(locks, {
        now: conn.serverNow(),
        allNamespaces: o.allNamespaces,
        wide: o.output === 'wide',
        noHeaders: o.noHeaders,
      }),
    );
    return 0;
  },
});
