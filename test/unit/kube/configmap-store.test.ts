import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AmbiguousWriteError,
  AlreadyExistsError,
  ConflictError,
  RetryableError,
  StoreNotFoundError,
} from '../../../src/lock/store.ts';
import { CmlockError } from '../../../src/errors.ts';
import { closedPort, configMap, FakeApiServer, sendJson, sendStatus, sessionFor, nth } from './fake-server.ts';

const DATE = 'Wed, 21 Oct 2015 07:28:00 GMT';
const lockWrite = {
  name: 'db-migrate',
  // As the protocol writes them (lock/names.ts lockLabels): the store adds nothing.
  labels: { team: 'a', 'app.kubernetes.io/managed-by': 'kubectl-cmlock' },
  data: { holderIdentity: 'me' },
  ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'pod-uid' }],
};

describe('ConfigMapStore over the wire', () => {
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

  test('get: consistent read, Date header and monotonic send/receive times captured', async () => {
    reset((_req, res) => sendJson(res, 200, configMap('db-migrate', { rv: '42' }), { date: DATE }));
    const { session } = sessionFor(server.url, { token: 'tok' });
    const before = performance.now();
    const { value, time } = await session.store().get('db-migrate');
    const after = performance.now();
    assert.equal(server.requests.length, 1);
    const req = nth(server.requests);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/api/v1/namespaces/default/configmaps/db-migrate');
    assert.equal(req.query.get('resourceVersion'), null, 'no resourceVersion: a consistent read');
    assert.equal(req.headers['user-agent'], 'kubectl-cmlock');
    assert.deepEqual(value, {
      name: 'db-migrate',
      namespace: 'default',
      uid: 'uid-db-migrate',
      resourceVersion: '42',
      creationTimestamp: '2025-01-02T03:04:05Z',
      labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' },
      data: { holderIdentity: 'me', expiresAt: '1700000000' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'pod-uid' }],
    });
    assert.ok(time);
    assert.equal(time.serverDateMs, Date.parse(DATE));
    assert.ok(before <= time.sentAtMono && time.sentAtMono <= time.receivedAtMono && time.receivedAtMono <= after);
  });

  test('get: 404 resolves undefined and still reports the server time', async () => {
    reset((_req, res) => sendStatus(res, 404, 'NotFound', 'configmaps "x" not found', {}, { date: DATE }));
    const { session } = sessionFor(server.url);
    const { value, time } = await session.store('ns1').get('x');
    assert.equal(value, undefined);
    assert.equal(time?.serverDateMs, Date.parse(DATE));
    assert.equal(server.requests[0]?.path, '/api/v1/namespaces/ns1/configmaps/x');
  });

  test('create: POSTs the whole object as given, with a non-blocking owner', async () => {
    reset((req, res) => {
      const body = JSON.parse(req.body) as { metadata: object };
      sendJson(res, 201, {
        ...configMap('db-migrate', { rv: '7' }),
        ...body,
        metadata: { ...body.metadata, uid: 'u1', resourceVersion: '7' },
      });
    });
    const { session } = sessionFor(server.url);
    const { value, time } = await session.store().create(lockWrite);
    const req = nth(server.requests);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/api/v1/namespaces/default/configmaps');
    const body = JSON.parse(req.body) as Record<string, unknown>;
    assert.deepEqual(body, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'db-migrate',
        namespace: 'default',
        labels: { team: 'a', 'app.kubernetes.io/managed-by': 'kubectl-cmlock' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'pod-uid', blockOwnerDeletion: false }],
      },
      data: { holderIdentity: 'me' },
    });
    assert.equal(value.uid, 'u1');
    assert.equal(value.resourceVersion, '7');
    assert.ok(time);
  });

  test('create: 409 AlreadyExists is AlreadyExistsError', async () => {
    reset((_req, res) => sendStatus(res, 409, 'AlreadyExists', 'configmaps "db-migrate" already exists'));
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().create(lockWrite), AlreadyExistsError);
    assert.equal(server.requests.length, 1);
  });

  test('update: PUT carries metadata.resourceVersion; 409 Conflict is ConflictError', async () => {
    reset((_req, res) => sendStatus(res, 409, 'Conflict', 'the object has been modified'));
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().update(lockWrite, '41'), ConflictError);
    const req = nth(server.requests);
    assert.equal(req.method, 'PUT');
    assert.equal(req.path, '/api/v1/namespaces/default/configmaps/db-migrate');
    const body = JSON.parse(req.body) as { metadata: { resourceVersion: string } };
    assert.equal(body.metadata.resourceVersion, '41');
  });

  test('update: 404 is StoreNotFoundError', async () => {
    reset((_req, res) => sendStatus(res, 404, 'NotFound', 'configmaps "db-migrate" not found'));
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().update(lockWrite, '41'), StoreNotFoundError);
  });

  test('delete: uid and resourceVersion preconditions in the DeleteOptions body', async () => {
    reset((_req, res) => sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' }, { date: DATE }));
    const { session } = sessionFor(server.url);
    const { time } = await session.store().delete('db-migrate', { uid: 'u1', resourceVersion: '9' });
    const req = nth(server.requests);
    assert.equal(req.method, 'DELETE');
    assert.equal(req.path, '/api/v1/namespaces/default/configmaps/db-migrate');
    const body = JSON.parse(req.body) as { preconditions: unknown };
    assert.deepEqual(body.preconditions, { uid: 'u1', resourceVersion: '9' });
    assert.equal(time?.serverDateMs, Date.parse(DATE));
  });

  test('delete: failed precondition (409 Conflict) is ConflictError, 404 is StoreNotFoundError', async () => {
    reset((_req, res) => sendStatus(res, 409, 'Conflict', 'Precondition failed: UID in precondition: u1'));
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().delete('x', { uid: 'u1', resourceVersion: '9' }), ConflictError);
    reset((_req, res) => sendStatus(res, 404, 'NotFound', 'configmaps "x" not found'));
    await assert.rejects(session.store().delete('x', { uid: 'u1', resourceVersion: '9' }), StoreNotFoundError);
  });

  test('list: label selector always ANDed with managed-by; pages followed', async () => {
    reset((req, res) => {
      const page = req.query.get('continue');
      sendJson(res, 200, {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '5', ...(page ? {} : { continue: 'page2' }) },
        items: [configMap(page ? 'b' : 'a')],
      });
    });
    const { session } = sessionFor(server.url);
    const { value } = await session.store('team').list({ labelSelector: 'team=a' });
    assert.deepEqual(
      value.map((l) => l.name),
      ['a', 'b'],
    );
    assert.equal(server.requests.length, 2);
    for (const req of server.requests) {
      assert.equal(req.path, '/api/v1/namespaces/team/configmaps');
      assert.equal(req.query.get('labelSelector'), 'app.kubernetes.io/managed-by=kubectl-cmlock,team=a');
    }
    assert.equal(server.requests[1]?.query.get('continue'), 'page2');
  });

  test('list: all namespaces uses the cluster-wide path', async () => {
    reset((_req, res) =>
      sendJson(res, 200, { kind: 'ConfigMapList', metadata: {}, items: [configMap('a', { namespace: 'x' })] }),
    );
    const { session } = sessionFor(server.url);
    const { value } = await session.store('').list({ allNamespaces: true });
    assert.equal(server.requests[0]?.path, '/api/v1/configmaps');
    assert.equal(server.requests[0]?.query.get('labelSelector'), 'app.kubernetes.io/managed-by=kubectl-cmlock');
    assert.equal(value[0]?.namespace, 'x');
  });

  test('listUnmanaged: metadata only, without the managed-by label; only the picked ones read, in their namespace', async () => {
    const meta = (name: string, namespace: string, controller: boolean) => ({
      metadata: {
        name,
        namespace,
        uid: `uid-${name}`,
        resourceVersion: '7',
        labels: { team: 'a' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'pod-uid', controller }],
      },
    });
    reset((req, res) => {
      if (req.path === '/api/v1/configmaps') {
        const page = req.query.get('continue');
        sendJson(res, 200, {
          kind: 'PartialObjectMetadataList',
          apiVersion: 'meta.k8s.io/v1',
          metadata: { resourceVersion: '40', ...(page ? {} : { continue: 'page2' }) },
          items: page ? [meta('gone', 'ns2', true)] : [meta('go', 'ns1', true), meta('cache', 'ns1', false)],
        });
      } else if (req.path === '/api/v1/namespaces/ns1/configmaps/go') {
        sendJson(res, 200, { ...meta('go', 'ns1', true), data: { expiresAt: '5' } });
      } else sendStatus(res, 404, 'NotFound', 'configmaps not found');
    });
    const { session } = sessionFor(server.url);
    const picked: string[] = [];
    const result = await session.store('').listUnmanaged({ allNamespaces: true, labelSelector: 'team=a' }, (m) => {
      assert.deepEqual(m.data, {}, 'a metadata-only list has no data');
      if (m.ownerReferences[0]?.controller === true) picked.push(m.name);
      return m.ownerReferences[0]?.controller === true;
    });
    assert.deepEqual(picked, ['go', 'gone']);
    assert.deepEqual(
      result.value.map((l) => [l.namespace, l.name, l.data]),
      [['ns1', 'go', { expiresAt: '5' }]],
      'read in full; one deleted meanwhile left out',
    );
    assert.equal(result.resourceVersion, '40');
    const [first, second, ...reads] = server.requests;
    for (const list of [first, second]) {
      assert.equal(list?.headers['accept'], 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1');
      assert.equal(list?.query.get('labelSelector'), '!app.kubernetes.io/managed-by,team=a');
      assert.equal(list?.query.get('limit'), '5000', 'pages of metadata: a few thousand ConfigMaps in one');
    }
    assert.equal(second?.query.get('continue'), 'page2');
    assert.deepEqual(reads.map((r) => `${r.method} ${r.path}`).sort(), [
      'GET /api/v1/namespaces/ns1/configmaps/go',
      'GET /api/v1/namespaces/ns2/configmaps/gone',
    ]);
  });

  test('events: field selector on the lock uid, oldest first; empty on 403', async () => {
    reset((_req, res) =>
      sendJson(res, 200, {
        kind: 'EventList',
        metadata: {},
        items: [
          {
            metadata: { name: 'e2' },
            involvedObject: {},
            type: 'Normal',
            reason: 'Released',
            message: 'm2',
            lastTimestamp: '2025-01-01T00:00:10Z',
            count: 1,
          },
          {
            metadata: { name: 'e1' },
            involvedObject: {},
            type: 'Normal',
            reason: 'Acquired',
            message: 'm1',
            lastTimestamp: '2025-01-01T00:00:05Z',
            count: 2,
          },
        ],
      }),
    );
    const { session } = sessionFor(server.url);
    const lock = configMapLock();
    const events = await session.store().events(lock);
    assert.equal(server.requests[0]?.path, '/api/v1/namespaces/default/events');
    assert.equal(server.requests[0]?.query.get('fieldSelector'), 'involvedObject.uid=uid-1');
    assert.deepEqual(events, [
      { type: 'Normal', reason: 'Acquired', message: 'm1', time: '2025-01-01T00:00:05Z', count: 2 },
      { type: 'Normal', reason: 'Released', message: 'm2', time: '2025-01-01T00:00:10Z', count: 1 },
    ]);
    reset((_req, res) =>
      sendStatus(res, 403, 'Forbidden', 'events is forbidden: User "bob" cannot list resource "events"'),
    );
    assert.deepEqual(await session.store().events(lock), []);
  });

  test('recordEvent: creates a core/v1 Event on the ConfigMap', async () => {
    reset((req, res) => sendJson(res, 201, JSON.parse(req.body)));
    const { session } = sessionFor(server.url);
    await session.store().recordEvent(configMapLock(), { reason: 'Acquired', message: 'acquired by me' });
    const req = nth(server.requests);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/api/v1/namespaces/default/events');
    const body = JSON.parse(req.body) as Record<string, unknown> & { metadata: { name: string } };
    assert.match(body.metadata.name, /^db-migrate\.[0-9a-f]{16}$/);
    assert.deepEqual(body.involvedObject, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'db-migrate',
      namespace: 'default',
      uid: 'uid-1',
      resourceVersion: '3',
    });
    assert.equal(body.reason, 'Acquired');
    assert.equal(body.message, 'acquired by me');
    assert.equal(body.type, 'Normal');
    assert.deepEqual(body.source, { component: 'kubectl-cmlock' });
    assert.equal(body.reportingComponent, 'kubectl-cmlock');
    assert.equal(typeof body.firstTimestamp, 'string');
    assert.equal(body.firstTimestamp, body.lastTimestamp);
  });

  test('recordEvent: never throws, never retries', async () => {
    reset((_req, res) => sendStatus(res, 500, 'InternalError', 'boom'));
    const { session } = sessionFor(server.url);
    await session.store().recordEvent(configMapLock(), { reason: 'Acquired', message: 'x', type: 'Warning' });
    assert.equal(server.requests.length, 1);
    const refused = sessionFor(`http://127.0.0.1:${await closedPort()}`);
    await refused.session.store().recordEvent(configMapLock(), { reason: 'Acquired', message: 'x' });
  });

  test('429 on a read: retried after at least Retry-After', async () => {
    let calls = 0;
    reset((_req, res) => {
      calls++;
      if (calls === 1) sendStatus(res, 429, 'TooManyRequests', 'slow down', {}, { 'retry-after': '2' });
      else sendJson(res, 200, configMap('x'));
    });
    const { session, sleeps } = sessionFor(server.url);
    const { value } = await session.store().get('x');
    assert.equal(value?.name, 'x');
    assert.equal(server.requests.length, 2);
    assert.equal(sleeps.length, 1);
    assert.ok(nth(sleeps) >= 2000, `slept ${sleeps[0]}ms, Retry-After said 2s`);
  });

  test('429 on a write: retried (the server did not apply it)', async () => {
    let calls = 0;
    reset((req, res) => {
      calls++;
      if (calls === 1) sendStatus(res, 429, 'TooManyRequests', 'slow down', {}, { 'retry-after': '1' });
      else sendJson(res, 201, { ...configMap('db-migrate'), ...JSON.parse(req.body) });
    });
    const { session, sleeps } = sessionFor(server.url);
    await session.store().create(lockWrite);
    assert.equal(server.requests.length, 2);
    assert.ok(nth(sleeps) >= 1000);
  });

  test('5xx: reads retry with capped backoff, then RetryableError; writes are ambiguous and not retried', async () => {
    reset((_req, res) => sendStatus(res, 503, 'ServiceUnavailable', 'etcd is down'));
    const { session, sleeps } = sessionFor(server.url);
    await assert.rejects(session.store().get('x'), (err: unknown) => {
      assert.ok(err instanceof RetryableError);
      assert.match(err.message, /answered 503: etcd is down/);
      return true;
    });
    assert.equal(server.requests.length, 3, 'maxAttempts');
    assert.equal(sleeps.length, 2);
    assert.ok(
      sleeps.every((ms) => ms <= 2),
      'capped',
    );

    server.requests.length = 0;
    await assert.rejects(session.store().create(lockWrite), AmbiguousWriteError);
    await assert.rejects(session.store().update(lockWrite, '1'), AmbiguousWriteError);
    await assert.rejects(session.store().delete('x', { uid: 'u', resourceVersion: '1' }), AmbiguousWriteError);
    assert.equal(server.requests.length, 3, 'one request per write');
  });

  test('a server that accepts and never answers: per-request timeout', async () => {
    reset(() => undefined);
    const { session } = sessionFor(server.url, {
      requestTimeoutMs: 150,
      tuning: { retry: { maxAttempts: 2, initialMs: 1, maxMs: 1 } },
    });
    const started = performance.now();
    await assert.rejects(session.store().get('x'), (err: unknown) => {
      assert.ok(err instanceof RetryableError);
      assert.match(err.message, /did not answer within 150ms/);
      return true;
    });
    assert.equal(server.requests.length, 2);
    server.requests.length = 0;
    await assert.rejects(session.store().create(lockWrite), (err: unknown) => {
      assert.ok(err instanceof AmbiguousWriteError, String(err));
      assert.match(err.message, /may or may not have been applied/);
      return true;
    });
    assert.equal(server.requests.length, 1, 'an ambiguous write is never retried blindly');
    assert.ok(performance.now() - started < 3000);
  });

  test('a response cut in the middle of the body: read retried, write ambiguous', async () => {
    reset((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":"ConfigMap","metadata":{"na');
      setTimeout(() => res.destroy(), 20);
    });
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().get('x'), RetryableError);
    assert.equal(server.requests.length, 3);
    server.requests.length = 0;
    await assert.rejects(session.store().create(lockWrite), AmbiguousWriteError);
    assert.equal(server.requests.length, 1);
  });

  test('a 200 that is not JSON (a proxy page): a clear error on reads, ambiguous on writes', async () => {
    reset((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>login</html>');
    });
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().get('x'), {
      name: 'CmlockError',
      message: `an unexpected response from the API server ${server.url} (context "test") (not valid JSON)`,
    });
    await assert.rejects(session.store().create(lockWrite), AmbiguousWriteError);
  });

  test('connection refused: RetryableError for reads and writes, retried, naming server and context', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { session, sleeps } = sessionFor(url);
    for (const op of [() => session.store().get('x'), () => session.store().create(lockWrite)]) {
      sleeps.length = 0;
      await assert.rejects(op(), (err: unknown) => {
        assert.ok(err instanceof RetryableError, String(err));
        assert.equal(err.message, `cannot reach the API server ${url} (context "test"): connection refused`);
        return true;
      });
      assert.equal(sleeps.length, 2, 'retried: never sent');
    }
  });

  test('caller abort: rejects at once with the signal reason, also mid-request', async () => {
    reset(() => undefined);
    const { session } = sessionFor(server.url, { requestTimeoutMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error('interrupted');
    setTimeout(() => controller.abort(reason), 50);
    const started = performance.now();
    await assert.rejects(session.store().get('x', { signal: controller.signal }), (err) => err === reason);
    await assert.rejects(session.store().create(lockWrite, { signal: controller.signal }), (err) => err === reason);
    assert.ok(performance.now() - started < 1000);
  });

  test('a Retry-After beyond the wait limit is handed to the caller instead of slept', async () => {
    reset((_req, res) => sendStatus(res, 429, 'TooManyRequests', 'later', {}, { 'retry-after': '3600' }));
    const { session, sleeps } = sessionFor(server.url);
    await assert.rejects(session.store().get('x'), (err: unknown) => {
      assert.ok(err instanceof RetryableError);
      assert.equal(err.retryAfterMs, 3_600_000);
      return true;
    });
    assert.equal(sleeps.length, 0);
    assert.equal(server.requests.length, 1);
  });

  test('real backoff sleep honours the signal', async () => {
    reset((_req, res) => sendStatus(res, 429, 'TooManyRequests', 'slow down', {}, { 'retry-after': '30' }));
    const { session } = sessionFor(server.url, { realSleep: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 100);
    const started = performance.now();
    await assert.rejects(session.store().get('x', { signal: controller.signal }), /stop/);
    assert.ok(performance.now() - started < 1000, 'the 30s Retry-After wait was cut short by the signal');
  });

  test('403 names verb, resource, namespace, user and the can-i check', async () => {
    reset((_req, res) =>
      sendStatus(
        res,
        403,
        'Forbidden',
        'configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "default"',
      ),
    );
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().create(lockWrite), (err: unknown) => {
      assert.ok(err instanceof CmlockError);
      assert.equal(err.exitCode, 1);
      assert.equal(
        err.message,
        'forbidden: user "alice" cannot create configmaps in namespace "default" (context "test"); ' +
          'check with: kubectl auth can-i create configmaps -n default --context test',
      );
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  test('401 says which context to check', async () => {
    reset((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"}');
    });
    const { session } = sessionFor(server.url, { token: 'bad-token-123456' });
    await assert.rejects(session.store().get('x'), {
      message:
        'unauthorized: the API server rejected the credentials of context "test"; ' +
        'check them with: kubectl --context test auth whoami',
    });
  });

  test('-v log lines: method, path, status and duration only', async () => {
    reset((_req, res) => sendJson(res, 200, configMap('x')));
    const { session, logs } = sessionFor(server.url, { token: 'sekret-token-abcdef' });
    await session.store().get('x');
    const line = logs.find((l) => l.startsWith('GET '));
    assert.match(line ?? '', /^GET \/api\/v1\/namespaces\/default\/configmaps\/x 200 in \d+ms$/);
  });
});

function configMapLock() {
  return {
    name: 'db-migrate',
    namespace: 'default',
    uid: 'uid-1',
    resourceVersion: '3',
    labels: {},
    data: {},
    ownerReferences: [],
  };
}
