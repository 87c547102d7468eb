// The queue with several clients at once, over an in-memory API server (test/unit/cli/fakes.ts MemoryStore: real
// conflicts, real watch events) and one fake clock: served in arrival order, only the first in line writes on a
// handoff, a dead head is skipped after one claim, renewals ride out waiters' writes, semaphores and shared locks
// admit exactly whom they should. Deterministic: nothing sleeps for real.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acquire, release, renew, renewFrom } from '../../../src/lock/protocol.ts';
import { CLAIM_MS, occupantsOf, recordWith, type WaiterEntry } from '../../../src/lock/queue.ts';
import { ServerClock } from '../../../src/lock/server-clock.ts';
import type { AcquireOptions, AcquireResult, Holder, LockContext } from '../../../src/lock/types.ts';
import { MemoryStore } from '../cli/fakes.ts';
import { FakeClock, SERVER_START_MS, START_MONO } from './fakes.ts';

const NAME = 'db-migrate';
const CONFIGMAP_CALLS = new Set(['get', 'create', 'update', 'delete']);

interface World {
  clock: FakeClock;
  store: MemoryStore;
  ctx(identity: string): LockContext;
  /** ConfigMap requests (no watches, no Events) made since the last call. */
  requests(): string[];
}

function world(): World {
  const clock = new FakeClock({ start: START_MONO });
  const store = new MemoryStore(clock);
  let seen = 0;
  return {
    clock,
    store,
    ctx: (identity) => ({ store, clock, holder: { identity, user: identity, host: 'h' } satisfies Holder }),
    requests() {
      const calls = store.calls.slice(seen).filter((c) => CONFIGMAP_CALLS.has(c));
      seen = store.calls.length;
      return calls;
    },
  };
}

const opts = (overrides: Partial<AcquireOptions> = {}): AcquireOptions => ({
  name: NAME,
  ttlMs: 60_000,
  timeoutMs: -1,
  reason: '',
  labels: {},
  ...overrides,
});

/** Starts an acquire that waits; resolves to its result, remembered with the order it came back in. */
function waiting(w: World, identity: string, served: string[], overrides: Partial<AcquireOptions> = {}) {
  return acquire(w.ctx(identity), opts(overrides)).then((result) => {
    served.push(identity);
    return result;
  });
}

function queueOf(w: World): string[] {
  const lock = w.store.locks.get(NAME);
  return lock === undefined ? [] : occupantsOf(lock).waiters.map((x) => x.identity);
}

