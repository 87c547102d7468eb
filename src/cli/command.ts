// The shape of a command: options (from the shared table) -> parse and validate (pure, no I/O) -> run.

import { UsageError } from '../errors.ts';
import type { ObjectFormat } from '../output/lock.ts';
import { OPTIONS, type OptionSpec } from './options.ts';
import type { Runtime } from './runtime.ts';
import { duration, identity, lockName, namespace as validNamespace, outputFormat } from './validate.ts';

/** What yargs parsed, read through the option table. */
export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Everything after `--`. */
  readonly rest: readonly string[];
  /** `--` was given (even with nothing after it). */
  readonly dashDash: boolean;
  string(spec: OptionSpec): string | undefined;
  flag(spec: OptionSpec): boolean;
  list(spec: OptionSpec): string[];
}

function strings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

export function parsedArgs(
  argv: Readonly<Record<string, unknown>>,
  positionalKey: string,
  dashDash: boolean,
): ParsedArgs {
  return {
    positionals: strings(argv[positionalKey]),
    rest: strings(argv['--']),
    dashDash,
    // Repeated scalar flags: the last one wins, as in kubectl.
    string: (spec) => strings(argv[spec.long]).at(-1),
    flag: (spec) => {
      const v = argv[spec.long];
      return (Array.isArray(v) ? v.at(-1) : v) === true;
    },
    list: (spec) => strings(argv[spec.long]),
  };
}

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** 0 = the built-in default. */
  requestTimeoutMs: number;
  verbosity: number;
}

export function parseGlobalOptions(a: ParsedArgs): GlobalOptions {
  const g: GlobalOptions = { requestTimeoutMs: 0, verbosity: 0 };
  const kubeconfig = a.string(OPTIONS.kubeconfig);
  if (kubeconfig !== undefined && kubeconfig !== '') g.kubeconfig = kubeconfig;
  const context = a.string(OPTIONS.context);
  if (context !== undefined && context !== '') g.context = context;
  const namespace = a.string(OPTIONS.namespace);
  if (namespace !== undefined) g.namespace = validNamespace(namespace);
  const timeout = a.string(OPTIONS.requestTimeout);
  if (timeout !== undefined) g.requestTimeoutMs = duration('request-timeout', timeout, { bareSeconds: true });
  const verbose = a.string(OPTIONS.verbose);
  if (verbose !== undefined) {
    if (!/^\d{1,3}$/.test(verbose)) {
      throw new UsageError(`invalid argument "${verbose}" for "-v, --v" flag: must be a log level such as 0, 4 or 9`);
    }
    g.verbosity = Number(verbose);
  }
  return g;
}

export interface Example {
  /** What it does, shown as a `#` comment above the command line. */
  readonly comment: string;
  readonly command: string;
}

export interface CommandSpec<O extends object> {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** Arguments as the usage line shows them: `NAME`, `NAME -- CMD [ARGS...]`. */
  readonly usage: string;
  /** The positional parameter: its name in help and what it is. */
  readonly positional?: { readonly name: string; readonly describe: string };
  /** One line for the command list. */
  readonly summary: string;
  /** Paragraphs for the command's --help. */
  readonly description: string;
  readonly examples: readonly Example[];
  readonly options: readonly OptionSpec[];
  /** Validates the flags and arguments into options; pure, throws UsageError. */
  parse(args: ParsedArgs, global: GlobalOptions): O;
  /** Whether the command mostly waits (run, wait, ls -w): Runtime.workload. Default: a one-shot command. */
  longRunning?(options: O): boolean;
  /** Does the work; returns the exit code (0 unless the command passes one through). */
  run(rt: Runtime, global: GlobalOptions, options: O): Promise<number>;
}

/** A parsed, validated invocation, ready to run. */
export interface Invocation {
  readonly command: string;
  readonly global: GlobalOptions;
  readonly options: object;
  readonly longRunning: boolean;
  run(rt: Runtime): Promise<number>;
}

/** A command with its option type closed over, so commands of different types fit one list. */
export interface Command extends Omit<CommandSpec<object>, 'parse' | 'run' | 'longRunning'> {
  prepare(args: ParsedArgs, global: GlobalOptions): Invocation;
}

export function defineCommand<O extends object>(spec: CommandSpec<O>): Command {
  return {
    ...spec,
    prepare(args, global) {
      const options = spec.parse(args, global);
      const longRunning = spec.longRunning?.(options) ?? false;
      return { command: spec.name, global, options, longRunning, run: (rt) => spec.run(rt, global, options) };
    },
  };
}

/** The one lock NAME most commands take; nothing may follow `--`. */
export function singleName(command: string, args: ParsedArgs): string {
  const [name, ...extra] = args.positionals;
  if (name === undefined) throw new UsageError(`a lock NAME is required: kubectl cmlock ${command} NAME`);
  if (extra.length > 0) {
    throw new UsageError(
      `${command} takes one lock NAME, got ${args.positionals.length}: ${args.positionals.join(' ')}`,
    );
  }
  noRest(args);
  return lockName(name);
}

/** Arguments after `--` only make sense for `run`. */
export function noRest(args: ParsedArgs): void {
  if (args.rest.length > 0) throw new UsageError(`unexpected arguments after "--": ${args.rest.join(' ')}`);
}

/** --identity, checked; undefined for the default identity. */
export function identityFlag(args: ParsedArgs): string | undefined {
  const value = args.string(OPTIONS.identity);
  return value === undefined ? undefined : identity(value, '--identity');
}

/** -o of the commands that print one lock (json, yaml or name); undefined for the line for humans. */
export function lockOutputFlag(args: ParsedArgs): ObjectFormat | undefined {
  return outputFormat(args.string(OPTIONS.output), ['json', 'yaml', 'name'] as const);
}
