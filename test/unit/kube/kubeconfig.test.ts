import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, UsageError } from '../../../src/errors.ts';
import { connect } from '../../../src/kube/connect.ts';
import { resolveConfig, safeServer } from '../../../src/kube/kubeconfig.ts';
import type { ConnectOptions } from '../../../src/kube/types.ts';
import { tempDir, writeKubeconfig } from './fake-server.ts';

function options(overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  return { requestTimeoutMs: 0, verbosity: 0, env: {}, log: () => undefined, ...overrides };
}

/** A kubeconfig with several contexts; `current` may be omitted. */
function multiConfig(
  dir: string,
  file: string,
  spec: { current?: string; contexts: [string, string, string?][]; clusters: [string, string][] },
): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    ...(spec.current ? { 'current-context': spec.current } : {}),
    clusters: spec.clusters.map(([name, server]) => ({ name, cluster: { server } })),
    users: [{ name: 'u', user: { token: 'token-in-file-0123456789' } }],
    contexts: spec.contexts.map(([name, cluster, namespace]) => ({ name, context: { cluster, user: 'u', namespace } })),
  };
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('kubeconfig resolution', () => {
  test('--kubeconfig that does not exist: one-line ConfigError, nothing else tried', () => {
    const home = tempDir();
    writeKubeconfig(join(home, '.kube'), { server: 'https://home:6443' }, 'config');
    assert.throws(
      () => connect(options({ kubeconfig: '/nope/config', env: { HOME: home } })),
      (err: unknown) => err instanceof ConfigError && err.message === 'kubeconfig "/nope/config" not found',
    );
  });

  test('nothing at all: ConfigError that says how to fix it (no silent localhost:8080)', () => {
    assert.throws(() => connect(options({ env: { HOME: tempDir() } })), {
      name: 'ConfigError',
      message: 'no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config',
    });
    assert.throws(() => connect(options({ env: {} })), ConfigError);
  });

  test('KUBECONFIG: missing entries ignored, first file wins for current-context and for each name', () => {
    const dir = tempDir();
    const a = multiConfig(dir, 'a', { contexts: [['shared', 'c1', 'from-a']], clusters: [['c1', 'https://a:6443']] });
    const b = multiConfig(dir, 'b', {
      current: 'shared',
      contexts: [
        ['shared', 'c1', 'from-b'],
        ['only-b', 'c2'],
      ],
      clusters: [
        ['c1', 'https://b:6443'],
        ['c2', 'https://b2:6443'],
      ],
    });
    const c = multiConfig(dir, 'c', {
      current: 'only-b',
      contexts: [['only-c', 'c1']],
      clusters: [['c1', 'https://c:6443']],
    });
    const session = connect(
      options({ env: { KUBECONFIG: `${join(dir, 'missing')}:${a}::${b}:${c}`, HOME: '/nonexistent' } }),
    );
    // current-context: a sets none, b sets "shared" (c's "only-b" loses); context "shared" and cluster c1 from a.
    assert.equal(session.contextName, 'shared');
    assert.equal(session.namespace, 'from-a');
    assert.equal(session.server, 'https://a:6443');
    assert.deepEqual(session.listContexts(), ['only-b', 'only-c', 'shared']);
    assert.equal(session.inCluster, false);
  });

  test('KUBECONFIG wins over ~/.kube/config; ~/.kube/config is the fallback', () => {
    const home = tempDir();
    writeKubeconfig(join(home, '.kube'), { server: 'https://home:6443', context: 'home' }, 'config');
    mkdirSync(join(home, '.kube'), { recursive: true });
    const other = writeKubeconfig(tempDir(), { server: 'https://env:6443', context: 'env' });
    assert.equal(connect(options({ env: { HOME: home, KUBECONFIG: other } })).contextName, 'env');
    assert.equal(connect(options({ env: { HOME: home } })).contextName, 'home');
    assert.equal(connect(options({ env: { HOME: home, KUBECONFIG: '' } })).contextName, 'home');
  });

  test('--context must exist; the error lists the available ones', () => {
    const dir = tempDir();
    const file = multiConfig(dir, 'k', {
      current: 'a',
      contexts: [
        ['b', 'c'],
        ['a', 'c'],
      ],
      clusters: [['c', 'https://x:1']],
    });
    assert.equal(connect(options({ kubeconfig: file, context: 'b' })).contextName, 'b');
    assert.throws(() => connect(options({ kubeconfig: file, context: 'prod' })), {
      name: 'ConfigError',
      message: 'context "prod" not found in kubeconfig (available: a, b)',
    });
  });

  test('no current-context and no --context: ConfigError', () => {
    const file = multiConfig(tempDir(), 'k', { contexts: [['a', 'c']], clusters: [['c', 'https://x:1']] });
    assert.throws(() => connect(options({ kubeconfig: file })), {
      name: 'ConfigError',
      message: 'no current context is set in the kubeconfig: pass --context (available: a)',
    });
  });

  test('a context whose cluster is missing, or a current-context that does not exist: ConfigError', () => {
    const dir = tempDir();
    const dangling = multiConfig(dir, 'k1', { current: 'a', contexts: [['a', 'gone']], clusters: [] });
    assert.throws(() => connect(options({ kubeconfig: dangling })), /refers to cluster "gone"/);
    const stale = multiConfig(dir, 'k2', { current: 'old', contexts: [['a', 'c']], clusters: [['c', 'https://x:1']] });
    assert.throws(() => connect(options({ kubeconfig: stale })), {
      message: 'current context "old" not found in kubeconfig (available: a)',
    });
  });

  test('namespace: -n, else the context namespace, else default; -n is validated', () => {
    const dir = tempDir();
    const withNs = writeKubeconfig(dir, { server: 'https://x:1', namespace: 'team' }, 'a');
    const without = writeKubeconfig(dir, { server: 'https://x:1' }, 'b');
    assert.equal(connect(options({ kubeconfig: withNs })).namespace, 'team');
    assert.equal(connect(options({ kubeconfig: withNs, namespace: 'other' })).namespace, 'other');
    assert.equal(connect(options({ kubeconfig: without })).namespace, 'default');
    assert.throws(() => connect(options({ kubeconfig: without, namespace: 'Bad_NS' })), UsageError);
  });

  test('in-cluster: service host/port and token, namespace from the Pod', () => {
    const sa = tempDir();
    writeFileSync(join(sa, 'token'), 'sa-token-abcdefghijkl');
    writeFileSync(join(sa, 'namespace'), 'jobs\n');
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', HOME: tempDir() };
    const session = connect(options({ env }), { serviceAccountDir: sa });
    assert.equal(session.inCluster, true);
    assert.equal(session.server, 'https://10.0.0.1'); // the URL form drops the default port
    assert.equal(session.namespace, 'jobs');
    assert.equal(session.podNamespace, 'jobs');
    const withFlag = connect(options({ env, namespace: 'x' }), { serviceAccountDir: sa });
    assert.equal(withFlag.namespace, 'x');
    assert.equal(withFlag.podNamespace, 'jobs', 'the Pod stays where it is when -n points elsewhere');
    const v6 = connect(options({ env: { ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' } }), { serviceAccountDir: sa });
    assert.equal(v6.server, 'https://[fd00::1]');
    // A kubeconfig, when there is one, wins over the in-cluster account (as with kubectl).
    const file = writeKubeconfig(tempDir(), { server: 'https://k:1' });
    const outside = connect(options({ env: { ...env, KUBECONFIG: file } }), { serviceAccountDir: sa });
    assert.equal(outside.inCluster, false);
    assert.equal(outside.podNamespace, undefined);
    // No token file: not in a Pod.
    assert.throws(() => connect(options({ env }), { serviceAccountDir: tempDir() }), /no kubeconfig found/);
  });

  test('proxy: the kubeconfig proxy-url wins over HTTPS_PROXY; credentials of either go to the redactor', () => {
    const dir = tempDir();
    const plain = multiConfig(dir, 'plain', {
      current: 'a',
      contexts: [['a', 'c']],
      clusters: [['c', 'https://k8s.corp:6443']],
    });
    const env = { HTTPS_PROXY: 'http://env-user:env-s3cret@envproxy:3128' };
    const fromEnv = resolveConfig({ kubeconfig: plain, env });
    assert.equal(fromEnv.proxy, 'http://envproxy:3128 from HTTPS_PROXY');
    assert.ok(fromEnv.secrets.includes('env-s3cret'));
    assert.equal(fromEnv.newKubeConfig().getCurrentCluster()?.proxyUrl, 'http://env-user:env-s3cret@envproxy:3128/');

    const withUrl = join(dir, 'with-url');
    const config = JSON.parse(readFileSync(plain, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
    const [first] = config.clusters;
    if (first) first.cluster['proxy-url'] = 'http://kc-user:kc-s3cret@kcproxy:8080';
    writeFileSync(withUrl, JSON.stringify(config));
    const fromFile = resolveConfig({ kubeconfig: withUrl, env });
    assert.equal(fromFile.proxy, 'http://kcproxy:8080 from the kubeconfig');
    assert.ok(fromFile.secrets.includes('kc-s3cret'));
    assert.equal(fromFile.newKubeConfig().getCurrentCluster()?.proxyUrl, 'http://kc-user:kc-s3cret@kcproxy:8080');

    // A loopback server is never proxied, as with kubectl.
    const local = multiConfig(dir, 'local', {
      current: 'a',
      contexts: [['a', 'c']],
      clusters: [['c', 'https://127.0.0.1:6443']],
    });
    assert.equal(resolveConfig({ kubeconfig: local, env }).proxy, undefined);
  });

  test('a YAML error names the file and line, never its content', () => {
    const dir = tempDir();
    const file = join(dir, 'broken');
    writeFileSync(file, 'users:\n- name: u\n  user:\n    token: sekret-token-in-broken-file\n   bad: [indent\n');
    assert.throws(
      () => connect(options({ kubeconfig: file })),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith(`cannot parse kubeconfig "${file}": invalid YAML`) &&
        !err.message.includes('sekret') &&
        !err.message.includes('\n'),
    );
  });

  test('relative paths resolve against the kubeconfig directory', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'tok'), 'file-token-0123456789');
    const file = writeKubeconfig(dir, {
      server: 'https://x:1',
      cluster: { 'certificate-authority': 'certs/ca.crt' },
      user: { 'client-key': 'certs/k.pem', 'token-file': 'certs/tok', exec: { command: './bin/plugin' } },
    });
    const config = resolveConfig({ kubeconfig: file, env: {} });
    const kc = config.newKubeConfig();
    assert.equal(kc.getCurrentCluster()?.caFile, join(dir, 'certs', 'ca.crt'));
    assert.equal(kc.getCurrentUser()?.keyFile, join(dir, 'certs', 'k.pem'));
    assert.equal((kc.getCurrentUser()?.exec as { command: string }).command, join(dir, 'bin', 'plugin'));
    assert.equal(config.refreshableCredentials, true);
  });

  test('a missing token-file is a ConfigError at connect', () => {
    const file = writeKubeconfig(tempDir(), { server: 'https://x:1', user: { 'token-file': 'nope' } });
    assert.throws(() => connect(options({ kubeconfig: file })), /token-file ".*nope" of user "test-user" not found/);
  });

  test('the server URL is printable: no credentials or query', () => {
    assert.equal(
      safeServer('https://user:pw@api.example.com:6443/prefix/?x=1#f'),
      'https://api.example.com:6443/prefix',
    );
    assert.equal(safeServer('https://10.0.0.1'), 'https://10.0.0.1');
  });

  test('connect sends nothing', () => {
    // An unroutable server: connect must not touch it.
    const file = writeKubeconfig(tempDir(), { server: 'https://192.0.2.1:6443' });
    const session = connect(options({ kubeconfig: file }));
    assert.equal(session.server, 'https://192.0.2.1:6443');
  });
});