describe('the queue, several clients, one API server', () => {
  test('served in arrival order; each handoff is a read, an offer and a confirmation; the others stay quiet', async () => {
    const w = world();
    await w.clock.run(acquire(w.ctx('holder'), opts({ timeoutMs: 0 })));
    const served: string[] = [];
    const names = ['w1', 'w2', 'w3', 'w4', 'w5'];
    const results = new Map<string, Promise<AcquireResult>>();
    for (const name of names) {
      results.set(name, waiting(w, name, served));
      await w.clock.advance(10);
    }
    assert.deepEqual(queueOf(w), names, 'joined in the order they came');
    w.requests();
    let previous = 'holder';
    for (const name of names) {
      await w.clock.run(release(w.ctx(previous), { name: NAME, force: false, ignoreNotFound: false }));
      const got = await w.clock.run(results.get(name) ?? Promise.reject(new Error(name)));
      assert.equal(got.lock.holder, name);
      assert.deepEqual(w.requests(), ['get', 'update', 'update'], `handoff to ${name}: read, offer, confirm`);
      previous = name;
    }
    assert.deepEqual(served, names);
    await w.clock.run(release(w.ctx('w5'), { name: NAME, force: false, ignoreNotFound: false }));
    assert.equal(w.store.locks.get(NAME), undefined, 'the last release, with nobody waiting, deletes it');
  });

  test('fencing tokens increase with every holder: each is the resourceVersion of its own confirmation', async () => {
    const w = world();
    const first = await w.clock.run(acquire(w.ctx('a'), opts({ timeoutMs: 0 })));
    const b = acquire(w.ctx('b'), opts());
    await w.clock.advance(10);
    const c = acquire(w.ctx('c'), opts());
    await w.clock.advance(10);
    await w.clock.run(release(w.ctx('a'), { name: NAME, force: false, ignoreNotFound: false }));
    const second = await w.clock.run(b);
    await w.clock.run(release(w.ctx('b'), { name: NAME, force: false, ignoreNotFound: false }));
    const third = await w.clock.run(c);
    const fences = [first, second, third].map((r) => BigInt(r.lock.fence));
    assert.deepEqual(
      [...fences].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      fences,
      fences.join(' < '),
    );
    assert.equal(new Set(fences).size, 3);
    assert.equal(second.lock.fence, second.stored.resourceVersion);
  });

  test('a head that died in line is offered the lock, does not confirm, and is skipped by the next one claim later', async () => {
    const w = world();
    await w.clock.run(acquire(w.ctx('holder'), opts({ timeoutMs: 0 })));
    // A waiter that was SIGKILLed: its entry is there (with a recent heartbeat), its process is not.
    const held = w.store.locks.get(NAME);
    assert.ok(held);
    const ghost: WaiterEntry = {
      acquisitionId: 'd'.repeat(32),
      identity: 'ghost',
      user: '',
      host: 'h',
      reason: '',
      leaseDurationSeconds: 60,
      since: new Date(SERVER_START_MS).toISOString(),
      renewTime: new Date(SERVER_START_MS).toISOString(),
      heartbeatSeconds: 30,
    };
    const occ = occupantsOf(held);
    await w.store.update(
      { ...held, data: recordWith(held.data, { holders: occ.holders, waiters: [ghost], limit: 1 }) },
      held.resourceVersion,
    );
    const served: string[] = [];
    const next = waiting(w, 'next', served);
    await w.clock.advance(10);
    assert.deepEqual(queueOf(w), ['ghost', 'next']);
    await w.clock.run(release(w.ctx('holder'), { name: NAME, force: false, ignoreNotFound: false }));
    const releasedAt = w.clock.now();
    assert.equal(w.store.locks.get(NAME)?.data['holderIdentity'], 'ghost', 'offered to the head');
    const got = await w.clock.run(next);
    assert.equal(got.lock.holder, 'next');
    assert.equal(w.clock.now() - releasedAt, CLAIM_MS, 'one claim, then the skip');
    assert.deepEqual(queueOf(w), [], 'the dead head is gone with it');
  });

  test('Ctrl-C in line: out of the queue at once, one request; the rest keep their order', async () => {
    const w = world();
    await w.clock.run(acquire(w.ctx('holder'), opts({ timeoutMs: 0 })));
    const stop = new AbortController();
    const quitter = acquire(w.ctx('quitter'), opts({ signal: stop.signal })).catch((e: unknown) => e);
    await w.clock.advance(10);
    const served: string[] = [];
    const stays = waiting(w, 'stays', served);
    await w.clock.advance(10);
    w.requests();
    stop.abort();
    await w.clock.run(quitter);
    assert.deepEqual(w.requests(), ['update'], 'one write: leaving');
    assert.deepEqual(queueOf(w), ['stays']);
    await w.clock.run(release(w.ctx('holder'), { name: NAME, force: false, ignoreNotFound: false }));
    assert.equal((await w.clock.run(stays)).lock.holder, 'stays');
  });

  test('a holder whose lease runs out with a queue behind it: taken over by the first in line only', async () => {
    const w = world();
    await w.clock.run(acquire(w.ctx('dead'), opts({ timeoutMs: 0, ttlMs: 5000 })));
    const served: string[] = [];
    const first = waiting(w, 'first', served);
    await w.clock.advance(10);
    const second = waiting(w, 'second', served);
    await w.clock.advance(10);
    w.requests();
    const got = await w.clock.run(first);
    assert.equal(got.outcome, 'tookOver');
    assert.ok(w.clock.now() >= START_MONO + 6000, 'not before lease + 1 s');
    assert.deepEqual(w.requests(), ['update'], 'one write: the first in line took it over; the second stayed quiet');
    assert.deepEqual(queueOf(w), ['second']);
    void second;
  });

  test("run's renewals ride out waiters' writes: a 409, a read, the renewal again", async () => {
    const w = world();
    const holder = { ...w.ctx('holder'), serverClock: new ServerClock(w.clock) }; // as run shares one
    const held = await w.clock.run(acquire(holder, opts({ timeoutMs: 0 })));
    void acquire(w.ctx('joiner'), opts());
    await w.clock.advance(10);
    w.requests();
    const renewed = await w.clock.run(renewFrom(holder, { from: held.stored }));
    assert.deepEqual(w.requests(), ['update', 'get', 'update']);
    assert.equal(renewed.lock.holder, 'holder');
    assert.equal(renewed.lock.fence, held.lock.fence, 'the same hold');
    assert.deepEqual(queueOf(w), ['joiner'], 'the queue kept');
  });
});

