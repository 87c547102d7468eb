// release, renew, renewFrom, describe, list and fencing, as tables of scripted store calls.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LockNotFoundError, NotHolderError } from '../../../src/errors.ts';
import { NotYourLockError } from '../../../src/lock/errors.ts';
import type { Holder, LockView, ReleaseOptions, ReleaseResult, RenewOptions } from '../../../src/lock/types.ts';
import { acquire, describe as describeLock, list, release, renew, renewFrom } from '../../../src/lock/protocol.ts';
import { compareFences } from '../../../src/lock/record.ts';
import { ServerClock } from '../../../src/lock/server-clock.ts';
import {
  AlreadyExistsError,
  AmbiguousWriteError,
  ConflictError,
  StoreNotFoundError,
  type StoredLock,
} from '../../../src/lock/store.ts';
import {
  acquireOptions,
  ALICE,
  BOB,
  cmlock,
  expectCall,
  FakeClock,
  FakeStore,
  fixture,
  goLock,
  podOwner,
  NAMESPACE,
  outcome,
  SERVER_START_MS,
  START_MONO,
  type Step,
} from './fakes.ts';

const CAROL: Holder = { identity: 'carol@host3', user: 'carol', host: 'host3' };
const START_S = SERVER_START_MS / 1000;
const mine = (spec: Parameters<typeof cmlock>[0] = {}) =>
  cmlock({ holder: ALICE, acquisitionId: 'a'.repeat(32), uid: 'uid-a', resourceVersion: '70', ...spec });
const bobs = () => cmlock({ renewMs: SERVER_START_MS - 60_000, reason: 'migrating' });
const BOB_TEXT =
  'bob@host2 (user bob) since 2026-11-26T06:29:00Z, reason "migrating", expires 2026-11-26T06:59:00Z (in 29m)';

interface ReleaseCase {
  name: string;
  opts?: Partial<ReleaseOptions>;
  script: Step[];
  want: { forced: boolean; holder?: string } | { error: string | RegExp; exitCode: number };
  check?: (store: FakeStore, result?: ReleaseResult, error?: Error) => void;
}

