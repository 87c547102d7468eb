// The parser as a table: argv -> the validated options a command would run with. Commands are not run: parseArgs
// does no I/O, so each case shows exactly what the flags mean.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../../src/cli/app.ts';

const G = { requestTimeoutMs: 0, verbosity: 0 };
const H = 60 * 60 * 1000;
const M = 60 * 1000;

interface Case {
  argv: string[];
  command: string;
  global?: object;
  options: object;
}

const cases: Case[] = [
  // acquire
  {
    argv: ['acquire', 'x', '--ttl', '30m', '-n', 'ns', '--timeout', '-1s'],
    command: 'acquire',
    global: { ...G, namespace: 'ns' },
    options: { name: 'x', ttlMs: 30 * M, timeoutMs: -1000, reason: '', owner: { kind: 'auto' }, labels: {} },
  },
  {
    argv: ['acquire', 'db-migrate'],
    command: 'acquire',
    options: { name: 'db-migrate', ttlMs: H, timeoutMs: -1, reason: '', owner: { kind: 'auto' }, labels: {} },
  },
  {
    argv: ['acquire', 'x', '--ttl=0', '--timeout=0', '--reason', 'schema v42', '-ojson'],
    command: 'acquire',
    options: {
      name: 'x',
      ttlMs: 0,
      timeoutMs: 0,
      reason: 'schema v42',
      owner: { kind: 'auto' },
      labels: {},
      output: 'json',
    },
  },
  {
    argv: ['acquire', 'x', '-l', 'team=db,env=prod', '--labels=tier=1', '--identity', 'ci/job-7', '--owner', 'pod/p-1'],
    command: 'acquire',
    options: {
      name: 'x',
      ttlMs: H,
      timeoutMs: -1,
      reason: '',
      owner: { kind: 'pod', name: 'p-1' },
      labels: { team: 'db', env: 'prod', tier: '1' },
      identity: 'ci/job-7',
    },
  },
  {
    // A label flag before the name takes one value, as in kubectl; the name stays the positional.
    argv: ['acquire', '-l', 'team=db', 'mylock'],
    command: 'acquire',
    options: {
      name: 'mylock',
      ttlMs: H,
      timeoutMs: -1,
      reason: '',
      owner: { kind: 'auto' },
      labels: { team: 'db' },
    },
  },
  {
    argv: ['acquire', 'x', '--owner=none', '--ttl', '1m', '--ttl', '1h30m', '-o', 'name'],
    command: 'acquire',
    options: {
      name: 'x',
      ttlMs: 90 * M,
      timeoutMs: -1,
      reason: '',
      owner: { kind: 'none' },
      labels: {},
      output: 'name',
    },
  },
  {
    argv: ['-n', 'ns', 'acquire', 'x', '--owner', 'pod/ns/p'],
    command: 'acquire',
    global: { ...G, namespace: 'ns' },
    options: {
      name: 'x',
      ttlMs: H,
      timeoutMs: -1,
      reason: '',
      owner: { kind: 'pod', name: 'p', namespace: 'ns' },
      labels: {},
    },
  },
  // global flags, kubectl's spellings
  {
    argv: ['ls', '-nkube-system', '--kubeconfig', '/tmp/kc', '--context=prod', '-v', '9'],
    command: 'ls',
    global: { ...G, namespace: 'kube-system', kubeconfig: '/tmp/kc', context: 'prod', verbosity: 9 },
    options: { allNamespaces: false, noHeaders: false, watch: false },
  },
  {
    argv: ['ls', '--v=6'],
    command: 'ls',
    global: { ...G, verbosity: 6 },
    options: { allNamespaces: false, noHeaders: false, watch: false },
  },
  {
    argv: ['ls', '-v4'],
    command: 'ls',
    global: { ...G, verbosity: 4 },
    options: { allNamespaces: false, noHeaders: false, watch: false },
  },
  {
    argv: ['ls', '--verbose=2'],
    command: 'ls',
    global: { ...G, verbosity: 2 },
    options: { allNamespaces: false, noHeaders: false, watch: false },
  },
  {
    argv: ['ls', '--request-timeout', '30'],
    command: 'ls',
    global: { ...G, requestTimeoutMs: 30_000 },
    options: { allNamespaces: false, noHeaders: false, watch: false },
  },
  {
    argv: ['ls', '--request-timeout=1m30s', '--kubeconfig='],
    command: 'ls',
    global: { ...G, requestTimeoutMs: 90_000 },
    options: { allNamespaces: false, noHeaders: false, watch: false },
  },
  // ls
  {
    argv: ['ls', '-A', '-l', 'team=db', '-l', 'env!=prod', '-o', 'wide', '--no-headers'],
    command: 'ls',
    options: { allNamespaces: true, noHeaders: true, watch: false, selector: 'team=db,env!=prod', output: 'wide' },
  },
  {
    argv: ['list', '-Aoyaml'],
    command: 'ls',
    options: { allNamespaces: true, noHeaders: false, watch: false, output: 'yaml' },
  },
  {
    argv: ['ls', '-Al', 'a=b'],
    command: 'ls',
    options: { allNamespaces: true, noHeaders: false, watch: false, selector: 'a=b' },
  },
  {
    argv: ['ls', '--all-namespaces=false', '-o=name'],
    command: 'ls',
    options: { allNamespaces: false, noHeaders: false, watch: false, output: 'name' },
  },
  {
    argv: ['ls', '-w', '-o', 'json'],
    command: 'ls',
    options: { allNamespaces: false, noHeaders: false, watch: true, output: 'json' },
  },
  // release, renew
  {
    argv: ['release', 'x', '--force', '--ignore-not-found', '--identity=me'],
    command: 'release',
    options: { name: 'x', force: true, ignoreNotFound: true, identity: 'me' },
  },
  {
    argv: ['release', 'x', '--force=false'],
    command: 'release',
    options: { name: 'x', force: false, ignoreNotFound: false },
  },
  { argv: ['renew', 'x'], command: 'renew', options: { name: 'x' } },
  {
    argv: ['renew', 'x', '--ttl', '2h', '-o', 'yaml'],
    command: 'renew',
    options: { name: 'x', ttlMs: 2 * H, output: 'yaml' },
  },
  // describe, wait
  { argv: ['describe', 'x'], command: 'describe', options: { name: 'x' } },
  { argv: ['describe', 'x', '-o', 'json'], command: 'describe', options: { name: 'x', output: 'json' } },
  { argv: ['wait', 'x'], command: 'wait', options: { name: 'x', timeoutMs: -1, shared: false } },
  {
    argv: ['wait', 'x', '--timeout', '10m'],
    command: 'wait',
    options: { name: 'x', timeoutMs: 10 * M, shared: false },
  },
  { argv: ['wait', '0123'], command: 'wait', options: { name: '0123', timeoutMs: -1, shared: false } },
  { argv: ['wait', 'x', '--shared'], command: 'wait', options: { name: 'x', timeoutMs: -1, shared: true } },
  // run: everything after -- is CMD, untouched
  {
    argv: ['run', 'x', '--', 'sh', '-c', 'echo --ttl -n', '--bogus'],
    command: 'run',
    options: {
      name: 'x',
      command: ['sh', '-c', 'echo --ttl -n', '--bogus'],
      ttlMs: M,
      timeoutMs: -1,
      killAfterMs: 10_000,
      reason: '',
      owner: { kind: 'auto' },
      labels: {},
    },
  },
  {
    argv: ['run', 'x', '--ttl', '5m', '--timeout', '2m', '--kill-after', '30s', '-l', 'a=b', '--', 'make'],
    command: 'run',
    options: {
      name: 'x',
      command: ['make'],
      ttlMs: 5 * M,
      timeoutMs: 2 * M,
      killAfterMs: 30_000,
      reason: '',
      owner: { kind: 'auto' },
      labels: { a: 'b' },
    },
  },
  // version, completion
  { argv: ['version'], command: 'version', options: {} },
  { argv: ['version', '-o', 'json'], command: 'version', options: { output: 'json' } },
  { argv: ['completion', 'zsh'], command: 'completion', options: { shell: 'zsh' } },
  {
    argv: ['__complete', 'acquire', '--ttl', ''],
    command: '__complete',
    global: { requestTimeoutMs: 3000, verbosity: 0 },
    options: { words: ['acquire', '--ttl', ''] },
  },
];

