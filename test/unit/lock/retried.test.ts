// Retries live in one place per request. A RetryableError that the store has already retried (its own capped
// backoff, RetryableError.retried) is reported as it is: the lock layer's 8 tries of the store's 5 turned a
// refused connection into 40 requests and 45 s before the error.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acquire, release } from '../../../src/lock/protocol.ts';
import { RetryableError } from '../../../src/lock/store.ts';
import { acquireOptions, expectCall, fixture, outcome } from './fakes.ts';

function retried(message: string): RetryableError {
  const error = new RetryableError(message);
  error.retried = true;
  return error;
}

describe('a RetryableError the store already retried', () => {
  test('acquire: reported at once, no retry of our own', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.fails('create', retried('cannot reach the API server: connection refused')));
    const got = await outcome(clock, acquire(ctx, acquireOptions()));
    store.verify();
    assert.equal(got.error?.message, 'cannot reach the API server: connection refused');
    assert.deepEqual(clock.sleeps, []);
  });

  test('release: its first read, reported at once', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.fails('get', retried('the API server answered 503')));
    const got = await outcome(clock, release(ctx, { name: 'db-migrate', force: false, ignoreNotFound: false }));
    store.verify();
    assert.ok(got.error instanceof RetryableError);
    assert.deepEqual(clock.sleeps, []);
  });

  test('one the store did not retry (e.g. a long Retry-After handed back) is still retried here', async () => {
    const { clock, store, ctx } = fixture();
    store.script(
      expectCall.fails('create', new RetryableError('too many requests', 2000)),
      expectCall.create(),
      expectCall.recordEvent(),
    );
    const got = await outcome(clock, acquire(ctx, acquireOptions()));
    store.verify();
    assert.equal(got.value?.outcome, 'acquired');
    assert.equal(clock.sleeps.length, 1);
  });
});