const releaseCases: ReleaseCase[] = [
  {
    name: 'by the holder: delete with the exact uid and resourceVersion inspected, then a Released event',
    script: [expectCall.get(mine()), expectCall.delete(), expectCall.recordEvent()],
    want: { forced: false, holder: 'alice@host1' },
    check: (store) => {
      assert.deepEqual(store.callsOf('delete')[0]?.preconditions, { uid: 'uid-a', resourceVersion: '70' });
      assert.equal(store.callsOf('recordEvent')[0]?.event.reason, 'Released');
      assert.equal(store.callsOf('recordEvent')[0]?.event.message, 'alice@host1 (user alice) released the lock');
    },
  },
  {
    name: 'by someone else: NotYourLockError naming the holder (the command adds --force); no delete',
    script: [expectCall.get(bobs())],
    want: { error: `lock "db-migrate" is held by ${BOB_TEXT}, not by you (alice@host1)`, exitCode: 4 },
    check: (_store, _result, error) => {
      assert.ok(error instanceof NotYourLockError);
      assert.equal(error.operation, 'release');
      assert.equal(error.changedHands, false);
      assert.equal(error.holder.holder, 'bob@host2');
      assert.equal(error.identity, 'alice@host1');
    },
  },
  {
    name: '--force: the ForceReleased Warning is recorded before the delete',
    opts: { force: true },
    script: [expectCall.get(bobs()), expectCall.recordEvent(), expectCall.delete()],
    want: { forced: true, holder: 'bob@host2' },
    check: (store) => {
      assert.deepEqual(store.methods(), ['get', 'recordEvent', 'delete']);
      assert.deepEqual(store.callsOf('recordEvent')[0]?.event, {
        reason: 'ForceReleased',
        type: 'Warning',
        message: 'alice@host1 (user alice) force-released the lock held by bob@host2',
      });
      assert.deepEqual(store.callsOf('delete')[0]?.preconditions, { uid: 'uid-held', resourceVersion: '50' });
    },
  },
  {
    name: '--force on a Go library lock',
    opts: { force: true },
    script: [expectCall.get(goLock({ expiresAtSeconds: START_S + 60 })), expectCall.recordEvent(), expectCall.delete()],
    want: { forced: true, holder: 'pod/worker-7' },
    check: (store) =>
      assert.match(
        store.callsOf('recordEvent')[0]?.event.message ?? '',
        /force-released the lock held by pod\/worker-7$/,
      ),
  },
  {
    name: 'Conflict, and the lock now belongs to someone else: NotHolderError, no second delete',
    script: [
      expectCall.get(mine()),
      expectCall.delete(new ConflictError('db-migrate')),
      expectCall.get(cmlock({ holder: CAROL, uid: 'uid-c', resourceVersion: '90' })),
    ],
    want: { error: /^lock "db-migrate" is held by carol@host3 .*; it changed hands while being released/, exitCode: 4 },
    check: (store) => assert.equal(store.callsOf('delete').length, 1),
  },
  {
    name: 'Conflict with --force, and the lock now belongs to someone else: refused all the same',
    opts: { force: true },
    script: [
      expectCall.get(bobs()),
      expectCall.recordEvent(),
      expectCall.delete(new ConflictError('db-migrate')),
      expectCall.get(cmlock({ holder: CAROL, acquisitionId: 'c'.repeat(32), resourceVersion: '90' })),
    ],
    want: { error: /^lock "db-migrate" is held by carol@host3 .*left untouched$/, exitCode: 4 },
    check: (store) => assert.equal(store.callsOf('delete').length, 1),
  },
  {
    name: 'Conflict, still ours (renewed meanwhile): delete again with the new resourceVersion',
    script: [
      expectCall.get(mine()),
      expectCall.delete(new ConflictError('db-migrate')),
      expectCall.get(mine({ resourceVersion: '75', fence: '70' })),
      expectCall.delete(),
      expectCall.recordEvent(),
    ],
    want: { forced: false, holder: 'alice@host1' },
    check: (store) =>
      assert.deepEqual(
        store.callsOf('delete').map((c) => c.preconditions.resourceVersion),
        ['70', '75'],
      ),
  },
  {
    name: 'lost delete response, and the lock is gone: released, no second delete',
    script: [expectCall.get(mine()), expectCall.delete('lost'), expectCall.get(undefined), expectCall.recordEvent()],
    want: { forced: false, holder: 'alice@host1' },
    check: (store) => assert.equal(store.callsOf('delete').length, 1),
  },
  {
    name: 'lost delete response, and the lock is unchanged: the delete did not happen; delete again',
    script: [
      expectCall.get(mine()),
      expectCall.delete(new AmbiguousWriteError('timeout')),
      expectCall.get(mine()),
      expectCall.delete(),
      expectCall.recordEvent(),
    ],
    want: { forced: false, holder: 'alice@host1' },
  },
  {
    name: 'missing: LockNotFoundError',
    script: [expectCall.get(undefined)],
    want: { error: 'lock "db-migrate" not found in namespace "team-a"', exitCode: 5 },
  },
  {
    name: 'missing with --ignore-not-found: fine',
    opts: { ignoreNotFound: true },
    script: [expectCall.get(undefined)],
    want: { forced: false },
  },
  {
    name: 'deleted by someone else between our read and our delete: not found',
    script: [
      expectCall.get(mine()),
      expectCall.delete(new StoreNotFoundError('db-migrate')),
      expectCall.get(undefined),
    ],
    want: { error: 'lock "db-migrate" not found in namespace "team-a"', exitCode: 5 },
  },
];

describe('release', () => {
  for (const c of releaseCases) {
    test(c.name, async () => {
      const { clock, store, ctx } = fixture();
      store.script(...c.script);
      const options: ReleaseOptions = { name: 'db-migrate', force: false, ignoreNotFound: false, ...c.opts };
      const got = await outcome(clock, release(ctx, options));
      store.verify();
      if ('error' in c.want) {
        assert.ok(got.error, 'expected an error');
        if (typeof c.want.error === 'string') assert.equal(got.error.message, c.want.error);
        else assert.match(got.error.message, c.want.error);
        assert.equal((got.error as NotHolderError).exitCode, c.want.exitCode);
      } else {
        if (got.error) throw got.error;
        assert.equal(got.value.forced, c.want.forced);
        assert.equal(got.value.released?.holder, c.want.holder);
      }
      c.check?.(store, got.value, got.error);
    });
  }
});

interface RenewCase {
  name: string;
  opts?: Partial<RenewOptions>;
  script: Step[];
  want: { fence: string } | { error: string | RegExp; type: new (message: string) => Error };
  check?: (store: FakeStore, view?: LockView) => void;
}

