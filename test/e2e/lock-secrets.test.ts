// No token (nor the kubeconfig's key material) appears in any output, at -v 9, whether the command succeeds or
// fails: 403, unknown lock, a server that is not there, a rejected token, an exec credential plugin that works
// and one that fails while printing its secret.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { clusterKubeconfig, cmlock, testNamespace, uniqueName, type RunResult } from './harness.ts';
import { acquireJson, assertErrorLine, show } from './lock-helpers.ts';

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  users: { name: string; user: Record<string, unknown> }[];
  'current-context': string;
}

const tmp = mkdtempSync(join(tmpdir(), 'cmlock-secrets-'));

function readKubeconfig(): Kubeconfig {
  return parse(readFileSync(clusterKubeconfig(), 'utf8')) as Kubeconfig;
}

function writeKubeconfig(name: string, config: Kubeconfig): string {
  const path = join(tmp, name);
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

/** Every secret the tests know of: the static tokens, and the kubeconfig's CA data (kubeconfig content). */
function secrets(): string[] {
  const fromCsv = readFileSync(join(dirname(clusterKubeconfig()), 'tokens.csv'), 'utf8')
    .split('\n')
    .map((line) => line.split(',')[0] ?? '')
    .filter((token) => token.length >= 16);
  const config = readKubeconfig();
  const fromKubeconfig = config.users.map((u) => String(u.user['token'] ?? '')).filter((token) => token !== '');
  const ca = config.clusters.map((c) => String(c.cluster['certificate-authority-data'] ?? '')).filter((d) => d !== '');
  const all = [...new Set([...fromCsv, ...fromKubeconfig, ...ca])];
  assert.ok(fromCsv.length >= 3 && fromKubeconfig.length >= 3, 'the tokens were found');
  return all;
}

/**
 * Neither a secret nor any 12-character piece of its start or end, nor an Authorization header. A failure shows
 * the output with the secrets blotted out, so the test log does not leak them either.
 */
function assertNoSecret(what: string, r: RunResult, extra: string[] = []): void {
  const output = r.stdout + r.stderr;
  const all = [...secrets(), ...extra];
  const blot = (text: string) =>
    all.reduce(
      (t, secret) => [secret, secret.slice(0, 12), secret.slice(-12)].reduce((u, p) => u.replaceAll(p, '<SECRET>'), t),
      text,
    );
  for (const secret of all) {
    for (const piece of [secret, secret.slice(0, 12), secret.slice(-12)]) {
      assert.ok(!output.includes(piece), `${what}: a secret appears in the output:\n${blot(show(r))}`);
    }
  }
  // assert.ok, not doesNotMatch: a failing match would put the raw output in the report.
  assert.ok(!/Bearer\s+[A-Za-z0-9]/i.test(output), `${what}: a bearer token in the output:\n${blot(show(r))}`);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('no token in any output at -v 9, for commands that succeed and commands that fail', async (t) => {
  const ns = await testNamespace(t, 'secrets');
  const name = uniqueName('lock');
  const base = readKubeconfig();
  const lockerToken = String(base.users.find((u) => u.name === 'locker')?.user['token'] ?? '');
  assert.ok(lockerToken);

  // A server that is not there.
  const port = await closedPort();
  const down = structuredClone(base);
  for (const c of down.clusters) c.cluster['server'] = `https://127.0.0.1:${port}`;
  const downPath = writeKubeconfig('down', down);

  // A token the server rejects (401); it must not be printed either.
  const rejectedToken = `rejected-${uniqueName('token')}-0123456789abcdef`;
  const rejected = structuredClone(base);
  for (const u of rejected.users) u.user = { token: rejectedToken };
  const rejectedPath = writeKubeconfig('rejected', rejected);

  // Exec credential plugins: one that hands out locker's token, one that fails after printing a secret.
  const execSecret = `exec-secret-${uniqueName('s')}-fedcba9876543210`;
  const goodPlugin = join(tmp, 'good-credential');
  writeFileSync(
    goodPlugin,
    `#!/bin/sh\necho '${JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: lockerToken },
    })}'\n`,
  );
  const badPlugin = join(tmp, 'bad-credential');
  writeFileSync(badPlugin, `#!/bin/sh\necho "token ${execSecret}"\necho "failed with ${execSecret}" >&2\nexit 1\n`);
  chmodSync(goodPlugin, 0o755);
  chmodSync(badPlugin, 0o755);
  const execConfig = (plugin: string): Kubeconfig => {
    const config = structuredClone(base);
    config.users = [
      {
        name: 'exec',
        user: {
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' },
        },
      },
    ];
    config.contexts = [
      { name: 'exec', context: { cluster: base.clusters[0]?.name ?? '', user: 'exec', namespace: ns } },
    ];
    config['current-context'] = 'exec';
    return config;
  };
  const goodExecPath = writeKubeconfig('good-exec', execConfig(goodPlugin));
  const badExecPath = writeKubeconfig('bad-exec', execConfig(badPlugin));

  const v9 = ['-v', '9'];
  const acquired = await cmlock([
    'acquire',
    name,
    '-n',
    ns,
    '--identity',
    'admin-job',
    '--ttl',
    '5m',
    '-o',
    'json',
    ...v9,
  ]);
  assertNoSecret('acquire', acquired);
  assert.equal(acquired.code, 0, show(acquired));
  assert.match(acquired.stderr, /^(POST|GET) \/api/m, '-v 9 does log the requests');
  await acquireJson(ns, `${name}-2`, ['--identity', 'admin-job', '--ttl', '5m']);

  const runs: [string, string[], Record<string, string>?][] = [
    ['renew', ['renew', name, '-n', ns, '--identity', 'admin-job']],
    ['ls -A', ['ls', '-A', '-o', 'wide']],
    ['describe', ['describe', name, '-n', ns]],
    ['held, waiting on a watch', ['acquire', name, '-n', ns, '--identity', 'other', '--timeout', '1s']],
    ['403', ['acquire', name, '-n', ns, '--context', 'alice']],
    ['unknown lock', ['describe', `${name}-nope`, '-n', ns]],
    ['server unreachable', ['ls', '-n', ns, '--kubeconfig', downPath, '--request-timeout', '5s']],
    ['token rejected', ['ls', '-n', ns], { KUBECONFIG: rejectedPath }],
    ['exec plugin', ['release', `${name}-2`, '-n', ns, '--identity', 'admin-job'], { KUBECONFIG: goodExecPath }],
    ['exec plugin fails', ['ls', '-n', ns], { KUBECONFIG: badExecPath }],
    ['locker force', ['release', name, '-n', ns, '--context', 'locker', '--force']],
  ];
  const results: RunResult[] = [];
  for (let i = 0; i < runs.length; i += 4) {
    results.push(
      ...(await Promise.all(runs.slice(i, i + 4).map(([, args, env]) => cmlock([...args, ...v9], { env })))),
    );
  }
  const byName = new Map(runs.map(([what], i) => [what, results[i] as RunResult]));
  for (const [what, r] of byName) assertNoSecret(what, r, [execSecret, rejectedToken]);

  // And each did what it should, with its one-line error where it failed.
  const get = (what: string) => byName.get(what) as RunResult;
  for (const what of ['renew', 'ls -A', 'describe', 'exec plugin', 'locker force']) {
    assert.equal(get(what).code, 0, `${what}: ${show(get(what))}`);
  }
  const lastError = (r: RunResult) => r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(get('held, waiting on a watch').code, 3, show(get('held, waiting on a watch')));
  assert.equal(get('403').code, 1);
  assert.match(lastError(get('403')).join('\n'), /^error: forbidden: user "alice" cannot create configmaps/);
  assert.equal(get('unknown lock').code, 5);
  const unreachable = get('server unreachable');
  assert.equal(unreachable.code, 1, show(unreachable));
  assert.match(
    lastError(unreachable).join('\n'),
    new RegExp(`127\\.0\\.0\\.1:${port}.*context "admin"|context "admin".*127\\.0\\.0\\.1:${port}`),
  );
  assert.equal(get('token rejected').code, 1, show(get('token rejected')));
  assert.equal(get('exec plugin fails').code, 1, show(get('exec plugin fails')));
  assert.match(lastError(get('exec plugin fails')).join('\n'), /exec plugin ".*bad-credential" failed/);

  // Without -v the unreachable server is one line too, and it comes after a few quick retries, not after the
  // lock layer's retries of the client's retries (that took 45 s).
  const started = Date.now();
  const quiet = await cmlock(['ls', '-n', ns, '--kubeconfig', downPath]);
  assertErrorLine(
    quiet,
    1,
    new RegExp(
      `^error: cannot reach the API server https://127\\.0\\.0\\.1:${port} \\(context "admin"\\): connection refused$`,
    ),
  );
  assert.ok(Date.now() - started < 20_000, `reported after ${Date.now() - started} ms`);
});
