// Every option is defined once, here; the table drives the yargs flags, --help, argv normalisation and shell
// completion. Commands pick entries and may override the default shown in help or the description.

export type OptionKind = 'string' | 'boolean' | 'list';

export interface OptionSpec {
  /** Long name: `--ttl`. Also the argv key. */
  readonly long: string;
  /** One-letter alias: `-n`. */
  readonly short?: string;
  /** `string` takes one value (the last one wins, like kubectl); `list` repeats and keeps every value. */
  readonly kind: OptionKind;
  readonly describe: string;
  /** The default as help shows it. Values are defaulted by the command, never by yargs. */
  readonly defaultText?: string;
  /** Values for completion and the error message; the command validates them. */
  readonly choices?: readonly string[];
}

export const OPTIONS = {
  // Global flags, as kubectl spells them.
  kubeconfig: {
    long: 'kubeconfig',
    kind: 'string',
    describe: 'Path to the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config).',
  },
  context: { long: 'context', kind: 'string', describe: 'The name of the kubeconfig context to use.' },
  namespace: {
    long: 'namespace',
    short: 'n',
    kind: 'string',
    describe: 'Namespace of the lock (default: the context\'s namespace, else "default").',
  },
  requestTimeout: {
    long: 'request-timeout',
    kind: 'string',
    defaultText: '0',
    describe: 'How long to wait for one server request (e.g. 1s, 2m, 3h; a bare number is seconds; 0 = built-in).',
  },
  verbose: {
    long: 'verbose',
    short: 'v',
    kind: 'string',
    defaultText: '0',
    describe: 'Diagnostics level on stderr, also --v=N (4 and up add stack traces to errors).',
  },

  // Command flags.
  ttl: {
    long: 'ttl',
    kind: 'string',
    describe: 'How long the lock lives without renewal (e.g. 30m, 1h30m; 0 = never expires).',
  },
  timeout: {
    long: 'timeout',
    kind: 'string',
    defaultText: '-1s, wait without limit',
    describe: 'How long to wait while someone else holds the lock (0 = try once, negative = no limit).',
  },
  reason: { long: 'reason', kind: 'string', describe: 'Why you take the lock; shown to everyone who finds it held.' },
  identity: {
    long: 'identity',
    kind: 'string',
    describe: 'Who holds the lock (default: $CMLOCK_IDENTITY, else pod/NAMESPACE/NAME in a Pod, else USER@HOST).',
  },
  owner: {
    long: 'owner',
    kind: 'string',
    describe:
      'pod/NAME in the lock\'s namespace: the lock is deleted with that Pod (default: this Pod, from $POD_NAME and $POD_NAMESPACE, else the hostname; "none" for no Pod: the lock then owns itself).',
  },
  labels: {
    long: 'labels',
    short: 'l',
    kind: 'list',
    describe: 'Labels to set on the lock, k=v (repeat the flag or separate with commas).',
  },
  output: { long: 'output', short: 'o', kind: 'string', describe: 'Output format.' },
  force: {
    long: 'force',
    kind: 'boolean',
    describe: 'Break the lock even though someone else holds it (break-glass; recorded as an Event).',
  },
  ignoreNotFound: {
    long: 'ignore-not-found',
    kind: 'boolean',
    describe: 'Succeed when the lock does not exist.',
  },
  allNamespaces: {
    long: 'all-namespaces',
    short: 'A',
    kind: 'boolean',
    describe: 'List locks in all namespaces.',
  },
  selector: {
    long: 'selector',
    short: 'l',
    kind: 'list',
    describe: 'Label selector to filter on (e.g. -l team=db,env!=prod).',
  },
  noHeaders: { long: 'no-headers', kind: 'boolean', describe: 'Do not print the table header.' },
  watch: {
    long: 'watch',
    short: 'w',
    kind: 'boolean',
    describe: 'After listing, print each change as it happens, until interrupted (Ctrl-C).',
  },
  shared: {
    long: 'shared',
    kind: 'boolean',
    describe:
      'A shared hold: shared holders hold the lock together; an exclusive one (the default) holds it alone, and a waiting exclusive request stops later shared ones from going ahead.',
  },
  limit: {
    long: 'limit',
    kind: 'string',
    defaultText: '1',
    describe:
      'A semaphore: up to N holders at once. The limit is stored with the lock; every holder must give the same N (exit 2 otherwise), except on a lock nobody holds or waits for, which takes the new N.',
  },
  holder: {
    long: 'holder',
    kind: 'string',
    describe: 'With --force, on a lock with several holders: break the hold of this identity (see describe).',
  },
  all: {
    long: 'all',
    kind: 'boolean',
    describe: 'With --force: break every hold of the lock (the queue is then served in order).',
  },
  killAfter: {
    long: 'kill-after',
    kind: 'string',
    defaultText: '10s',
    describe: 'When the lock is lost, how long after SIGTERM the command gets SIGKILL.',
  },
} as const satisfies Record<string, OptionSpec>;

/** Flags every command accepts. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  OPTIONS.kubeconfig,
  OPTIONS.context,
  OPTIONS.namespace,
  OPTIONS.requestTimeout,
  OPTIONS.verbose,
];

/** The same option with a command-specific default or description. */
export function withOverrides(
  spec: OptionSpec,
  overrides: Partial<Omit<OptionSpec, 'long' | 'short' | 'kind'>>,
): OptionSpec {
  return { ...spec, ...overrides };
}

/** `-o` for commands printing one lock. */
export const LOCK_OUTPUT = withOverrides(OPTIONS.output, {
  choices: ['json', 'yaml', 'name'],
  describe: 'Output format: json, yaml or name (default: a line for humans).',
});

/** The help flag; yargs handles it, the table only knows it exists. */
export const HELP: OptionSpec = { long: 'help', short: 'h', kind: 'boolean', describe: 'Show help.' };
