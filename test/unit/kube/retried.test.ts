// The client is cmlock's one retry loop: it sends again what the server certainly did not apply, with the shared
// backoff, after at least Retry-After, and never waits past the caller's deadline. What it cannot wait for goes
// back to the caller as RetryableError with the Retry-After, for a caller that schedules its own next attempt.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RetryableError } from '../../../src/lock/store.ts';
import { closedPort, FakeApiServer, sendJson, sendStatus, sessionFor } from './fake-server.ts';

describe('transport retries', () => {
  let server: FakeApiServer;
  before(async () => {
    server = await FakeApiServer.start();
  });
  after(async () => {
    await server.close();
  });

  test('connection refused: retried up to maxAttempts with growing, capped delays, then reported', async () => {
    const { session, sleeps } = sessionFor(`http://127.0.0.1:${await closedPort()}`);
    await assert.rejects(session.store().get('x'), RetryableError);
    assert.deepEqual(sleeps, [1, 2], 'fastTuning: 3 attempts, 1 ms doubling, capped at 2 ms');
  });

  test('a Retry-After longer than the client waits, no deadline: handed back at once, with the Retry-After', async () => {
    server.handler = (_req, res) => sendStatus(res, 429, 'TooManyRequests', 'later', {}, { 'retry-after': '3600' });
    const { session, sleeps } = sessionFor(server.url);
    await assert.rejects(session.store().get('x'), (err: unknown) => {
      assert.ok(err instanceof RetryableError);
      assert.equal(err.retryAfterMs, 3_600_000);
      return true;
    });
    assert.deepEqual(sleeps, []);
  });

  test('a Retry-After that would end past the deadline: reported at once, no pointless wait', async () => {
    server.requests.length = 0;
    server.handler = (_req, res) => sendStatus(res, 429, 'TooManyRequests', 'later', {}, { 'retry-after': '5' });
    const { session, sleeps } = sessionFor(server.url);
    const deadline = performance.now() + 2000;
    await assert.rejects(session.store().create(lockWrite(), { deadline }), RetryableError);
    assert.deepEqual(sleeps, []);
    assert.equal(server.requests.length, 1);
  });

  test('a Retry-After within the deadline is waited for, even beyond maxWaitMs', async () => {
    let calls = 0;
    server.requests.length = 0;
    server.handler = (_req, res) => {
      if (calls++ === 0) sendStatus(res, 429, 'TooManyRequests', 'later', {}, { 'retry-after': '90' });
      else sendJson(res, 200, { kind: 'ConfigMap', metadata: { name: 'x', uid: 'u', resourceVersion: '1' } });
    };
    const { session, sleeps } = sessionFor(server.url);
    const { value } = await session.store().get('x', { deadline: performance.now() + 600_000 });
    assert.equal(value?.name, 'x');
    assert.deepEqual(sleeps, [90_000]);
  });

  test('a call allowed one attempt only: not retried', async () => {
    const { session, sleeps } = sessionFor(`http://127.0.0.1:${await closedPort()}`, {
      tuning: { retry: { maxAttempts: 1, initialMs: 1, maxMs: 1 } },
    });
    await assert.rejects(session.store().get('x'), RetryableError);
    assert.deepEqual(sleeps, []);
  });
});

function lockWrite() {
  return { name: 'x', labels: {}, data: {}, ownerReferences: [] };
}
