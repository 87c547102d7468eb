// Argument normalisation with kubectl's (pflag's) rules, before yargs sees the arguments: `-nkube-system`,
// `-ojson`, `--timeout -1s`, `-v9`, `--v=9`, `-Al x` all mean what they mean to kubectl. Every flag is rewritten
// to `--long` or `--long=value`, so yargs never guesses whether `-1s` is a value or a cluster of flags. Unknown
// flags are reported here, with pflag's words.

import { UsageError } from '../errors.ts';
import { HELP, type OptionSpec } from './options.ts';

export interface CommandFlags {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly options: readonly OptionSpec[];
}

export interface NormalizedArgs {
  /** The canonical command name; undefined when none was given (only valid with --help). */
  readonly command: string | undefined;
  /** The arguments for yargs: `--long`, `--long=value`, positionals, then `--` and everything after it verbatim. */
  readonly args: string[];
  readonly help: boolean;
}

const BOOL_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Commands close to a mistyped one, like cobra's "Did you mean this?". */
function suggestCommands(typed: string, names: readonly string[]): string[] {
  return names.filter((n) => n.startsWith(typed) || editDistance(typed, n) <= 2);
}

/** A token that is a value even though it starts with a dash: `-1s`, `-5`, `-`. */
function looksLikeValue(token: string): boolean {
  return !token.startsWith('-') || token === '-' || /^-[0-9.]/.test(token);
}

interface FlagTable {
  long: Map<string, OptionSpec>;
  short: Map<string, OptionSpec>;
}

function flagTable(options: readonly OptionSpec[]): FlagTable {
  const table: FlagTable = { long: new Map(), short: new Map() };
  for (const o of options) {
    table.long.set(o.long, o);
    if (o.short !== undefined) table.short.set(o.short, o);
  }
  // kubectl spells the verbosity flag --v; accept both.
  const verbose = table.long.get('verbose');
  if (verbose !== undefined) table.long.set('v', verbose);
  return table;
}

function boolValue(value: string, shown: string): string {
  if (BOOL_TRUE.has(value)) return 'true';
  if (BOOL_FALSE.has(value)) return 'false';
  throw new UsageError(`invalid argument "${value}" for "${shown}" flag: must be true or false`);
}

/**
 * Rewrites one flag token (and, for a flag that takes a value, possibly the next token) into yargs' form.
 * Returns how many tokens were consumed.
 */
function rewriteFlag(tokens: readonly string[], i: number, table: FlagTable, out: string[]): number {
  const token = tokens[i] ?? '';
  const next = tokens[i + 1];
  const takeValue = (spec: OptionSpec, inline: string | undefined, shown: string): number => {
    if (inline !== undefined) {
      out.push(`--${spec.long}=${inline}`);
      return 1;
    }
    if (next === undefined || !looksLikeValue(next)) throw new UsageError(`flag needs an argument: ${shown}`);
    out.push(`--${spec.long}=${next}`);
    return 2;
  };

  if (token.startsWith('--')) {
    const eq = token.indexOf('=');
    const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const spec = table.long.get(name);
    if (spec === undefined) throw new UsageError(`unknown flag: --${name}`);
    if (spec.kind !== 'boolean') return takeValue(spec, inline, `--${name}`);
    out.push(inline === undefined ? `--${spec.long}` : `--${spec.long}=${boolValue(inline, `--${name}`)}`);
    return 1;
  }

  // A cluster of one-letter flags: -A, -Al x, -ojson, -n=x, -v9.
  for (let j = 1; j < token.length; j++) {
    const letter = token.charAt(j);
    const spec = table.short.get(letter);
    if (spec === undefined) throw new UsageError(`unknown shorthand flag: '${letter}' in ${token}`);
    const rest = token.slice(j + 1);
    if (spec.kind === 'boolean') {
      if (rest.startsWith('=')) {
        out.push(`--${spec.long}=${boolValue(rest.slice(1), `-${letter}`)}`);
        return 1;
      }
      out.push(`--${spec.long}`);
      continue;
    }
    if (rest !== '') return takeValue(spec, rest.startsWith('=') ? rest.slice(1) : rest, `-${letter}`);
    return takeValue(spec, undefined, `-${letter}`);
  }
  return 1;
}

/** Finds the command: the first positional, skipping the values of the global flags before it. */
function findCommand(tokens: readonly string[], globals: FlagTable): number {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (t === '--') return -1;
    if (looksLikeValue(t)) return i;
    const eq = t.indexOf('=');
    const spec = t.startsWith('--')
      ? globals.long.get(t.slice(2, eq < 0 ? undefined : eq))
      : t.length === 2
        ? globals.short.get(t.charAt(1))
        : undefined;
    if (spec !== undefined && spec.kind !== 'boolean' && eq < 0) i++;
  }
  return -1;
}

export function normalizeArgs(
  tokens: readonly string[],
  commands: readonly CommandFlags[],
  globalOptions: readonly OptionSpec[],
): NormalizedArgs {
  const flags = tokens.slice(0, tokens.includes('--') ? tokens.indexOf('--') : undefined);
  const wantsHelp = flags.includes('--help') || flags.includes('-h');
  const list = tokens;
  const at = findCommand(list, flagTable(globalOptions));
  // `kubectl cmlock help [COMMAND]` is `kubectl cmlock [COMMAND] --help`, as with cobra.
  if (at >= 0 && list[at] === 'help') {
    return normalizeArgs([...list.slice(0, at), ...list.slice(at + 1), '--help'], commands, globalOptions);
  }
  let command: CommandFlags | undefined;
  if (at >= 0) {
    const typed = list[at] ?? '';
    command = commands.find((c) => c.name === typed || (c.aliases ?? []).includes(typed));
    if (command === undefined) {
      const names = commands.map((c) => c.name).filter((n) => !n.startsWith('__'));
      const similar = suggestCommands(typed, names);
      const hint = similar.length > 0 ? `; did you mean ${similar.map((s) => `"${s}"`).join(' or ')}?` : '';
      throw new UsageError(`unknown command "${typed}" for "kubectl cmlock"${hint}`);
    }
  } else if (!wantsHelp) {
    const names = commands.map((c) => c.name).filter((n) => !n.startsWith('__'));
    throw new UsageError(`no command given; use one of: ${names.join(', ')}`);
  }

  const table = flagTable([...globalOptions, ...(command?.options ?? []), HELP]);
  const out: string[] = [];
  for (let i = 0; i < list.length;) {
    const t = list[i] ?? '';
    if (t === '--') {
      out.push(...list.slice(i));
      break;
    }
    if (i === at && command !== undefined) {
      out.push(command.name);
      i++;
    } else if (looksLikeValue(t)) {
      out.push(t);
      i++;
    } else {
      i += rewriteFlag(list, i, table, out);
    }
  }
  return { command: command?.name, args: out, help: wantsHelp };
}

/** Index of the command word in `tokens`, or -1 (for completion, which must not throw on half-typed input). */
export function commandIndex(tokens: readonly string[], globalOptions: readonly OptionSpec[]): number {
  return findCommand(tokens, flagTable(globalOptions));
}
