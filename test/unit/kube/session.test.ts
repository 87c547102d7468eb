import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CmlockError } from '../../../src/errors.ts';
import { RetryableError, type ServerTimeSample } from '../../../src/lock/store.ts';
import { FakeApiServer, sendJson, sendStatus, sessionFor, tempDir, nth } from './fake-server.ts';

describe('session', () => {
  let server: FakeApiServer;
  before(async () => {
    server = await FakeApiServer.start();
  });
  after(async () => {
    await server.close();
  });
  const reset = (handler: FakeApiServer['handler']): void => {
    server.requests.length = 0;
    server.handler = handler;
  };

  test('whoAmI: SelfSubjectReview username, asked once per session', async () => {
    reset((req, res) =>
      sendJson(res, 201, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
        status: { userInfo: { username: 'alice@example.com', groups: ['system:authenticated'] } },
      }),
    );
    const { session } = sessionFor(server.url);
    assert.equal(await session.whoAmI(), 'alice@example.com');
    assert.equal(await session.whoAmI(), 'alice@example.com');
    assert.equal(server.requests.length, 1);
    const req = nth(server.requests);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/apis/authentication.k8s.io/v1/selfsubjectreviews');
    assert.deepEqual(JSON.parse(req.body), { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  });

  test('every answer, an error too, tells the caller the server time (the SelfSubjectReview before acquire)', async () => {
    reset((req, res) =>
      req.path.endsWith('/selfsubjectreviews')
        ? sendStatus(res, 403, 'Forbidden', 'no')
        : sendJson(res, 200, { kind: 'ConfigMapList', metadata: { resourceVersion: '1' }, items: [] }),
    );
    const samples: ServerTimeSample[] = [];
    const { session } = sessionFor(server.url, { serverTime: (sample) => samples.push(sample) });
    const before = Date.now();
    assert.equal(await session.whoAmI(), undefined);
    await session.store('team').list({});
    assert.equal(samples.length, 2);
    for (const sample of samples) {
      assert.equal(sample.serverDateMs % 1000, 0, 'the Date header, whole seconds');
      assert.ok(sample.serverDateMs >= Math.floor(before / 1000) * 1000 && sample.serverDateMs <= Date.now());
      assert.ok(sample.sentAtMono <= sample.receivedAtMono);
    }
  });

  for (const [name, answer] of [
    ['404 (older server)', 404],
    ['403 (RBAC)', 403],
    ['500', 500],
  ] as const) {
    test(`whoAmI: undefined on ${name}`, async () => {
      reset((_req, res) => sendStatus(res, answer, 'X', 'no'));
      const { session } = sessionFor(server.url);
      assert.equal(await session.whoAmI(), undefined);
    });
  }

  test('getPodUid: the uid, undefined when the Pod does not exist, the 403 otherwise', async () => {
    reset((req, res) =>
      req.path.endsWith('/web-0')
        ? sendJson(res, 200, { kind: 'Pod', metadata: { name: 'web-0', uid: 'pod-uid-1' } })
        : req.path.endsWith('/secret')
          ? sendStatus(res, 403, 'Forbidden', 'pods "secret" is forbidden: User "bob" cannot get resource "pods"')
          : sendStatus(res, 404, 'NotFound', 'pods "gone" not found'),
    );
    const { session } = sessionFor(server.url);
    assert.equal(await session.getPodUid('apps', 'web-0'), 'pod-uid-1');
    assert.equal(server.requests[0]?.path, '/api/v1/namespaces/apps/pods/web-0');
    assert.equal(await session.getPodUid('apps', 'gone'), undefined);
    await assert.rejects(session.getPodUid('apps', 'secret'), {
      message:
        'forbidden: user "bob" cannot get pods in namespace "apps" (context "test"); check with: kubectl auth can-i get pods -n apps --context test',
    });
  });

  test('listNamespaces and listContexts', async () => {
    reset((_req, res) =>
      sendJson(res, 200, {
        kind: 'NamespaceList',
        metadata: {},
        items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
      }),
    );
    const { session } = sessionFor(server.url);
    assert.deepEqual(await session.listNamespaces(), ['a', 'b']);
    assert.equal(server.requests[0]?.path, '/api/v1/namespaces');
    assert.deepEqual(session.listContexts(), ['test']);
  });
});

describe('TLS', { skip: spawnSync('openssl', ['version']).status !== 0 && 'openssl not available' }, () => {
  let server: FakeApiServer;
  let ca: string;
  before(async () => {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    assert.equal(made.status, 0, made.stderr.toString());
    ca = readFileSync(cert, 'utf8');
    server = await FakeApiServer.start(
      (_req, res) => sendJson(res, 200, { kind: 'ConfigMap', metadata: { name: 'x' } }),
      {
        key: readFileSync(key, 'utf8'),
        cert: ca,
      },
    );
  });
  after(async () => {
    await server.close();
  });

  test('an unknown certificate: "certificate verification failed", not retried', async () => {
    const { session, sleeps } = sessionFor(server.url);
    await assert.rejects(session.store().get('x'), (err: unknown) => {
      assert.ok(err instanceof CmlockError && !(err instanceof RetryableError), String(err));
      assert.equal(
        err.message,
        `cannot reach the API server ${server.url} (context "test"): certificate verification failed ` +
          '(self-signed certificate); check certificate-authority in the kubeconfig',
      );
      return true;
    });
    assert.equal(sleeps.length, 0);
    assert.equal(server.requests.length, 0);
  });

  test('with the CA from the kubeconfig it connects', async () => {
    const { session } = sessionFor(server.url, {
      kubeconfig: {
        server: server.url,
        token: 'tok',
        cluster: { 'certificate-authority-data': Buffer.from(ca).toString('base64') },
      },
    });
    const { value } = await session.store().get('x');
    assert.equal(value?.name, 'x');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer tok');
    // One TLS connection for the session, not one per request (client-node makes a new pool each time).
    for (let i = 0; i < 5; i++) await session.store().get('x');
    const connections = new Set(server.requests.map((r) => r.remotePort)).size;
    assert.ok(connections <= 2, `${connections} connections for ${server.requests.length} requests`);
  });
});