describe('semaphores and shared locks, several clients', () => {
  test('a semaphore of 2 under 4 contenders: two hold, two wait; each release admits the next', async () => {
    const w = world();
    const served: string[] = [];
    const all = ['a', 'b', 'c', 'd'].map((name) => waiting(w, name, served, { limit: 2 }));
    await w.clock.advance(2000); // all four race the create; the losers read, race the free slot, pause, join
    assert.deepEqual([...served].sort(), ['a', 'b']);
    assert.deepEqual(queueOf(w), ['c', 'd']);
    const [first, second] = served;
    await w.clock.run(release(w.ctx(first ?? ''), { name: NAME, force: false, ignoreNotFound: false }));
    await w.clock.advance(50);
    assert.deepEqual(served.slice(2), ['c'], 'the first in line, not the last');
    const lock = w.store.locks.get(NAME);
    assert.ok(lock);
    assert.deepEqual(
      occupantsOf(lock).holders.map((h) => h.identity),
      [second, 'c'],
    );
    void all;
  });

  test('readers share; a writer waits for them; a reader arriving behind the writer waits for the writer', async () => {
    const w = world();
    const served: string[] = [];
    await w.clock.run(acquire(w.ctx('r1'), opts({ timeoutMs: 0, shared: true })));
    await w.clock.run(acquire(w.ctx('r2'), opts({ timeoutMs: 0, shared: true })));
    const writer = waiting(w, 'writer', served);
    await w.clock.advance(10);
    const late = waiting(w, 'late-reader', served, { shared: true });
    await w.clock.advance(10);
    assert.deepEqual(queueOf(w), ['writer', 'late-reader'], 'the late reader did not join the readers');
    await w.clock.run(release(w.ctx('r1'), { name: NAME, force: false, ignoreNotFound: false }));
    await w.clock.advance(10);
    assert.deepEqual(served, [], 'r2 still reads');
    await w.clock.run(release(w.ctx('r2'), { name: NAME, force: false, ignoreNotFound: false }));
    assert.equal((await w.clock.run(writer)).lock.holder, 'writer');
    await w.clock.run(release(w.ctx('writer'), { name: NAME, force: false, ignoreNotFound: false }));
    assert.equal((await w.clock.run(late)).lock.holder, 'late-reader');
    assert.deepEqual(served, ['writer', 'late-reader']);
  });

  test('shared holders renew their own entries; the lock stays held until the last one goes', async () => {
    const w = world();
    await w.clock.run(acquire(w.ctx('r1'), opts({ timeoutMs: 0, shared: true, ttlMs: 10_000 })));
    await w.clock.run(acquire(w.ctx('r2'), opts({ timeoutMs: 0, shared: true, ttlMs: 10_000 })));
    await w.clock.advance(5000);
    const view = await w.clock.run(renew(w.ctx('r2'), { name: NAME }));
    assert.equal(view.holder, 'r2', "renew prints the caller's own hold");
    await w.clock.run(release(w.ctx('r2'), { name: NAME, force: false, ignoreNotFound: false }));
    assert.equal(w.store.locks.get(NAME)?.data['holderIdentity'], 'r1');
    await w.clock.run(release(w.ctx('r1'), { name: NAME, force: false, ignoreNotFound: false }));
    assert.equal(w.store.locks.get(NAME), undefined);
  });
});