const renewCases: RenewCase[] = [
  {
    name: 'by the holder: update with the resourceVersion; fence written down, lease kept',
    script: [expectCall.get(mine({ renewMs: SERVER_START_MS - 10_000, ttlSeconds: 30 })), expectCall.update()],
    want: { fence: '70' },
    check: (store, view) => {
      const [update] = store.callsOf('update');
      assert.equal(update?.resourceVersion, '70');
      assert.equal(update?.lock.data.fence, '70');
      assert.equal(update?.lock.data.renewTime, '2026-11-26T06:30:00.000Z');
      assert.equal(update?.lock.data.leaseDurationSeconds, '30');
      assert.equal(update?.lock.data.expiresAt, String(START_S + 30));
      assert.equal(update?.lock.data.acquisitionId, 'a'.repeat(32));
      assert.equal(view?.expiresAt, '2026-11-26T06:30:30.000Z');
    },
  },
  {
    name: '--ttl changes the lease',
    opts: { ttlMs: 120_000 },
    script: [expectCall.get(mine({ fence: '66', renewMs: SERVER_START_MS - 10_000 })), expectCall.update()],
    want: { fence: '66' },
    check: (store) => {
      assert.equal(store.callsOf('update')[0]?.lock.data.leaseDurationSeconds, '120');
      assert.equal(store.callsOf('update')[0]?.lock.data.expiresAt, String(START_S + 120));
    },
  },
  {
    name: 'by someone else: NotHolderError naming the holder; no update',
    script: [expectCall.get(bobs())],
    want: { error: `lock "db-migrate" is held by ${BOB_TEXT}, not by you (alice@host1)`, type: NotHolderError },
  },
  {
    name: 'missing: LockNotFoundError',
    script: [expectCall.get(undefined)],
    want: { error: 'lock "db-migrate" not found in namespace "team-a"', type: LockNotFoundError },
  },
  {
    name: 'Conflict, and the re-read shows a takeover: NotHolderError',
    script: [
      expectCall.get(mine()),
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get(cmlock({ holder: CAROL, resourceVersion: '90' })),
    ],
    want: { error: /^lock "db-migrate" is held by carol@host3/, type: NotHolderError },
  },
  {
    name: 'Conflict again and again while still ours (waiters join and beat their hearts): read, retry, renewed',
    script: [
      expectCall.get(mine()),
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get(mine({ resourceVersion: '71', fence: '70' })),
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get(mine({ resourceVersion: '72', fence: '70' })),
      expectCall.update(),
    ],
    want: { fence: '70' },
    check: (store) =>
      assert.deepEqual(
        store.callsOf('update').map((c) => c.resourceVersion),
        ['70', '71', '72'],
      ),
  },
  {
    name: 'a lock that keeps changing under the renewal for ten tries: reported, not chased forever',
    script: [
      expectCall.get(mine()),
      ...Array.from({ length: 9 }, (_, i) => [
        expectCall.update(new ConflictError('db-migrate')),
        expectCall.get(mine({ resourceVersion: String(71 + i), fence: '70' })),
      ]).flat(),
      expectCall.update(new ConflictError('db-migrate')),
    ],
    want: { error: 'lock "db-migrate" was changed by someone else', type: ConflictError },
  },
  {
    name: 'lost response, and the read-back carries our renewal: renewed, no second update',
    script: [expectCall.get(mine()), expectCall.update('lost'), expectCall.get((s) => s.last)],
    want: { fence: '70' },
    check: (store) => assert.equal(store.callsOf('update').length, 1),
  },
];

describe('renew', () => {
  for (const c of renewCases) {
    test(c.name, async () => {
      const { clock, store, ctx } = fixture();
      store.script(...c.script);
      const got = await outcome(clock, renew(ctx, { name: 'db-migrate', ...c.opts }));
      store.verify();
      if ('error' in c.want) {
        assert.ok(got.error instanceof c.want.type, `expected ${c.want.type.name}, got ${String(got.error)}`);
        if (typeof c.want.error === 'string') assert.equal(got.error.message, c.want.error);
        else assert.match(got.error.message, c.want.error);
      } else {
        if (got.error) throw got.error;
        assert.equal(got.value.fence, c.want.fence);
        assert.equal(got.value.holder, 'alice@host1');
      }
      c.check?.(store, got.value);
    });
  }
});

