// kubectl cmlock completion bash|zsh|fish: print a completion script. The scripts call the hidden
// `__complete` command, which answers from the option table and, for lock names, namespaces and contexts, from
// the cluster (best effort: a completion never prints an error).

import { LinkedAbort } from '../../lock/abort.ts';
import { UsageError } from '../../errors.ts';
import { listLocks } from '../../lock/listing.ts';
import type { Command, GlobalOptions, Invocation } from '../command.ts';
import { defineCommand, noRest } from '../command.ts';
import { complete, completionScript, renderCompletion, SHELLS, type CompletionLookup } from '../completion.ts';
import type { Runtime } from '../runtime.ts';
import { openConnection } from '../connection.ts';

export interface CompletionCommandOptions {
  shell: (typeof SHELLS)[number];
}

export const completionCommand = defineCommand<CompletionCommandOptions>({
  name: 'completion',
  usage: 'bash|zsh|fish',
  positional: { name: 'SHELL', describe: 'bash, zsh or fish.' },
  summary: 'Print a shell completion script',
  description:
    'Print a completion script for kubectl-cmlock; lock names, namespaces and contexts complete from the ' +
    'cluster. For `kubectl cmlock <TAB>` (kubectl 1.26+), put an executable `kubectl_complete-cmlock` on your ' +
    'PATH that runs `kubectl-cmlock __complete "$@"`.',
  examples: [
    { comment: 'bash, for this shell', command: 'source <(kubectl cmlock completion bash)' },
    { comment: 'zsh, for this shell', command: 'source <(kubectl cmlock completion zsh)' },
    {
      comment: 'fish, for good',
      command: 'kubectl cmlock completion fish > ~/.config/fish/completions/kubectl-cmlock.fish',
    },
    {
      comment:
        'For `kubectl cmlock <TAB>` (kubectl 1.26+): a kubectl_complete-cmlock on PATH (the release archives ship ' +
        'one; Krew does not link it). Check with: kubectl __complete cmlock ""',
      command:
        'printf \'#!/bin/sh\\nexec kubectl-cmlock __complete "$@"\\n\' > ~/.local/bin/kubectl_complete-cmlock && ' +
        'chmod +x ~/.local/bin/kubectl_complete-cmlock',
    },
  ],
  options: [],

  parse(args) {
    noRest(args);
    const [shell, ...extra] = args.positionals;
    if (shell === undefined) throw new UsageError('a shell is required: kubectl cmlock completion bash|zsh|fish');
    if (extra.length > 0) throw new UsageError(`completion takes one shell, got: ${args.positionals.join(' ')}`);
    const known = SHELLS.find((s) => s === shell);
    if (known === undefined) throw new UsageError(`unsupported shell "${shell}": use bash, zsh or fish`);
    return { shell: known };
  },

  run(rt, _global, o) {
    rt.stdout.write(completionScript(o.shell));
    return Promise.resolve(0);
  },
});

/** How long completion waits for the cluster: a slow server must not freeze the user's shell. */
const LOOKUP_TIMEOUT_MS = 3000;

function clusterLookup(rt: Runtime): CompletionLookup {
  const open = (target: { kubeconfig?: string; context?: string; namespace?: string }) => {
    const g: GlobalOptions = { ...target, requestTimeoutMs: LOOKUP_TIMEOUT_MS, verbosity: 0 };
    return openConnection(rt, g, { quiet: true });
  };
  // One deadline for the whole lookup, retries included (the client retries reads that fail).
  const deadline = () => new LinkedAbort(rt.signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)).signal;
  return {
    async lockNames(target) {
      try {
        const conn = await open(target);
        // The names `ls` lists: cmlock's locks and the Go library's.
        const { value } = await listLocks(conn.session.store(), {}, { signal: deadline() });
        return value.map((l) => l.name).sort();
      } catch {
        return [];
      }
    },
    async namespaces(target) {
      let current: string | undefined;
      try {
        const conn = await open(target);
        current = conn.namespace;
        return (await conn.session.listNamespaces(deadline())).sort();
      } catch {
        // Lock users often may not list namespaces: offer the context's own.
        return current === undefined ? [] : [current];
      }
    },
    async contexts(target) {
      try {
        return (await open({ kubeconfig: target.kubeconfig })).session.listContexts();
      } catch {
        return [];
      }
    },
  };
}

/** `kubectl-cmlock __complete WORD... CURRENT`. */
export function completeInvocation(words: readonly string[], commands: readonly Command[]): Invocation {
  return {
    command: '__complete',
    global: { requestTimeoutMs: LOOKUP_TIMEOUT_MS, verbosity: 0 },
    options: { words: [...words] },
    longRunning: false,
    async run(rt) {
      rt.stdout.write(renderCompletion(await complete(words, commands, clusterLookup(rt))));
      return 0;
    },
  };
}
