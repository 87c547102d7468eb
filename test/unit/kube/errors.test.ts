import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CmlockError } from '../../../src/errors.ts';
import {
  CredentialError,
  ForbiddenError,
  mapRequestError,
  mapStatus,
  parseRetryAfter,
  ResourceNotFoundError,
  type ErrorContext,
  type RequestSpec,
} from '../../../src/kube/errors.ts';
import {
  AlreadyExistsError,
  AmbiguousWriteError,
  ConflictError,
  RetryableError,
  StoreNotFoundError,
} from '../../../src/lock/store.ts';

const ctx: ErrorContext = {
  contextName: 'alice',
  server: 'https://api:6443',
  inCluster: false,
  redact: (t) => t.replaceAll('s3cr3t-token', '[REDACTED]'),
};
const path = '/api/v1/namespaces/default/configmaps';
const get: RequestSpec = { verb: 'get', resource: 'configmaps', namespace: 'default', name: 'l', method: 'GET', path };
const create: RequestSpec = { ...get, verb: 'create', method: 'POST' };
const update: RequestSpec = { ...get, verb: 'update', method: 'PUT' };
const list: RequestSpec = { verb: 'list', resource: 'configmaps', allNamespaces: true, method: 'GET', path };

const status = (code: number, reason: string, message: string, details?: object): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, details });

/** What client-node 2.x throws: ApiException-shaped (code, raw body string, response headers). */
function apiException(code: number, body?: string, headers: Record<string, string> = {}): Error {
  return Object.assign(
    new Error(`HTTP-Code: ${code}\nMessage: x\nBody: ${body}\nHeaders: ${JSON.stringify(headers)}`),
    {
      code,
      body,
      headers,
    },
  );
}

/** What undici's fetch throws: TypeError('fetch failed', { cause }). */
function fetchFailed(code: string, message = code): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

const sent = { sent: true, timedOut: false, timeoutMs: 30_000 };
const notSent = { sent: false, timedOut: false, timeoutMs: 30_000 };

