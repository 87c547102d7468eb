// Shell completion. The scripts call `kubectl-cmlock __complete WORD... CURRENT`, which prints one candidate a
// line (optionally `\t` and a description) and a last line `:DIRECTIVE`, the protocol of cobra's __complete.
// The same output therefore serves kubectl's plugin completion: a `kubectl_complete-cmlock` executable on PATH
// that runs `kubectl-cmlock __complete "$@"` completes `kubectl cmlock <TAB>`.

import { commandIndex } from './argv.ts';
import type { Command } from './command.ts';
import { GLOBAL_OPTIONS, HELP, type OptionSpec } from './options.ts';

/** cobra's ShellCompDirective values we use. */
export const Directive = { default: 0, noFileComp: 4 } as const;

export interface Completion {
  candidates: string[];
  directive: number;
}

/** What completion may ask the cluster; every call is best effort. */
export interface CompletionLookup {
  lockNames(target: CompletionTarget): Promise<string[]>;
  namespaces(target: CompletionTarget): Promise<string[]>;
  contexts(target: CompletionTarget): Promise<string[]>;
}

/** The connection flags typed so far. */
export interface CompletionTarget {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

function targetOf(tokens: readonly string[]): CompletionTarget {
  const target: CompletionTarget = {};
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    const m = /^(?:--(kubeconfig|context|namespace)|-(n))(?:=(.*))?$/.exec(t);
    if (m === null) continue;
    const key = m[1] ?? 'namespace';
    const value = m[3] ?? tokens[++i];
    if (value === undefined) continue;
    if (key === 'kubeconfig') target.kubeconfig = value;
    else if (key === 'context') target.context = value;
    else target.namespace = value;
  }
  return target;
}

function valueFlag(token: string, options: readonly OptionSpec[]): OptionSpec | undefined {
  const spec = token.startsWith('--')
    ? options.find((o) => `--${o.long}` === token)
    : options.find((o) => o.short !== undefined && `-${o.short}` === token);
  return spec !== undefined && spec.kind !== 'boolean' ? spec : undefined;
}

async function values(spec: OptionSpec, target: CompletionTarget, lookup: CompletionLookup): Promise<Completion> {
  if (spec.long === 'kubeconfig') return { candidates: [], directive: Directive.default };
  let candidates: string[] = [...(spec.choices ?? [])];
  if (spec.long === 'namespace') candidates = await lookup.namespaces(target);
  if (spec.long === 'context') candidates = await lookup.contexts(target);
  return { candidates, directive: Directive.noFileComp };
}

function flagCandidates(current: string, options: readonly OptionSpec[]): string[] {
  const out: string[] = [];
  for (const o of options) {
    out.push(`--${o.long}\t${o.describe}`);
    if (o.short !== undefined && !current.startsWith('--')) out.push(`-${o.short}\t${o.describe}`);
  }
  return out;
}

/** Candidates for the last word of `words` (the words after the program name; the last may be ''). */
export async function complete(
  words: readonly string[],
  commands: readonly Command[],
  lookup: CompletionLookup,
): Promise<Completion> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  if (before.includes('--')) return { candidates: [], directive: Directive.default };
  const at = commandIndex(before, GLOBAL_OPTIONS);
  const command =
    at < 0 ? undefined : commands.find((c) => c.name === before[at] || (c.aliases ?? []).includes(before[at] ?? ''));
  const options = [...GLOBAL_OPTIONS, ...(command?.options ?? []), HELP];
  const target = targetOf(before);

  let result: Completion = { candidates: [], directive: Directive.noFileComp };
  const previous = valueFlag(before.at(-1) ?? '', options);
  const inline = /^(--[^=]+)=(.*)$/.exec(current);
  if (previous !== undefined) {
    result = await values(previous, target, lookup);
  } else if (inline !== null) {
    const spec = valueFlag(inline[1] ?? '', options);
    if (spec !== undefined) {
      const r = await values(spec, target, lookup);
      result = { candidates: r.candidates.map((c) => `${inline[1]}=${c}`), directive: r.directive };
    }
  } else if (current.startsWith('-')) {
    result.candidates = flagCandidates(current, options);
  } else if (command === undefined) {
    result.candidates = commands.filter((c) => !c.name.startsWith('__')).map((c) => `${c.name}\t${c.summary}`);
  } else if (command.name === 'completion') {
    result.candidates = [...SHELLS];
  } else if (command.positional !== undefined) {
    const positionals = before
      .slice(at + 1)
      .filter((t, i, all) => !t.startsWith('-') && valueFlag(all[i - 1] ?? '', options) === undefined);
    if (positionals.length === 0) result.candidates = await lookup.lockNames(target);
  }
  result.candidates = result.candidates.filter((c) => c.startsWith(current));
  return result;
}