describe('parseArgs: argv -> options', () => {
  for (const c of cases) {
    it(c.argv.join(' '), async () => {
      const parsed = await parseArgs(c.argv);
      assert.equal(parsed.kind, 'run');
      if (parsed.kind !== 'run') return;
      assert.equal(parsed.invocation.command, c.command);
      assert.deepEqual(parsed.invocation.global, c.global ?? G);
      assert.deepEqual(parsed.invocation.options, c.options);
    });
  }
});

describe('parseArgs: help', () => {
  it('--help: description and examples first, then usage, commands, flags and the exit codes last', async () => {
    const parsed = await parseArgs(['--help']);
    assert.equal(parsed.kind, 'help');
    if (parsed.kind !== 'help') return;
    const at = (s: string) => {
      const i = parsed.text.indexOf(s);
      assert.ok(i >= 0, `missing ${s}`);
      return i;
    };
    assert.ok(at('Examples:') < at('Commands:'));
    assert.ok(at('Commands:') < at('Usage:'));
    assert.ok(at('Usage:') < at('Global Flags:'));
    assert.ok(at('Global Flags:') < at('Exit codes:'));
    for (const c of ['acquire', 'release', 'renew', 'ls', 'describe', 'wait', 'run', 'version', 'completion']) {
      assert.match(parsed.text, new RegExp(`^  ${c} +\\S`, 'm'));
    }
    assert.doesNotMatch(parsed.text, /__complete/);
    assert.match(parsed.text, /^ {2}6 +the lock was lost during run/m);
  });

  it('acquire --help shows its examples first, its flags with their defaults, and the exit codes', async () => {
    const parsed = await parseArgs(['acquire', '--help']);
    assert.equal(parsed.kind, 'help');
    if (parsed.kind !== 'help') return;
    assert.ok(parsed.text.indexOf('Examples:') < parsed.text.indexOf('Flags:'));
    assert.match(
      parsed.text,
      /^ {2}# Try once: exit 3 at once if someone else holds it\n {2}kubectl cmlock acquire db-migrate --timeout 0$/m,
    );
    assert.match(parsed.text, /--ttl .*\(default: 1h\)/);
    assert.match(parsed.text, /--timeout .*\(default: -1s, wait without limit\)/);
    assert.match(parsed.text, /-o, --output/);
    assert.match(parsed.text, /Global Flags:[\s\S]*-n, --namespace/);
    assert.match(parsed.text, /Exit codes:\n {2}0 +ok\n/);
    assert.doesNotMatch(parsed.text, /\[string\]|\[boolean\]/);
  });

  it('the help of each command shows its own defaults', async () => {
    const run = await parseArgs(['run', '-h']);
    assert.ok(
      run.kind === 'help' &&
        /--ttl .*\(default: 1m, renewed every 20s\)/.test(run.text) &&
        /--kill-after .*\(default: 10s\)/.test(run.text),
    );
    const renew = await parseArgs(['help', 'renew']);
    assert.ok(renew.kind === 'help' && /--ttl .*\(default: the current lease\)/.test(renew.text));
  });

  it('`help COMMAND` is `COMMAND --help`; --help wins over a missing NAME', async () => {
    assert.deepEqual(await parseArgs(['help', 'ls']), await parseArgs(['ls', '--help']));
    assert.equal((await parseArgs(['acquire', '-h'])).kind, 'help');
  });

  it('a -h after "--" belongs to CMD', async () => {
    const parsed = await parseArgs(['run', 'x', '--', 'ls', '-h']);
    assert.ok(parsed.kind === 'run' && parsed.invocation.command === 'run');
  });
});