describe("renewFrom: the last object written, updated directly (run's renewals)", () => {
  test('no read: one update carrying the resourceVersion of the object given; returns the one to renew from next', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.update(), expectCall.update());
    const first = await clock.run(renewFrom(ctx, { from: mine({ ttlSeconds: 30 }) }));
    await clock.advance(10_000);
    const second = await clock.run(renewFrom(ctx, { from: first.stored, ttlMs: 60_000 }));
    store.verify();
    assert.deepEqual(store.methods(), ['update', 'update']);
    assert.deepEqual(
      store.callsOf('update').map((c) => c.resourceVersion),
      ['70', first.stored.resourceVersion],
    );
    assert.equal(first.lock.fence, '70');
    assert.equal(second.lock.fence, '70', 'the fence of the acquisition, not of a renewal');
    assert.equal(second.stored.data.leaseDurationSeconds, '60');
    assert.equal(second.lock.renewTime, '2026-11-26T06:30:10.000Z');
  });

  test('409 (a renewal of ours applied but its answer lost, or a label edit): read, then update again', async () => {
    const { clock, store, ctx } = fixture();
    store.script(
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get(mine({ resourceVersion: '75', fence: '70' })),
      expectCall.update(),
    );
    const got = await clock.run(renewFrom(ctx, { from: mine() }));
    store.verify();
    assert.deepEqual(
      store.callsOf('update').map((c) => c.resourceVersion),
      ['70', '75'],
    );
    assert.equal(got.lock.fence, '70');
  });

  test('409, and the read shows a takeover: NotYourLockError (run loses the lock)', async () => {
    const { clock, store, ctx } = fixture();
    store.script(
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get(cmlock({ holder: CAROL, resourceVersion: '90' })),
    );
    const got = await outcome(clock, renewFrom(ctx, { from: mine() }));
    store.verify();
    assert.ok(got.error instanceof NotYourLockError);
    assert.equal(got.error.operation, 'renew');
  });

  test('gone (404 on the update, and the read confirms it): LockMissingError', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.update(new StoreNotFoundError('db-migrate')), expectCall.get(undefined));
    const got = await outcome(clock, renewFrom(ctx, { from: mine() }));
    store.verify();
    assert.ok(got.error instanceof LockNotFoundError);
    assert.equal(got.error.message, 'lock "db-migrate" not found in namespace "team-a"');
  });

  test('the answer lost, and the read-back carries our renewal: renewed, the object read is the next base', async () => {
    const { clock, store, ctx } = fixture();
    store.last = mine(); // what the server has: the fake applies the lost update to it
    store.script(
      expectCall.update('lost'),
      expectCall.get((s) => s.last),
    );
    const got = await clock.run(renewFrom(ctx, { from: mine() }));
    store.verify();
    assert.equal(got.stored.resourceVersion, store.last?.resourceVersion);
    assert.deepEqual(clock.sleeps, [187.5], 'one jittered pause before reading back');
  });
});

describe('fencing tokens', () => {
  test('strictly increase across acquisition, takeover, renewal, release and re-creation', async () => {
    const clock = new FakeClock({ start: START_MONO });
    const store = new FakeStore(clock);
    const serverClock = new ServerClock(clock);
    serverClock.observe(store.sample());
    const as = (holder: Holder) => ({ store, clock, holder, serverClock });
    const fences: string[] = [];

    // Alice creates: the create's resourceVersion is the fence (written down by the update that makes the lock its
    // own owner).
    store.script(expectCall.create(), expectCall.update(), expectCall.recordEvent());
    fences.push((await clock.run(acquire(as(ALICE), acquireOptions()))).lock.fence);
    // Her lease runs out; Bob takes over. The takeover writes no fence, so its resourceVersion is the new one.
    await clock.advance(31_001);
    store.script(
      expectCall.create(new AlreadyExistsError('db-migrate')),
      expectCall.get((s) => s.last),
      expectCall.update(),
      expectCall.recordEvent(),
    );
    const took = await clock.run(acquire(as(BOB), acquireOptions()));
    assert.equal(took.outcome, 'tookOver');
    assert.equal(store.callsOf('update')[1]?.lock.data.fence, undefined);
    fences.push(took.lock.fence);
    // Bob renews: the fence stays (written into data.fence), though the resourceVersion moves on.
    store.script(
      expectCall.get((s) => s.last),
      expectCall.update(),
    );
    const renewed = await clock.run(renew(as(BOB), { name: 'db-migrate' }));
    assert.equal(renewed.fence, took.lock.fence);
    assert.notEqual(store.last?.resourceVersion, took.lock.fence);
    // Bob releases; Carol creates the lock anew: a larger fence again.
    store.script(
      expectCall.get((s) => s.last),
      expectCall.delete(),
      expectCall.recordEvent(),
    );
    await clock.run(release(as(BOB), { name: 'db-migrate', force: false, ignoreNotFound: false }));
    store.script(expectCall.create(), expectCall.update(), expectCall.recordEvent());
    fences.push((await clock.run(acquire(as(CAROL), acquireOptions()))).lock.fence);
    store.verify();

    assert.deepEqual(fences, ['101', '103', '105']);
    for (let i = 1; i < fences.length; i++) assert.equal(compareFences(fences[i] ?? '', fences[i - 1] ?? ''), 1);
  });

  test('fences compare as numbers, not text, beyond what a double holds', () => {
    assert.equal(compareFences('9', '10'), -1);
    assert.equal(compareFences('18446744073709551617', '18446744073709551616'), 1);
    assert.equal(compareFences('42', '42'), 0);
  });
});