/** The `__complete` output. */
export function renderCompletion(c: Completion): string {
  return [...c.candidates, `:${c.directive}`].join('\n') + '\n';
}

const BASH = `# bash completion for kubectl-cmlock. Load it with:
#   source <(kubectl-cmlock completion bash)
# (For \`kubectl cmlock <TAB>\`, kubectl 1.26+ runs kubectl_complete-cmlock instead: see its --help.)
_kubectl_cmlock() {
  # bash splits --flag=value and a:b into several words (COMP_WORDBREAKS): glue them back for __complete,
  # and reply with only the part after the piece bash is completing.
  local -a words=()
  local i w glue=0 out directive
  for ((i = 1; i <= COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if ((\${#words[@]} > 0)) && [[ $w == [=:] || $glue == 1 ]]; then
      words[\${#words[@]}-1]+=$w
      [[ $w == [=:] ]] && glue=1 || glue=0
    else
      words+=("$w")
      glue=0
    fi
  done
  local cur=\${COMP_WORDS[COMP_CWORD]} full=\${words[\${#words[@]}-1]}
  local prefix=\${full%"$cur"}
  out=$(kubectl-cmlock __complete "\${words[@]}" 2>/dev/null) || return 0
  directive=\${out##*:}
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(printf '%s\\n' "$out" | sed '$d' | cut -f1 | while IFS= read -r w; do
    printf '%s\\n' "\${w#"$prefix"}"; done)" -- "$cur"))
  if [[ \${#COMPREPLY[@]} -eq 0 && $directive != 4 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}
complete -F _kubectl_cmlock kubectl-cmlock
`;

const ZSH = `#compdef kubectl-cmlock
# zsh completion for kubectl-cmlock. Load it with:
#   source <(kubectl-cmlock completion zsh)
_kubectl_cmlock() {
  local -a lines candidates
  local directive line
  lines=("\${(@f)$(kubectl-cmlock __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  directive=\${lines[-1]#:}
  for line in "\${(@)lines[1,-2]}"; do
    if [[ $line == *$'\\t'* ]]; then
      candidates+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    else
      candidates+=("\${line//:/\\\\:}")
    fi
  done
  if (( \${#candidates} )); then
    _describe 'kubectl-cmlock' candidates
  elif [[ $directive != 4 ]]; then
    _files
  fi
}
compdef _kubectl_cmlock kubectl-cmlock
`;

const FISH = `# fish completion for kubectl-cmlock. Load it with:
#   kubectl-cmlock completion fish | source
function __kubectl_cmlock_complete
    set -l out (kubectl-cmlock __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)
    set -e out[-1]
    printf '%s\\n' $out
end
complete -c kubectl-cmlock -f -a '(__kubectl_cmlock_complete)'
`;

export function completionScript(shell: (typeof SHELLS)[number]): string {
  switch (shell) {
    case 'bash':
      return BASH;
    case 'zsh':
      return ZSH;
    case 'fish':
      return FISH;
  }
}
