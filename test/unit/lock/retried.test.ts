// One owner for transport retries: the store (kube/client.ts) retries what the server certainly did not apply,
// within the operation's deadline; the protocol sends each request once. A RetryableError reaching the protocol
// has had its retries, so it is reported as it is (nested retries multiply: 8 lock-level tries of 5 store-level
// ones once took 45 s to report a refused connection).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acquire, release } from '../../../src/lock/protocol.ts';
import { waitUntilFree } from '../../../src/lock/wait.ts';
import { RetryableError } from '../../../src/lock/store.ts';
import { acquireOptions, expectCall, fixture, outcome, START_MONO } from './fakes.ts';

describe('the protocol does not retry a RetryableError', () => {
  test('acquire: reported at once, no pause of its own', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.fails('create', new RetryableError('cannot reach the API server: connection refused')));
    const got = await outcome(clock, acquire(ctx, acquireOptions()));
    store.verify();
    assert.equal(got.error?.message, 'cannot reach the API server: connection refused');
    assert.deepEqual(clock.sleeps, []);
  });

  test('acquire: also one with a Retry-After (the store handed it back: it would outlive the deadline)', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.fails('create', new RetryableError('too many requests', 2000)));
    const got = await outcome(clock, acquire(ctx, acquireOptions({ timeoutMs: 1000 })));
    store.verify();
    assert.equal(got.error?.message, 'too many requests');
    assert.deepEqual(clock.sleeps, []);
  });

  test('release: its first read, reported at once', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.fails('get', new RetryableError('the API server answered 503')));
    const got = await outcome(clock, release(ctx, { name: 'db-migrate', force: false, ignoreNotFound: false }));
    store.verify();
    assert.ok(got.error instanceof RetryableError);
    assert.deepEqual(clock.sleeps, []);
  });
});

describe('every request carries the operation deadline, so the store never retries past it', () => {
  test('acquire --timeout 5s: the deadline is the start plus 5 s', async () => {
    const { clock, store, ctx } = fixture({ knownServerClock: false });
    store.script(expectCall.get(undefined), expectCall.create(), expectCall.update(), expectCall.recordEvent());
    await clock.run(acquire(ctx, acquireOptions({ timeoutMs: 5000 })));
    store.verify();
    assert.deepEqual(store.deadlines, [START_MONO + 5000, START_MONO + 5000, START_MONO + 5000]);
  });

  test('acquire without a limit (or try-once): no deadline', async () => {
    for (const timeoutMs of [-1, 0]) {
      const { clock, store, ctx } = fixture();
      store.script(expectCall.create(), expectCall.update(), expectCall.recordEvent());
      await clock.run(acquire(ctx, acquireOptions({ timeoutMs })));
      store.verify();
      assert.deepEqual(store.deadlines, [undefined, undefined]);
    }
  });

  test('wait --timeout 2s', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.get(undefined));
    await clock.run(waitUntilFree(ctx, { name: 'db-migrate', timeoutMs: 2000 }));
    store.verify();
    assert.deepEqual(store.deadlines, [START_MONO + 2000]);
  });
});