describe('describe and list', () => {
  test('describe: the lock with uid, resourceVersion and its events', async () => {
    const { clock, store, ctx } = fixture();
    const events = [{ type: 'Normal', reason: 'Acquired', message: 'bob acquired', count: 1 }];
    store.script(expectCall.get(bobs()), expectCall.events(events));
    const got = await clock.run(describeLock(ctx, 'db-migrate'));
    store.verify();
    assert.equal(got.holder, 'bob@host2');
    assert.equal(got.uid, 'uid-held');
    assert.equal(got.resourceVersion, '50');
    assert.equal(got.status, 'Held');
    assert.equal(got.fence, '50');
    assert.deepEqual(got.events, events);
  });

  test('describe: missing lock is LockNotFoundError', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.get(undefined));
    const got = await outcome(clock, describeLock(ctx, 'db-migrate'));
    store.verify();
    assert.ok(got.error instanceof LockNotFoundError);
  });

  test('list: views sorted by namespace, then name, status judged on the server clock', async () => {
    const { clock, store, ctx } = fixture();
    const at = (namespace: string, name: string, renewMs = SERVER_START_MS) => ({
      ...cmlock({ name, renewMs, ttlSeconds: 30 }),
      namespace,
    });
    store.script(
      ...expectCall.listing([at('b', 'x'), at('a', 'y', SERVER_START_MS - 60_000), at('a', 'x'), at(NAMESPACE, 'a')]),
    );
    const got = await clock.run(list(ctx, { allNamespaces: true, labelSelector: 'team=payments' }));
    store.verify();
    assert.deepEqual(
      got.map((v) => `${v.namespace}/${v.name} ${v.status}`),
      ['a/x Held', 'a/y Expired', 'b/x Held', 'team-a/a Held'],
    );
    assert.deepEqual(store.callsOf('list')[0]?.options, { labelSelector: 'team=payments', allNamespaces: true });
    assert.deepEqual(store.callsOf('listUnmanaged')[0]?.options, {
      labelSelector: 'team=payments',
      allNamespaces: true,
    });
  });

  test("list: the Go library's locks among the ConfigMaps without the label, by their shape and data", async () => {
    const { clock, store, ctx } = fixture();
    const go = (name: string, extra: Partial<StoredLock> = {}) => ({ ...goLock(), name, uid: `uid-${name}`, ...extra });
    store.script(
      ...expectCall.listing(
        [cmlock({ name: 'b' })],
        '70',
        [
          go('a', { data: { expiresAt: String(SERVER_START_MS / 1000 + 60) } }),
          go('c'),
          go('settings', { data: { expiresAt: '5', mode: 'fast' } }), // data the library never writes
          go('cache', { ownerReferences: [podOwner('worker-7')] }), // a Pod's, not as controller
        ],
        '71',
      ),
    );
    const got = await clock.run(list(ctx));
    store.verify();
    assert.deepEqual(
      got.map((v) => `${v.name} ${v.holder} ${v.foreign} ${v.expiresAt || 'never'}`),
      [
        'a pod/worker-7 true 2026-11-26T06:31:00.000Z',
        'b bob@host2 false 2026-11-26T07:00:00.000Z',
        'c pod/worker-7 true never',
      ],
    );
  });

  test('list: a lock in both lists (it changed between the two) once, as the newer one shows it', async () => {
    const { clock, store, ctx } = fixture();
    const asGo = { ...goLock({ resourceVersion: '60' }), name: 'x', uid: 'uid-x' };
    const takenOver = { ...cmlock({ name: 'x', resourceVersion: '75' }), uid: 'uid-x' };
    store.script(...expectCall.listing([takenOver], '76', [asGo], '70'));
    const got = await clock.run(list(ctx));
    assert.deepEqual(
      got.map((v) => `${v.name} ${v.holder}`),
      ['x bob@host2'],
    );
  });
});
