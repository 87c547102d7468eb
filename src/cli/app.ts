// The command line: argv -> (kubectl-style normalisation) -> yargs with an explicit command list -> a validated
// Invocation -> run. Nothing here touches process.*; src/main.ts passes the Runtime and maps errors to exits.

import yargs, { type Argv } from 'yargs';
import { UsageError } from '../errors.ts';
import { commandIndex, normalizeArgs } from './argv.ts';
import { parsedArgs, parseGlobalOptions, type Command, type Invocation } from './command.ts';
import { acquireCommand } from './commands/acquire.ts';
import { completeInvocation, completionCommand } from './commands/completion.ts';
import { describeCommand } from './commands/describe.ts';
import { lsCommand } from './commands/ls.ts';
import { releaseCommand } from './commands/release.ts';
import { renewCommand } from './commands/renew.ts';
import { runCommand } from './commands/run.ts';
import { versionCommand } from './commands/version.ts';
import { waitCommand } from './commands/wait.ts';
import { commandUsage, epilogue, rootUsage } from './help.ts';
import { withHint } from './hints.ts';
import { GLOBAL_OPTIONS, type OptionSpec } from './options.ts';
import type { Runtime } from './runtime.ts';

/** Every command, in the order help lists them. No commandDir: it cannot be bundled. */
export const COMMANDS: readonly Command[] = [
  acquireCommand,
  releaseCommand,
  renewCommand,
  lsCommand,
  describeCommand,
  waitCommand,
  runCommand,
  versionCommand,
  completionCommand,
];

export type ParseResult =
  { readonly kind: 'help'; readonly text: string } | { readonly kind: 'run'; readonly invocation: Invocation };

export interface ParseSettings {
  /** Help is wrapped to this width (at most 100 columns). */
  columns?: number;
}

const HIDE_TYPES = { 'hide-types': true };
type WithUsageConfig = Argv & { usageConfiguration(config: typeof HIDE_TYPES): Argv };

function addOptions(y: Argv, options: readonly OptionSpec[], global: boolean): Argv {
  for (const o of options) {
    y.option(o.long, {
      alias: o.short,
      type: o.kind === 'boolean' ? 'boolean' : 'string',
      array: o.kind === 'list',
      requiresArg: o.kind !== 'boolean',
      // yargs' "[default: ...]" goes with the types we hide; say it in the description, as kubectl does.
      describe:
        o.defaultText === undefined ? o.describe : `${o.describe.replace(/\.$/, '')} (default: ${o.defaultText}).`,
      global,
    });
  }
  return y;
}

function build(columns: number, onCommand: (command: Command, argv: Readonly<Record<string, unknown>>) => void): Argv {
  const width = Math.min(columns, 100);
  const y = yargs()
    .scriptName('kubectl cmlock')
    .strict()
    .exitProcess(false)
    .version(false)
    .help('help')
    .alias('help', 'h')
    .describe('help', 'Show help.')
    .wrap(null)
    .parserConfiguration({
      'boolean-negation': false,
      'populate--': true,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      // kubectl's -l takes one value per flag: `acquire -l team=db mylock` must leave mylock as the NAME.
      'greedy-arrays': false,
    })
    .fail((message, error) => {
      throw error instanceof UsageError ? error : new UsageError(yargsMessage(message, error));
    });
  (y as WithUsageConfig).usageConfiguration(HIDE_TYPES);
  addOptions(y, GLOBAL_OPTIONS, true);
  y.group([...GLOBAL_OPTIONS.map((o) => o.long), 'help'], 'Global Flags:');
  y.usage(rootUsage(COMMANDS, width)).epilogue(epilogue());
  for (const command of COMMANDS) {
    const positional = command.positional?.name ?? 'ARGS';
    y.command({
      command: `${command.name} [${positional}..]`,
      aliases: command.aliases === undefined ? [] : [...command.aliases],
      describe: false,
      builder: (cy: Argv) => {
        addOptions(cy, command.options, false);
        if (command.positional !== undefined) {
          cy.positional(positional, { describe: command.positional.describe, type: 'string' });
        }
        if (command.options.length > 0)
          cy.group(
            command.options.map((o) => o.long),
            'Flags:',
          );
        return cy.usage(commandUsage(command, width)).epilogue(epilogue());
      },
      handler: (argv) => onCommand(command, argv),
    });
  }
  return y;
}

/** yargs' own messages (few reach here: flags are checked by normalizeArgs) as one lowercase line. */
function yargsMessage(message: string | null | undefined, error: Error | null | undefined): string {
  const text = message ?? error?.message ?? 'invalid arguments';
  const unknown = /^Unknown arguments?: (.*)$/.exec(text);
  if (unknown !== null) return `unexpected argument: ${unknown[1] ?? ''}`;
  return text.charAt(0).toLowerCase() + text.slice(1).replace(/\n/g, ' ');
}

/** Parses and validates the arguments; no I/O. Throws UsageError. */
export async function parseArgs(args: readonly string[], settings: ParseSettings = {}): Promise<ParseResult> {
  if (args[0] === '__complete') return { kind: 'run', invocation: completeInvocation(args.slice(1), COMMANDS) };
  const normalized = normalizeArgs(args, COMMANDS, GLOBAL_OPTIONS);
  let captured: { command: Command; argv: Readonly<Record<string, unknown>> } | undefined;
  const y = build(settings.columns ?? 80, (command, argv) => {
    captured = { command, argv };
  });
  const output = await new Promise<string>((resolve, reject) => {
    try {
      void y.parse(normalized.args, {}, (error, _argv, text) => (error ? reject(error) : resolve(text)));
    } catch (error) {
      reject(error);
    }
  });
  if (normalized.help || captured === undefined)
    return { kind: 'help', text: output.endsWith('\n') ? output : `${output}\n` };
  const { command, argv } = captured;
  const positional = command.positional?.name ?? 'ARGS';
  const parsed = parsedArgs(argv, positional, normalized.args.includes('--'));
  return { kind: 'run', invocation: command.prepare(parsed, parseGlobalOptions(parsed)) };
}

/** Runs the command line; returns the exit code. Errors are thrown for src/main.ts to print. */
export async function runCli(rt: Runtime): Promise<number> {
  const parsed = await parseArgs(rt.argv, { columns: rt.stdout.columns });
  if (parsed.kind === 'help') {
    rt.stdout.write(parsed.text);
    return 0;
  }
  rt.workload?.(parsed.invocation.longRunning ? 'long-running' : 'one-shot');
  try {
    return await parsed.invocation.run(rt);
  } catch (err) {
    throw withHint(err);
  }
}

/** The line under a usage error: where to read more. */
export function usageHint(args: readonly string[]): string {
  const word = args[commandIndex(args, GLOBAL_OPTIONS)];
  const command = COMMANDS.find((c) => c.name === word || (c.aliases ?? []).some((a) => a === word));
  return command === undefined ? "see 'kubectl cmlock --help'" : `see 'kubectl cmlock ${command.name} --help'`;
}

/** The -v level, read leniently even from arguments that failed to parse (for printing the error). */
export function peekVerbosity(args: readonly string[]): number {
  let level = 0;
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  for (let i = 0; i < end; i++) {
    const m = /^(?:-v|--v|--verbose)(?:=?(\d+))?$/.exec(args[i] ?? '');
    if (m === null) continue;
    const value = m[1] ?? args[i + 1];
    if (value !== undefined && /^\d+$/.test(value)) level = Number(value);
  }
  return level;
}
