// `ls -w` underneath: list, one watch of the selection, re-watch from the last resourceVersion, re-list on 410,
// EXPIRED from a timer on the server's clock, and never a tight loop.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, CmlockError } from '../../../src/errors.ts';
import { watchLocks, type LockChange } from '../../../src/lock/list-watch.ts';
import { PROTOCOL_BACKOFF } from '../../../src/lock/operation.ts';
import { RetryableError } from '../../../src/lock/store.ts';
import {
  cmlock,
  expectCall,
  fixture,
  goLock,
  outcome,
  podOwner,
  SERVER_START_MS,
  START_MONO,
  type Fixture,
} from './fakes.ts';

/** Locks that never expire, so that no expiry timer joins the sleeps a test counts. */
const lock = (name: string, resourceVersion: string, spec: Parameters<typeof cmlock>[0] = {}) =>
  cmlock({ name, resourceVersion, ttlSeconds: 0, ...spec });

interface Seen {
  listed?: string[];
  changes: string[];
  /** Local monotonic ms of each change. */
  at: number[];
}

/** Runs watchLocks until `stopAfterMs` (then cancels, as Ctrl-C does); returns what it reported. */
async function watchFor(
  f: Fixture,
  stopAfterMs: number,
  selection: { labelSelector?: string; allNamespaces?: boolean } = {},
): Promise<Seen & { error?: Error }> {
  const seen: Seen = { changes: [], at: [] };
  const abort = new AbortController();
  f.clock.sleep(stopAfterMs).then(
    () => abort.abort(new CancelledError('interrupted by SIGINT')),
    () => {},
  );
  const describeChange = (c: LockChange) =>
    `${c.type} ${c.lock.name} ${c.lock.status} ${c.lock.fence}` +
    (c.lock.waiters === undefined ? '' : ` waiting ${c.lock.waiters.map((w) => w.identity).join(',')}`);
  const result = await outcome(
    f.clock,
    watchLocks(
      f.ctx,
      { ...selection, signal: abort.signal },
      {
        listed: (locks) => (seen.listed = locks.map((l) => `${l.name} ${l.status}`)),
        changed: (change) => {
          seen.changes.push(describeChange(change));
          seen.at.push(f.clock.now() - START_MONO);
        },
      },
    ),
  );
  return { ...seen, ...(result.error ? { error: result.error } : {}) };
}

