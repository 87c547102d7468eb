// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The import arrows of docs/architecture.md. Each part lists the parts it must never import; an import string
 * names a part by the folder right after its chain of `../` (`../kube/x.ts`, `../../output/y.ts`).
 * @type {Record<string, { never: string[], typesOnly?: string[], why: string }>}
 */
const PARTS = {
  errors: {
    never: ['main', 'cli', 'kube', 'lock', 'output', 'run', 'lib'],
    why: 'errors.ts is the root every part shares',
  },
  lock: {
    never: ['main', 'cli', 'kube', 'output', 'run', 'lib'],
    why: 'src/lock knows no client, command line or screen',
  },
  kube: {
    never: ['main', 'cli', 'output', 'run', 'lib'],
    why: 'src/kube implements the lock store; it knows no command',
  },
  output: { never: ['main', 'cli', 'kube', 'run', 'lib'], why: 'src/output renders lock data; it talks to nothing' },
  run: { never: ['main', 'cli', 'kube', 'output', 'lib'], why: 'src/run supervises CMD over the lock API alone' },
  cli: {
    never: ['main', 'lib'],
    typesOnly: ['kube'],
    why: 'src/cli gets the Kubernetes session through Runtime.connect (loaded on first use)',
  },
  lib: {
    never: ['main', 'cli', 'output', 'run'],
    typesOnly: ['kube'],
    why: 'src/lib is the library: the protocol for programs, with no command line, and src/kube loaded by import() on first use',
  },
};

/** `(../)+part/` or `(../)+part.ts`: an import of that part from anywhere below src/. */
const partRegex = (names) => `^(\\.\\./)+(${names.join('|')})(/|\\.ts$)`;

/** Entry points besides src/main.ts that read process.env. */
const ENV_READERS = ['src/sea-main.ts', 'src/lib/system.ts'];

const CLIENT_NODE = {
  name: '@kubernetes/client-node',
  message: 'Only src/kube/ imports the Kubernetes client.',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cluster/', '.cache/', 'test/control-plane/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    // Only the entry point touches argv, env and exit codes; the environment is read by the entry points alone
    // (the executable's loader, and the library's System), and handed down from there.
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Throw a CmlockError; only src/main.ts exits.' },
        { object: 'process', property: 'argv', message: 'Only src/main.ts reads argv.' },
        {
          object: 'AbortSignal',
          property: 'any',
          message:
            'Use LinkedAbort (src/lock/abort.ts): Node keeps AbortSignal.any() composites of a long-lived signal.',
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts', ...ENV_READERS],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Throw a CmlockError; only src/main.ts exits.' },
        { object: 'process', property: 'argv', message: 'Only src/main.ts reads argv.' },
        {
          object: 'process',
          property: 'env',
          message: 'Only the entry points read the environment; take it as an argument.',
        },
      ],
    },
  },
  { files: ['src/main.ts'], rules: { 'no-restricted-imports': ['error', { paths: [CLIENT_NODE] }] } },
  ...Object.entries(PARTS).map(([part, rule]) => ({
    files: part === 'errors' ? ['src/errors.ts'] : [`src/${part}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: part === 'kube' ? [] : [CLIENT_NODE],
          patterns: [
            { regex: partRegex(rule.never), message: `${rule.why} (docs/architecture.md).` },
            ...(rule.typesOnly
              ? [{ regex: partRegex(rule.typesOnly), allowTypeImports: true, message: `${rule.why}: types only.` }]
              : []),
          ],
        },
      ],
    },
  })),
);
