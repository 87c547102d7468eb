// kubectl cmlock ls: list locks, as a kubectl-style table or -o wide|json|yaml|name; with -w, then every change
// until interrupted, like `kubectl get -w`.

import { UsageError } from '../../errors.ts';
import { watchLocks } from '../../lock/list-watch.ts';
import { list } from '../../lock/protocol.ts';
import { renderLockList, renderLockTable } from '../../output/lock.ts';
import { LockWatchPrinter } from '../../output/watch.ts';
import type { Runtime } from '../runtime.ts';
import { defineCommand, noRest } from '../command.ts';
import { OPTIONS, withOverrides } from '../options.ts';
import { openConnection, observer, type Connection } from '../connection.ts';
import { outputFormat } from '../validate.ts';

const FORMATS = ['wide', 'json', 'yaml', 'name'] as const;

export interface LsCommandOptions {
  allNamespaces: boolean;
  /** Comma-joined -l values; undefined lists every lock. */
  selector?: string;
  output?: (typeof FORMATS)[number];
  noHeaders: boolean;
  watch: boolean;
}

export const lsCommand = defineCommand<LsCommandOptions>({
  name: 'ls',
  aliases: ['list'],
  usage: '',
  summary: 'List locks',
  description:
    'List the locks in the namespace (all namespaces with -A): who holds each, since when, until when and why. ' +
    'STATUS is Held or Expired (an expired lock may be taken over by the next acquire). ' +
    'Locks taken by programs using the Go lock library are listed too, REASON <Go library>. ' +
    'With -w, after the table, print one row per change as it happens, in the same columns, until interrupted ' +
    '(Ctrl-C): a lock taken, renewed or taken over, a lease running out (STATUS Expired) and a lock released ' +
    '(STATUS Released). With -o json or yaml, one event per change: {"type": ADDED|MODIFIED|DELETED|EXPIRED, ' +
    '"object": {...}}, JSON one a line.',
  examples: [
    { comment: 'Locks in the current namespace', command: 'kubectl cmlock ls' },
    { comment: 'Locks everywhere, with user, host, fencing token and owner', command: 'kubectl cmlock ls -A -o wide' },
    { comment: 'Names of the locks of one team, for scripts', command: 'kubectl cmlock ls -l team=db -o name' },
    { comment: 'Watch locks being taken and released, in every namespace', command: 'kubectl cmlock ls -A -w' },
    {
      comment: 'Every change as one JSON line, for a script',
      command: "kubectl cmlock ls -w -o json | jq -r '[.type, .object.name, .object.holder] | @tsv'",
    },
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

  longRunning: (o) => o.watch,
  parse(args) {
    if (args.positionals.length > 0) {
      throw new UsageError(
        `ls takes no arguments, got: ${args.positionals.join(' ')} (use -l to select locks by label)`,
      );
    }
    noRest(args);
    const options: LsCommandOptions = {
      allNamespaces: args.flag(OPTIONS.allNamespaces),
      noHeaders: args.flag(OPTIONS.noHeaders),
      watch: args.flag(OPTIONS.watch),
    };
    const selector = args.list(OPTIONS.selector).filter((s) => s !== '');
    if (selector.length > 0) options.selector = selector.join(',');
    const output = outputFormat(args.string(OPTIONS.output), FORMATS);
    if (output !== undefined) options.output = output;
    return options;
  },

  async run(rt, global, o) {
    const conn = await openConnection(rt, global, { allNamespaces: o.allNamespaces });
    if (o.watch) return watch(rt, conn, o);
    const locks = await list(conn.lockContext(observer(rt, conn)), {
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

/** `ls -w`: runs until interrupted; main.ts then exits quietly with 130 (SIGINT) or 143 (SIGTERM). */
async function watch(rt: Runtime, conn: Connection, o: LsCommandOptions): Promise<number> {
  const printer = new LockWatchPrinter({
    output: o.output ?? 'table',
    allNamespaces: o.allNamespaces,
    noHeaders: o.noHeaders,
  });
  return watchLocks(
    conn.lockContext(observer(rt, conn)),
    { labelSelector: o.selector, allNamespaces: o.allNamespaces, signal: rt.signal },
    {
      listed(locks, now) {
        if (locks.length === 0 && o.output === undefined) {
          const where = o.allNamespaces ? '' : ` in namespace "${conn.namespace}"`;
          rt.stderr.write(`No locks found${where} yet; watching for changes.\n`);
        }
        rt.stdout.write(printer.listed(locks, now));
      },
      changed(change, now) {
        rt.stdout.write(printer.changed(change, now));
      },
    },
  );
}