describe('watchLocks', () => {
  test('lists (sorted), then reports each event of one watch from the list resourceVersion', async () => {
    const f = fixture();
    f.store.script(
      ...expectCall.listing([lock('b', '60'), lock('a', '61')], '70'),
      expectCall.watchList([
        { afterMs: 1000 },
        { type: 'ADDED', lock: lock('c', '71') },
        { type: 'MODIFIED', lock: lock('a', '72') },
        { type: 'BOOKMARK', resourceVersion: '80' },
        { afterMs: 1000 },
        { type: 'DELETED', lock: lock('b', '81') },
        'hang',
      ]),
    );
    const got = await watchFor(f, 60_000, { labelSelector: 'team=db' });
    f.store.verify();
    assert.ok(got.error instanceof CancelledError, `cancelled, got ${String(got.error)}`);
    assert.deepEqual(got.listed, ['a Held', 'b Held']);
    assert.deepEqual(got.changes, ['ADDED c Held 71', 'MODIFIED a Held 72', 'DELETED b Held 81']);
    assert.deepEqual(got.at, [1000, 1000, 2000]);
    assert.deepEqual(f.store.callsOf('list')[0]?.options, { labelSelector: 'team=db' });
    assert.deepEqual(f.store.callsOf('watchList')[0], {
      method: 'watchList',
      options: { labelSelector: 'team=db' },
      resourceVersion: '70',
    });
  });

  test('a stream that ends is opened again from the last resourceVersion seen, without listing again', async () => {
    const f = fixture();
    f.store.script(
      ...expectCall.listing([], '70'),
      expectCall.watchList([{ afterMs: 60_000 }, { type: 'ADDED', lock: lock('a', '75') }, { afterMs: 30_000 }]),
      expectCall.watchList([{ type: 'BOOKMARK', resourceVersion: '90' }]),
      expectCall.watchList(['hang']),
    );
    const got = await watchFor(f, 200_000);
    f.store.verify();
    assert.deepEqual(
      f.store.callsOf('watchList').map((c) => c.resourceVersion),
      ['70', '75', '90'],
    );
    assert.deepEqual(got.changes, ['ADDED a Held 75']);
  });

  test('410 Gone: lists again and reports only the difference (added, changed, gone), then watches from there', async () => {
    const f = fixture();
    f.store.script(
      ...expectCall.listing([lock('keep', '60'), lock('change', '61'), lock('drop', '62')], '70'),
      expectCall.watchList([{ afterMs: 5000 }, { type: 'GONE' }]),
      ...expectCall.listing([lock('keep', '60'), lock('change', '95'), lock('new', '96')], '99'),
      expectCall.watchList(['hang']),
    );
    const got = await watchFor(f, 60_000);
    f.store.verify();
    assert.deepEqual(got.changes, ['MODIFIED change Held 95', 'ADDED new Held 96', 'DELETED drop Held 62']);
    assert.equal(f.store.callsOf('watchList')[1]?.resourceVersion, '99');
  });

  test('a lease running out is reported as EXPIRED just past expiry + 1 s on the server clock; a renewal moves it', async () => {
    const f = fixture();
    const renewed = cmlock({ name: 'a', resourceVersion: '71', ttlSeconds: 30, renewMs: SERVER_START_MS + 10_000 });
    f.store.script(
      ...expectCall.listing([cmlock({ name: 'a', resourceVersion: '60', ttlSeconds: 30 })], '70'),
      expectCall.watchList([{ afterMs: 10_000 }, { type: 'MODIFIED', lock: renewed }, 'hang']),
    );
    const got = await watchFor(f, 120_000);
    f.store.verify();
    assert.deepEqual(got.changes, ['MODIFIED a Held 71', 'EXPIRED a Expired 71']);
    assert.deepEqual(got.at, [10_000, 10_000 + 30_000 + 1001]);
  });

  test("the Go library's locks: listed by shape, watched among every ConfigMap; the rest is none of ls's business", async () => {
    const f = fixture();
    const go = (name: string, resourceVersion: string) => ({
      ...goLock({ resourceVersion }),
      name,
      uid: `uid-${name}`,
    });
    const notALock = (name: string, resourceVersion: string) => ({
      ...go(name, resourceVersion),
      ownerReferences: [podOwner('worker-7')], // a Pod's, but not as controller
    });
    const takenOver = { ...cmlock({ name: 'g1', resourceVersion: '80' }), uid: 'uid-g1' };
    f.store.script(
      // The labelled list at 70, the other at 72: the watch starts from 70, and replays what 72 already showed.
      ...expectCall.listing([lock('a', '60')], '70', [go('g1', '65'), go('g2', '71'), notALock('cache', '66')], '72'),
      expectCall.watchList([
        { type: 'ADDED', lock: go('g2', '71') }, // replayed: the second list has it
        { type: 'MODIFIED', lock: notALock('cache', '73') }, // no lock
        { type: 'DELETED', lock: notALock('cache', '74') }, // no lock, never listed
        { type: 'ADDED', lock: go('g3', '75') },
        { type: 'MODIFIED', lock: takenOver }, // cmlock took g1 over: the label, a record
        { type: 'MODIFIED', lock: { ...go('g3', '81'), ownerReferences: [] } }, // no longer a lock's shape
        { type: 'DELETED', lock: go('g2', '82') },
        'hang',
      ]),
    );
    const got = await watchFor(f, 60_000);
    f.store.verify();
    assert.deepEqual(got.listed, ['a Held', 'g1 Held', 'g2 Held']);
    assert.deepEqual(got.changes, [
      'ADDED g3 Held 75',
      'MODIFIED g1 Held 80',
      'DELETED g3 Held 75',
      'DELETED g2 Held 82',
    ]);
    assert.equal(f.store.callsOf('watchList')[0]?.resourceVersion, '70');
  });

  test('a change users cannot see (the update that makes a new lock its own owner) is not reported', async () => {
    const f = fixture();
    const created = lock('a', '71');
    const owned = {
      ...created,
      resourceVersion: '72',
      data: { ...created.data, fence: '71' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: created.uid }],
    };
    f.store.script(
      ...expectCall.listing([], '70'),
      expectCall.watchList([
        { type: 'ADDED', lock: created },
        { type: 'MODIFIED', lock: owned },
        { type: 'MODIFIED', lock: { ...owned, resourceVersion: '73', data: { ...owned.data, reason: 'now' } } },
        'hang',
      ]),
    );
    const got = await watchFor(f, 60_000);
    assert.deepEqual(got.changes, ['ADDED a Held 71', 'MODIFIED a Held 71']);
  });

  test('a waiter joining or leaving the queue is news (WAITING changes); its heartbeat is not', async () => {
    const f = fixture();
    const held = lock('a', '71', { fence: '71' });
    const entry = (identity: string, renewMs: number) => ({
      acquisitionId: identity.padEnd(32, '0'),
      identity,
      user: '',
      host: 'h',
      reason: '',
      leaseDurationSeconds: 60,
      since: new Date(SERVER_START_MS).toISOString(),
      renewTime: new Date(renewMs).toISOString(),
      heartbeatSeconds: 30,
    });
    const queued = (rv: string, ...waiters: ReturnType<typeof entry>[]) => ({
      ...held,
      resourceVersion: rv,
      data: waiters.length === 0 ? held.data : { ...held.data, waiters: JSON.stringify(waiters) },
    });
    f.store.script(
      ...expectCall.listing([held], '71'),
      expectCall.watchList([
        { type: 'MODIFIED', lock: queued('72', entry('w1', SERVER_START_MS)) },
        { type: 'MODIFIED', lock: queued('73', entry('w1', SERVER_START_MS), entry('w2', SERVER_START_MS)) },
        { type: 'MODIFIED', lock: queued('74', entry('w1', SERVER_START_MS + 500), entry('w2', SERVER_START_MS)) },
        { type: 'MODIFIED', lock: queued('75', entry('w2', SERVER_START_MS)) },
        { type: 'MODIFIED', lock: queued('76') },
        'hang',
      ]),
    );
    const got = await watchFor(f, 60_000);
    assert.deepEqual(got.changes, [
      'MODIFIED a Held 71 waiting w1',
      'MODIFIED a Held 71 waiting w1,w2',
      'MODIFIED a Held 71 waiting w2',
      'MODIFIED a Held 71',
    ]);
  });

  test('a deleted lock is not reported EXPIRED later', async () => {
    const f = fixture();
    f.store.script(
      ...expectCall.listing([cmlock({ name: 'a', resourceVersion: '60', ttlSeconds: 30 })], '70'),
      expectCall.watchList([{ afterMs: 1000 }, { type: 'DELETED', lock: lock('a', '71') }, 'hang']),
    );
    const got = await watchFor(f, 120_000);
    assert.deepEqual(got.changes, ['DELETED a Held 71']);
  });

  test('a stream failing at once is retried with capped, jittered, growing delays: never a tight loop', async () => {
    const f = fixture();
    const failures = Array.from({ length: 12 }, () =>
      expectCall.watchList([{ error: new RetryableError('connection refused') }]),
    );
    f.store.script(...expectCall.listing([], '70'), ...failures, expectCall.watchList(['hang']));
    const got = await watchFor(f, 600_000);
    f.store.verify();
    assert.ok(got.error instanceof CancelledError);
    const delays = f.clock.sleeps.slice(1); // the first sleep is the test's own stop timer
    assert.equal(delays.length, 12);
    assert.ok(
      delays.every((d, i) => i === 0 || d >= (delays[i - 1] ?? Infinity)),
      `growing: ${delays.join(', ')}`,
    );
    assert.ok((delays[0] ?? 0) >= 125, `first delay ${delays[0]}`);
    assert.ok(delays.every((d) => d <= PROTOCOL_BACKOFF.maxMs));
  });

  test('an error that will not heal (403 on watch) ends the watch with that error', async () => {
    const f = fixture();
    const forbidden = new CmlockError('configmaps is forbidden: cannot watch');
    f.store.script(...expectCall.listing([], '70'), expectCall.watchList([{ error: forbidden }]));
    const got = await watchFor(f, 60_000);
    f.store.verify();
    assert.equal(got.error, forbidden);
    assert.equal(f.clock.now(), START_MONO, 'at once, not at the stop timer');
  });

  test('a list that fails at the start (the store has spent its retries) fails the command', async () => {
    const f = fixture();
    f.store.script(expectCall.fails('list', new RetryableError('connection refused')));
    const got = await watchFor(f, 600_000);
    f.store.verify();
    assert.ok(got.error instanceof RetryableError);
    assert.equal(got.listed, undefined);
  });

  test('a re-list that fails is retried like the watch', async () => {
    const f = fixture();
    f.store.script(
      ...expectCall.listing([], '70'),
      expectCall.watchList([{ type: 'GONE' }]),
      expectCall.fails('list', new RetryableError('connection refused')),
      ...expectCall.listing([lock('a', '80')], '81'),
      expectCall.watchList(['hang']),
    );
    const got = await watchFor(f, 60_000);
    f.store.verify();
    assert.deepEqual(got.changes, ['ADDED a Held 80']);
  });
});

describe('watchLocks after a machine suspend', () => {
  test('the locks are listed again at once, and a lease that ran out while the machine slept is reported EXPIRED', async () => {
    const f = fixture();
    f.ctx.times = f.store.times();
    const short = cmlock({ name: 'short', resourceVersion: '60', ttlSeconds: 600 }); // expires in 10 minutes
    f.store.script(
      ...expectCall.listing([short], '70'),
      expectCall.watchList([{ afterMs: 5_000 }, 'hang']),
      ...expectCall.listing([short], '71'),
      expectCall.watchList(['hang']),
    );
    const stop = f.clock.sleep(5_000).then(() => f.store.suspend(3_600_000)); // the lid closed for an hour
    const seen = await watchFor(f, 8_000);
    await stop;
    f.store.verify();
    assert.deepEqual(seen.listed, ['short Held']);
    assert.deepEqual(seen.changes, ['EXPIRED short Expired 60'], 'said at once, not ten minutes of waking time later');
    assert.ok((seen.at[0] ?? Infinity) <= 5_000 + 2_000, `reported ${seen.at[0]} ms in`);
  });
});