describe('error mapping', () => {
  const cases: {
    name: string;
    err: unknown;
    spec: RequestSpec;
    state?: typeof sent;
    type: new (...args: never[]) => Error;
    message?: string | RegExp;
    retryAfterMs?: number;
  }[] = [
    {
      name: '409 AlreadyExists',
      err: apiException(409, status(409, 'AlreadyExists', 'exists')),
      spec: create,
      type: AlreadyExistsError,
    },
    {
      name: '409 Conflict',
      err: apiException(409, status(409, 'Conflict', 'modified')),
      spec: update,
      type: ConflictError,
    },
    { name: '409 without a Status', err: apiException(409, 'oops'), spec: update, type: ConflictError },
    {
      name: '404 on a lock',
      err: apiException(404, status(404, 'NotFound', 'nope')),
      spec: update,
      type: StoreNotFoundError,
    },
    {
      name: '404 about the namespace',
      err: apiException(
        404,
        status(404, 'NotFound', 'namespaces "team" not found', { name: 'team', kind: 'namespaces' }),
      ),
      spec: create,
      type: CmlockError,
      message: 'namespace "team" not found',
    },
    {
      name: '404 on a pod',
      err: apiException(404, status(404, 'NotFound', 'x')),
      spec: { ...get, resource: 'pods', name: 'web-0' },
      type: ResourceNotFoundError,
      message: 'pods "web-0" not found in namespace "default"',
    },
    {
      name: '403 RBAC, user from the Status',
      err: apiException(
        403,
        status(
          403,
          'Forbidden',
          'configmaps "l" is forbidden: User "alice" cannot update resource "configmaps" in API group "" in the namespace "default"',
        ),
      ),
      spec: update,
      type: ForbiddenError,
      message:
        'forbidden: user "alice" cannot update configmaps in namespace "default" (context "alice"); check with: kubectl auth can-i update configmaps -n default --context alice',
    },
    {
      name: '403 with no body: "you"',
      err: apiException(403),
      spec: list,
      type: ForbiddenError,
      message:
        'forbidden: you cannot list configmaps in any namespace (context "alice"); check with: kubectl auth can-i list configmaps --all-namespaces --context alice',
    },
    {
      name: '403 from an admission webhook keeps its own message',
      err: apiException(
        403,
        status(403, 'Forbidden', 'admission webhook "deny.example.com" denied the request: frozen'),
      ),
      spec: create,
      type: ForbiddenError,
      message: 'forbidden (context "alice"): admission webhook "deny.example.com" denied the request: frozen',
    },
    {
      name: '401',
      err: apiException(401),
      spec: get,
      type: CmlockError,
      message:
        'unauthorized: the API server rejected the credentials of context "alice"; check them with: kubectl --context alice auth whoami',
    },
    {
      name: '429 seconds',
      err: apiException(429, status(429, 'TooManyRequests', 'x'), { 'retry-after': '3' }),
      spec: create,
      type: RetryableError,
      retryAfterMs: 3000,
    },
    {
      name: '429 without Retry-After',
      err: apiException(429),
      spec: get,
      type: RetryableError,
      retryAfterMs: undefined,
    },
    {
      name: '500 on a read',
      err: apiException(500, status(500, 'InternalError', 'etcd')),
      spec: get,
      type: RetryableError,
      message: 'the API server https://api:6443 answered 500: etcd',
    },
    {
      name: '503 on a read with Retry-After',
      err: apiException(503, '', { 'retry-after': '2' }),
      spec: get,
      type: RetryableError,
      retryAfterMs: 2000,
    },
    {
      name: '500 on a write',
      err: apiException(500, status(500, 'InternalError', 'etcd')),
      spec: create,
      type: AmbiguousWriteError,
      message: /may or may not have been applied/,
    },
    { name: '504 on an update', err: apiException(504), spec: update, type: AmbiguousWriteError },
    {
      name: '422 is neither retried nor ambiguous; status code and message only',
      err: apiException(422, status(422, 'Invalid', 'ConfigMap "l" is invalid: data: Too long')),
      spec: create,
      type: CmlockError,
      message:
        'the API server rejected create configmaps "l" with 422 Invalid: ConfigMap "l" is invalid: data: Too long',
    },
    {
      name: 'connection refused on a write: never sent, retryable',
      err: fetchFailed('ECONNREFUSED'),
      spec: create,
      type: RetryableError,
      message: 'cannot reach the API server https://api:6443 (context "alice"): connection refused',
    },
    {
      name: 'happy eyeballs AggregateError',
      err: new TypeError('fetch failed', {
        cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
      }),
      spec: get,
      type: RetryableError,
      message: /connection refused$/,
    },
    { name: 'DNS', err: fetchFailed('ENOTFOUND'), spec: get, type: RetryableError, message: /: no such host$/ },
    {
      name: 'TLS',
      err: fetchFailed('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
      spec: get,
      type: CmlockError,
      message:
        'cannot reach the API server https://api:6443 (context "alice"): certificate verification failed (self-signed certificate); check certificate-authority in the kubeconfig',
    },
    {
      name: 'reset on a read',
      err: fetchFailed('UND_ERR_SOCKET'),
      spec: get,
      type: RetryableError,
      message: /lost the connection/,
    },
    { name: 'reset on a write after sending', err: fetchFailed('ECONNRESET'), spec: create, type: AmbiguousWriteError },
    {
      name: 'reset on a write never sent',
      err: fetchFailed('ECONNRESET'),
      spec: create,
      state: notSent,
      type: RetryableError,
    },
    {
      name: 'timeout on a write after sending',
      err: new DOMException('timeout', 'TimeoutError'),
      spec: update,
      state: { sent: true, timedOut: true, timeoutMs: 30_000 },
      type: AmbiguousWriteError,
      message: /did not answer the update of configmap "l" within 30s/,
    },
    {
      name: 'timeout on a read',
      err: new DOMException('timeout', 'TimeoutError'),
      spec: get,
      state: { sent: true, timedOut: true, timeoutMs: 1500 },
      type: RetryableError,
      message: 'the API server https://api:6443 (context "alice") did not answer within 1.5s',
    },
    {
      name: 'already mapped passes through',
      err: new CredentialError('cannot get credentials'),
      spec: get,
      type: CredentialError,
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      const err = mapRequestError(c.err, c.spec, ctx, c.state ?? sent);
      assert.ok(err instanceof c.type, `${c.name}: got ${err.name}: ${err.message}`);
      if (typeof c.message === 'string') assert.equal(err.message, c.message);
      else if (c.message) assert.match(err.message, c.message);
      if ('retryAfterMs' in c) assert.equal((err as RetryableError).retryAfterMs, c.retryAfterMs);
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.ok(!err.message.includes('HTTP-Code'), 'never the ApiException message');
      assert.equal(err.cause, undefined, 'no cause that could carry headers');
    });
  }

  test('a Status message is redacted, flattened and escaped', () => {
    const body = status(500, 'InternalError', 'echo: Authorization: Bearer s3cr3t-token\n\u001b[31mred');
    const err = mapStatus(500, body, undefined, get, ctx);
    assert.ok(!err.message.includes('s3cr3t-token'));
    assert.ok(!err.message.includes('\u001b'));
    assert.ok(!err.message.includes('\n'));
  });

  test('in-cluster: no --context in the hints', () => {
    const pod = { ...ctx, inCluster: true };
    assert.equal(
      mapStatus(403, undefined, undefined, create, pod).message,
      'forbidden: you cannot create configmaps in namespace "default" (in-cluster service account); check with: kubectl auth can-i create configmaps -n default',
    );
    assert.match(mapStatus(401, undefined, undefined, get, pod).message, /service account token/);
  });

  test('context names that need quoting are quoted in the hints', () => {
    const odd = { ...ctx, contextName: "arn:aws:eks:eu-west-1:1:cluster/prod it's" };
    assert.match(
      mapStatus(403, undefined, undefined, get, odd).message,
      /--context 'arn:aws:eks:eu-west-1:1:cluster\/prod it'\\''s'$/,
    );
  });

  test('Retry-After: seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('5'), 5000);
    assert.equal(parseRetryAfter(' 0 '), 0);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});
