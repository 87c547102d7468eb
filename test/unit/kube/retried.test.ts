// The Kubernetes client retries a RetryableError itself and then marks it `retried`, so that the lock layer does
// not retry it again (nested retries multiply). An error it hands back without retrying is not marked.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RetryableError } from '../../../src/lock/store.ts';
import { closedPort, FakeApiServer, sendStatus, sessionFor } from './fake-server.ts';

describe('RetryableError.retried', () => {
  let server: FakeApiServer;
  before(async () => {
    server = await FakeApiServer.start();
  });
  after(async () => {
    await server.close();
  });

  test('connection refused, after the client retried it: marked', async () => {
    const { session, sleeps } = sessionFor(`http://127.0.0.1:${await closedPort()}`);
    await assert.rejects(session.store().get('x'), (err: unknown) => {
      assert.ok(err instanceof RetryableError, String(err));
      assert.equal(err.retried, true);
      return true;
    });
    assert.equal(sleeps.length, 2, 'the client did retry (fastTuning: 3 attempts)');
  });

  test('503 on a read, after the client retried it: marked', async () => {
    server.handler = (_req, res) => sendStatus(res, 503, 'ServiceUnavailable', 'etcd is down');
    const { session } = sessionFor(server.url);
    await assert.rejects(session.store().list({}), (err: unknown) => err instanceof RetryableError && err.retried);
  });

  test('a Retry-After longer than the client waits: handed back unmarked, for the caller to decide', async () => {
    server.handler = (_req, res) => sendStatus(res, 429, 'TooManyRequests', 'later', {}, { 'retry-after': '3600' });
    const { session, sleeps } = sessionFor(server.url);
    await assert.rejects(session.store().get('x'), (err: unknown) => {
      assert.ok(err instanceof RetryableError);
      assert.equal(err.retried, false);
      return true;
    });
    assert.deepEqual(sleeps, []);
  });

  test('a call allowed one attempt only: not retried, so not marked', async () => {
    const { session } = sessionFor(`http://127.0.0.1:${await closedPort()}`, {
      tuning: { retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } },
    });
    await assert.rejects(session.store().get('x'), (err: unknown) => err instanceof RetryableError && !err.retried);
  });
});
