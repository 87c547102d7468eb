// acquire as a table of scripted cases, in the spirit of client-go's TestTryAcquireOrRenew: each case lists
// every store call it allows, in order; any other call fails it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, CmlockError, HeldError } from '../../../src/errors.ts';
import type { AcquireOptions, AcquireResult, Holder } from '../../../src/lock/types.ts';
import { acquire } from '../../../src/lock/protocol.ts';
import {
  AlreadyExistsError,
  AmbiguousWriteError,
  ConflictError,
  RetryableError,
  StoreNotFoundError,
} from '../../../src/lock/store.ts';
import type { StoredLock } from '../../../src/lock/store.ts';
import {
  acquireOptions,
  ALICE,
  BOB,
  changed,
  cmlock,
  expectCall,
  fixture,
  goLock,
  outcome,
  podOwner,
  SERVER_START_MS,
  START_MONO,
  type FakeClock,
  type FakeStore,
  type Step,
} from './fakes.ts';

const CAROL: Holder = { identity: 'carol@host3', user: 'carol', host: 'host3' };
const MIN = 60_000;
const START_S = SERVER_START_MS / 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Bob took it a minute ago for 30 minutes: held until 06:59:00Z. */
const bobHolds = () => cmlock({ renewMs: SERVER_START_MS - MIN, reason: 'migrating' });
/** Bob's 30 s lease ran out 10 s ago. */
const bobExpired = () => cmlock({ renewMs: SERVER_START_MS - 40_000, ttlSeconds: 30, ownerPod: 'bob-pod' });
const BOB_HELD_TEXT =
  'bob@host2 (user bob) since 2026-11-26T06:29:00Z, reason "migrating", expires 2026-11-26T06:59:00Z (in 29m)';
const alreadyExists = () => new AlreadyExistsError('db-migrate');

/** What a release with a queue writes (by hand here): the first waiter named holder, a 2 s claim, `handoff`. */
function offeredToFirst(store: FakeStore): StoredLock {
  const queue = JSON.parse(store.last?.data.waiters ?? '[]') as { acquisitionId: string; identity: string }[];
  const [head, ...rest] = queue;
  if (head === undefined) throw new Error('nobody in line');
  const now = iso(store.serverNow());
  return changed(store, {
    holderIdentity: head.identity,
    user: 'alice',
    host: 'host1',
    acquireTime: now,
    renewTime: now,
    leaseDurationSeconds: '2',
    reason: 'migrating',
    acquisitionId: head.acquisitionId,
    expiresAt: String(Math.ceil((store.serverNow() + 2000) / 1000)),
    fence: undefined,
    handoff: 'offered',
    waiters: rest.length === 0 ? undefined : JSON.stringify(rest),
  });
}

interface Case {
  name: string;
  opts?: Partial<AcquireOptions>;
  /** false: the server's clock is not known yet (a fresh `acquire` command), so the first call is a get. */
  knownServerClock?: boolean;
  script: Step[];
  want: { outcome: AcquireResult['outcome']; fence: string; leaseStartMono?: number } | { error: string | RegExp };
  check?: (t: { result?: AcquireResult; store: FakeStore; clock: FakeClock }) => void;
}

const cases: Case[] = [
  {
    name: 'free lock, server clock unknown: read first, then create',
    knownServerClock: false,
    opts: { labels: { team: 'payments' }, owner: podOwner('runner-1') },
    script: [expectCall.get(undefined), expectCall.create(), expectCall.recordEvent()],
    want: { outcome: 'acquired', fence: '101', leaseStartMono: START_MONO },
    check: ({ store }) => {
      const [create] = store.callsOf('create');
      assert.deepEqual(create?.lock.labels, { team: 'payments', 'app.kubernetes.io/managed-by': 'kubectl-cmlock' });
      assert.deepEqual(create?.lock.ownerReferences, [podOwner('runner-1')]);
      const { acquisitionId, ...data } = create?.lock.data ?? {};
      assert.match(acquisitionId ?? '', /^[0-9a-f]{32}$/);
      assert.deepEqual(data, {
        holderIdentity: 'alice@host1',
        user: 'alice',
        host: 'host1',
        acquireTime: '2026-11-26T06:30:00.000Z',
        renewTime: '2026-11-26T06:30:00.000Z',
        leaseDurationSeconds: '30',
        reason: 'migrating',
        expiresAt: String(START_S + 30),
      });
      const [event] = store.callsOf('recordEvent');
      assert.equal(event?.event.reason, 'Acquired');
      assert.equal(event?.event.type, 'Normal');
      assert.equal(
        event?.event.message,
        'alice@host1 (user alice) acquired the lock, fence 101, lease 30s, reason "migrating"',
      );
    },
  },
  {
    name: 'free lock, server clock known: create is step 1, then an update makes the lock its own owner',
    script: [expectCall.create(), expectCall.update(), expectCall.recordEvent()],
    want: { outcome: 'acquired', fence: '101', leaseStartMono: START_MONO },
    check: ({ result, store }) => {
      const [create] = store.callsOf('create');
      const [own] = store.callsOf('update');
      assert.deepEqual(create?.lock.ownerReferences, [], 'its uid is not known before the create');
      assert.equal(own?.resourceVersion, '101');
      assert.deepEqual(own?.lock.ownerReferences, [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'db-migrate', uid: 'uid-1' },
      ]);
      assert.deepEqual(
        own?.lock.data,
        { ...create?.lock.data, fence: '101' },
        "the create's data, its token written down",
      );
      assert.deepEqual(own?.lock.labels, create?.lock.labels);
      assert.equal(result?.stored.resourceVersion, '102', 'renewFrom starts from the owned object');
      assert.deepEqual(result?.stored.ownerReferences, own?.lock.ownerReferences);
    },
  },
  {
    name: 'held by someone else, try once: LockHeldError says who and until when (no flag: the command adds it)',
    script: [expectCall.create(alreadyExists()), expectCall.get(bobHolds())],
    want: { error: `lock "db-migrate" is held by ${BOB_HELD_TEXT}` },
  },
  {
    name: 'held, server clock unknown: the first read finds it, no create at all',
    knownServerClock: false,
    script: [expectCall.get(bobHolds())],
    want: { error: `lock "db-migrate" is held by ${BOB_HELD_TEXT}` },
  },
  {
    name: 'expired: taken over by an update carrying the resourceVersion read, the lock its own owner, no fence',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(bobExpired()),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'tookOver', fence: '101' },
    check: ({ result, store }) => {
      const [update] = store.callsOf('update');
      assert.equal(update?.resourceVersion, '50');
      assert.deepEqual(
        update?.lock.ownerReferences,
        [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'db-migrate', uid: 'uid-held' }],
        "bob's Pod dropped; the uid read makes the owner free: no second write",
      );
      assert.equal(update?.lock.data.holderIdentity, 'alice@host1');
      assert.equal(update?.lock.data.fence, undefined);
      assert.equal(result?.previous?.holder, 'bob@host2');
      assert.equal(result?.previous?.status, 'Expired');
      const [event] = store.callsOf('recordEvent');
      assert.equal(event?.event.reason, 'TookOver');
      assert.match(event?.event.message ?? '', /^alice@host1 \(user alice\) took over the lock from bob@host2, /);
      assert.match(event?.event.message ?? '', /whose lease expired at 2026-11-26T06:29:50Z/);
    },
  },
  {
    name: 'takeover Conflict: someone else won; the re-read shows the winner, reported as the holder',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(bobExpired()),
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get(cmlock({ holder: CAROL, resourceVersion: '51' })),
    ],
    want: { error: /^lock "db-migrate" is held by carol@host3 \(user carol\) since 2026-11-26T06:30:00Z, / },
    check: ({ store }) => assert.equal(store.callsOf('update').length, 1),
  },
  {
    name: 'lost create response: the read-back finds our acquisitionId; acquired once, no second create',
    script: [expectCall.create('lost'), expectCall.get((s) => s.last), expectCall.update(), expectCall.recordEvent()],
    want: { outcome: 'acquired', fence: '101', leaseStartMono: START_MONO },
    check: ({ store, clock }) => {
      assert.equal(store.callsOf('create').length, 1);
      assert.deepEqual(clock.sleeps, [187.5], 'one jittered pause before reading back');
    },
  },
  {
    name: 'lost takeover response: the read-back finds our acquisitionId; tookOver',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(bobExpired()),
      expectCall.update('lost'),
      expectCall.get((s) => s.last),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'tookOver', fence: '101' },
  },
  {
    name: 'lost takeover response, but the read-back shows someone else: not ours',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(bobExpired()),
      expectCall.update(new AmbiguousWriteError('timeout')),
      expectCall.get(cmlock({ holder: CAROL, resourceVersion: '52' })),
    ],
    want: { error: /^lock "db-migrate" is held by carol@host3/ },
  },
  {
    name: 'held by my own identity: "already held", expiry refreshed, acquisitionId, acquireTime and fence kept',
    opts: { ttlMs: 60_000, reason: '' },
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(
        cmlock({
          holder: ALICE,
          acquisitionId: 'a'.repeat(32),
          acquireMs: SERVER_START_MS - 10 * MIN,
          renewMs: SERVER_START_MS - MIN,
          reason: 'first run',
          resourceVersion: '70',
        }),
      ),
      expectCall.update(),
    ],
    want: { outcome: 'alreadyHeld', fence: '70' },
    check: ({ store }) => {
      const [update] = store.callsOf('update');
      assert.equal(update?.resourceVersion, '70');
      assert.deepEqual(update?.lock.data, {
        holderIdentity: 'alice@host1',
        user: 'alice',
        host: 'host1',
        acquireTime: iso(SERVER_START_MS - 10 * MIN),
        renewTime: iso(SERVER_START_MS),
        leaseDurationSeconds: '60',
        reason: 'first run',
        acquisitionId: 'a'.repeat(32),
        expiresAt: String(START_S + 60),
        fence: '70',
      });
      // Written by a cmlock without owners: the refresh, made anyway, makes it its own owner.
      assert.deepEqual(update?.lock.ownerReferences, [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'db-migrate', uid: 'uid-held' },
      ]);
    },
  },
  {
    name: 'held by my own identity after renewals: the recorded fence is kept, not the current resourceVersion',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(cmlock({ holder: ALICE, fence: '65', resourceVersion: '80' })),
      expectCall.update(),
    ],
    want: { outcome: 'alreadyHeld', fence: '65' },
    check: ({ store }) => assert.equal(store.callsOf('update')[0]?.lock.data.fence, '65'),
  },
  {
    name: 'ttl 0 never expires: expiresAt 253402300799 (year 9999) for the Go library',
    opts: { ttlMs: 0 },
    script: [expectCall.create(), expectCall.update(), expectCall.recordEvent()],
    want: { outcome: 'acquired', fence: '101' },
    check: ({ result, store }) => {
      const data = store.callsOf('create')[0]?.lock.data;
      assert.equal(data?.expiresAt, '253402300799');
      assert.equal(data?.leaseDurationSeconds, '0');
      assert.equal(result?.lock.expiresAt, '');
      assert.equal(result?.lock.leaseDurationSeconds, 0);
    },
  },
  {
    name: 'expiry boundary: 999 ms past expiry is still held',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(cmlock({ renewMs: SERVER_START_MS - 30_999, ttlSeconds: 30 })),
    ],
    want: { error: /is held by bob@host2/ },
  },
  {
    name: 'expiry boundary: exactly 1000 ms past expiry is still held',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(cmlock({ renewMs: SERVER_START_MS - 31_000, ttlSeconds: 30 })),
    ],
    want: { error: /is held by bob@host2/ },
  },
  {
    name: 'expiry boundary: more than 1000 ms past expiry is expired',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(cmlock({ renewMs: SERVER_START_MS - 31_001, ttlSeconds: 30 })),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'tookOver', fence: '101' },
  },
  {
    name: 'Go library lock, expiresAt passed: taken over, its Pod owner replaced by the lock itself',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(goLock({ expiresAtSeconds: START_S - 5 })),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'tookOver', fence: '101' },
    check: ({ result, store }) => {
      assert.equal(store.callsOf('update')[0]?.resourceVersion, '40');
      assert.deepEqual(store.callsOf('update')[0]?.lock.ownerReferences, [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'db-migrate', uid: 'uid-go' },
      ]);
      assert.equal(result?.previous?.holder, 'pod/worker-7');
      assert.equal(result?.previous?.foreign, true);
      assert.match(store.callsOf('recordEvent')[0]?.event.message ?? '', /took over the lock from pod\/worker-7,/);
    },
  },
  {
    name: 'Go library lock, expiresAt ahead: held by its Pod',
    script: [expectCall.create(alreadyExists()), expectCall.get(goLock({ expiresAtSeconds: START_S + 600 }))],
    want: {
      error:
        'lock "db-migrate" is held by pod/worker-7 since 2026-11-26T06:00:00Z, expires 2026-11-26T06:40:00Z (in 10m)',
    },
  },
  {
    name: 'Go library lock without expiresAt never expires by time (the Go library would call it stale)',
    script: [expectCall.create(alreadyExists()), expectCall.get(goLock({}))],
    want: {
      error: 'lock "db-migrate" is held by pod/worker-7 since 2026-11-26T06:00:00Z, never expires',
    },
  },
  {
    name: 'never-expiring cmlock lock: "never expires"',
    script: [expectCall.create(alreadyExists()), expectCall.get(cmlock({ ttlSeconds: 0, reason: '' }))],
    want: {
      error: 'lock "db-migrate" is held by bob@host2 (user bob) since 2026-11-26T06:30:00Z, never expires',
    },
  },
  {
    name: 'gone between AlreadyExists and the read: create again',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(undefined),
      expectCall.create(),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'acquired', fence: '101' },
  },
  {
    name: 'a lock that churns (refused, gone, refused again): a pause before the second read-back, no tight loop',
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(undefined),
      expectCall.create(alreadyExists()),
      expectCall.get(undefined),
      expectCall.create(),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'acquired', fence: '101' },
    check: ({ clock }) => assert.deepEqual(clock.sleeps, [187.5]),
  },
  {
    name: 'a RetryableError (the store spent its retries within --timeout): the error at once, no wait here',
    opts: { timeoutMs: 1000 },
    script: [expectCall.fails('create', new RetryableError('too many requests', 5000))],
    want: { error: 'too many requests' },
    check: ({ clock }) => assert.deepEqual(clock.sleeps, []),
  },
  {
    name: '--timeout: joins the queue, waits on a watch, times out with the holder in the message, and leaves',
    opts: { timeoutMs: 5000 },
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(bobHolds()),
      expectCall.watch(['hang']),
      expectCall.update(),
      expectCall.update(),
    ],
    want: {
      error:
        'timed out after 5s waiting for lock "db-migrate" (held by bob@host2 (user bob) since 2026-11-26T06:29:00Z, ' +
        'reason "migrating", expires 2026-11-26T06:59:00Z (in 28m))',
    },
    check: ({ clock, store }) => {
      assert.equal(clock.now(), START_MONO + 5000);
      const [join, leave] = store.callsOf('update');
      assert.equal(join?.resourceVersion, '50');
      const queue = JSON.parse(join?.lock.data.waiters ?? '[]') as { identity: string; heartbeatSeconds: number }[];
      assert.deepEqual(
        queue.map((w) => [w.identity, w.heartbeatSeconds]),
        [['alice@host1', 30]],
      );
      assert.equal(join?.lock.data.fence, '50', "the holder's fence written down by the first write after its own");
      assert.equal(join?.lock.data.holderIdentity, 'bob@host2', "the holder's record untouched");
      assert.equal(leave?.resourceVersion, '101', 'left from what the watch last showed: one request');
      assert.equal(leave?.lock.data.waiters, undefined, 'the queue gone with its last waiter');
    },
  },
  {
    name: 'waiting: the holder hands the lock over (an offer); confirmed with one update of our own',
    opts: { timeoutMs: -1 },
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(bobHolds()),
      expectCall.watch([{ afterMs: 3000 }, (s) => ({ type: 'MODIFIED', lock: offeredToFirst(s) }), 'hang']),
      expectCall.update(),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'acquired', fence: '103', leaseStartMono: START_MONO + 3000 },
    check: ({ store }) => {
      const confirm = store.callsOf('update')[1];
      assert.equal(confirm?.resourceVersion, '102');
      assert.equal(confirm?.lock.data.handoff, undefined, 'confirmed');
      assert.equal(confirm?.lock.data.fence, undefined, "no fence: this write's resourceVersion is the token");
      assert.equal(confirm?.lock.data.leaseDurationSeconds, '30');
      assert.equal(confirm?.lock.data.acquireTime, iso(SERVER_START_MS + 3000));
    },
  },
  {
    name: 'waiting: an older client deletes the lock with the queue in it; the first in line creates it again',
    opts: { timeoutMs: -1 },
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(bobHolds()),
      expectCall.watch([{ afterMs: 3000 }, (s) => ({ type: 'DELETED', lock: structuredClone(s.last) as StoredLock })]),
      expectCall.update(),
      expectCall.create(),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'acquired', fence: '102', leaseStartMono: START_MONO + 3000 },
  },
  {
    name: 'waiting: a dead holder sends no event; the first in line takes it over just after lease + 1 s',
    opts: { timeoutMs: -1 },
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(cmlock({ renewMs: SERVER_START_MS - 25_000, ttlSeconds: 30 })),
      expectCall.watch(['hang']),
      expectCall.update(),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'tookOver', fence: '102', leaseStartMono: START_MONO + 6001 },
    check: ({ store }) => {
      const takeover = store.callsOf('update')[1];
      assert.equal(takeover?.resourceVersion, '101');
      assert.equal(takeover?.lock.data.waiters, undefined, 'out of the queue it was alone in');
    },
  },
  {
    name: 'waiting: renewals move the expiry timer on the same watch (no re-watch, no polling)',
    opts: { timeoutMs: -1 },
    script: [
      expectCall.create(alreadyExists()),
      expectCall.get(cmlock({ ttlSeconds: 10 })),
      expectCall.watch([
        { afterMs: 4000 },
        (s) => ({ type: 'MODIFIED', lock: changed(s, { renewTime: iso(SERVER_START_MS + 4000) }) }),
        { afterMs: 4000 },
        (s) => ({ type: 'MODIFIED', lock: changed(s, { renewTime: iso(SERVER_START_MS + 8000) }) }),
        'hang',
      ]),
      expectCall.update(),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'tookOver', fence: '104', leaseStartMono: START_MONO + 8000 + 11_001 },
    check: ({ store }) => assert.equal(store.callsOf('update')[1]?.resourceVersion, '103'),
  },
  {
    name: 'own owner, lost answer: the read-back shows the owner; no second update',
    script: [expectCall.create(), expectCall.update('lost'), expectCall.get((s) => s.last), expectCall.recordEvent()],
    want: { outcome: 'acquired', fence: '101', leaseStartMono: START_MONO },
    check: ({ result }) => assert.equal(result?.stored.ownerReferences[0]?.kind, 'ConfigMap'),
  },
  {
    name: 'own owner, Conflict (our identity renewed it meanwhile, still without owner): updated again from the read',
    script: [
      expectCall.create(),
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get((s) =>
        // As a renewal by our identity leaves it: the create's token written down, no owner yet (an older cmlock).
        s.last === undefined
          ? undefined
          : { ...s.last, resourceVersion: '105', data: { ...s.last.data, fence: '101' } },
      ),
      expectCall.update(),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'acquired', fence: '101' },
    check: ({ store }) => {
      const [, again] = store.callsOf('update');
      assert.equal(again?.resourceVersion, '105');
      assert.equal(again?.lock.data.fence, '101', 'the fence stays the create');
    },
  },
  {
    name: 'own owner, the lock broken meanwhile (release --force): acquired all the same, the created object kept',
    script: [
      expectCall.create(),
      expectCall.update(new StoreNotFoundError('db-migrate')),
      expectCall.get(undefined),
      expectCall.recordEvent(),
    ],
    want: { outcome: 'acquired', fence: '101' },
    check: ({ result }) => assert.deepEqual(result?.stored.ownerReferences, []),
  },
  {
    name: 'own owner refused for good (403): the lock is given back, the error reported',
    script: [
      expectCall.create(),
      expectCall.fails('update', new CmlockError('configmaps "db-migrate" is forbidden')),
      expectCall.get((s) => s.last),
      expectCall.delete(),
    ],
    want: { error: 'configmaps "db-migrate" is forbidden' },
    check: ({ store }) =>
      assert.deepEqual(store.callsOf('delete')[0]?.preconditions, { uid: 'uid-1', resourceVersion: '101' }),
  },
];

describe('acquire', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const { clock, store, ctx } = fixture({ knownServerClock: c.knownServerClock ?? true });
      store.script(...c.script);
      const got = await outcome(clock, acquire(ctx, acquireOptions(c.opts)));
      store.verify();
      if ('error' in c.want) {
        assert.ok(got.error, `expected an error, got ${JSON.stringify(got.value?.outcome)}`);
        if (typeof c.want.error === 'string') assert.equal(got.error.message, c.want.error);
        else assert.match(got.error.message, c.want.error);
      } else {
        if (got.error) throw got.error;
        assert.equal(got.value.outcome, c.want.outcome);
        assert.equal(got.value.lock.fence, c.want.fence);
        assert.equal(got.value.lock.holder, 'alice@host1');
        assert.equal(got.value.lock.status, 'Held');
        if (c.want.leaseStartMono !== undefined) assert.equal(got.value.leaseStartMono, c.want.leaseStartMono);
      }
      c.check?.({ result: got.value, store, clock });
    });
  }

  test('held errors are HeldError (exit 3)', async () => {
    const { clock, store, ctx } = fixture();
    store.script(expectCall.create(alreadyExists()), expectCall.get(bobHolds()));
    const got = await outcome(clock, acquire(ctx, acquireOptions()));
    assert.ok(got.error instanceof HeldError);
    assert.equal(got.error.exitCode, 3);
  });

  test('a hostile holder string is escaped in the message', async () => {
    const { clock, store, ctx } = fixture();
    const evil: Holder = { identity: 'mallory\u001b[2J\nrm -rf', host: 'h' };
    store.script(expectCall.create(alreadyExists()), expectCall.get(cmlock({ holder: evil, reason: 'a"b\u0007' })));
    const got = await outcome(clock, acquire(ctx, acquireOptions()));
    assert.match(got.error?.message ?? '', /held by mallory\\x1b\[2J\\nrm -rf since .*, reason "a\\"b\\x07",/);
    assert.ok(![...(got.error?.message ?? '')].some((c) => c.charCodeAt(0) < 0x20), 'no control characters');
  });

  test('invalid name: UsageError before any call', async () => {
    const { clock, ctx, store } = fixture();
    const got = await outcome(clock, acquire(ctx, acquireOptions({ name: 'DB_Migrate' })));
    assert.equal(got.error?.constructor.name, 'UsageError');
    store.verify();
  });

  test('Ctrl-C after the server applied our create: the lock is read back and deleted, nothing left behind', async () => {
    const { clock, store, ctx } = fixture();
    const controller = new AbortController();
    store.script(
      {
        method: 'create',
        reply: (call, s) => {
          if (call.method === 'create') s.apply(call.lock);
          controller.abort();
          throw new AmbiguousWriteError('aborted');
        },
      },
      expectCall.get((s) => s.last),
      expectCall.delete(),
    );
    const got = await outcome(clock, acquire(ctx, acquireOptions({ signal: controller.signal })));
    store.verify();
    assert.ok(got.error instanceof CancelledError);
    assert.deepEqual(store.callsOf('delete')[0]?.preconditions, { uid: store.last?.uid, resourceVersion: '101' });
  });

  test('Ctrl-C just as the create succeeds: given back at once', async () => {
    const { clock, store, ctx } = fixture();
    const controller = new AbortController();
    store.script(
      {
        method: 'create',
        reply: (call, s) => {
          controller.abort();
          return call.method === 'create' ? s.apply(call.lock) : undefined;
        },
      },
      expectCall.get((s) => s.last),
      expectCall.delete(),
    );
    const got = await outcome(clock, acquire(ctx, acquireOptions({ signal: controller.signal })));
    store.verify();
    assert.ok(got.error instanceof CancelledError);
  });

  test('Ctrl-C while waiting: cancelled, and out of the queue with one update', async () => {
    const { clock, store, ctx } = fixture();
    const controller = new AbortController();
    store.script(
      expectCall.create(alreadyExists()),
      expectCall.get(bobHolds()),
      expectCall.watch(['hang']),
      expectCall.update(),
      expectCall.update(),
    );
    const running = acquire(ctx, acquireOptions({ timeoutMs: -1, signal: controller.signal }));
    await clock.advance(2000);
    controller.abort();
    const got = await outcome(clock, running);
    store.verify();
    assert.ok(got.error instanceof CancelledError);
    assert.equal(store.last?.data.waiters, undefined);
  });

  test('waiting reports progress every second', async () => {
    const { clock, store, ctx } = fixture();
    const seen: number[] = [];
    ctx.progress = (status) => {
      seen.push(status.waitedMs);
      assert.equal(status.holder, 'bob@host2');
      assert.deepEqual([status.position, status.waiting], [1, 1], 'first in line of one');
      assert.equal(status.expiresAt, '2026-11-26T06:59:00.000Z');
    };
    store.script(
      expectCall.create(alreadyExists()),
      expectCall.get(bobHolds()),
      expectCall.watch(['hang']),
      expectCall.update(),
      expectCall.update(),
    );
    await outcome(clock, acquire(ctx, acquireOptions({ timeoutMs: 3500 })));
    assert.deepEqual(seen, [0, 1000, 2000, 3000]);
  });
});

/** Replaces the global Date so that the wall clock reads `skewMs` off (constructor without arguments, Date.now). */
async function withWallClock<T>(skewMs: number, run: () => Promise<T>): Promise<T> {
  const RealDate = globalThis.Date;
  class SkewedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + skewMs);
      else super(...(args as [string]));
    }
    static override now(): number {
      return RealDate.now() + skewMs;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
  try {
    return await run();
  } finally {
    globalThis.Date = RealDate;
  }
}

describe('the client wall clock plays no part', () => {
  const scenario = async () => {
    // Held: the message. Expired: the takeover and what it writes.
    const held = fixture({ knownServerClock: false });
    held.store.script(expectCall.get(bobHolds()));
    const heldError = (await outcome(held.clock, acquire(held.ctx, acquireOptions()))).error?.message;
    const expired = fixture({ knownServerClock: false });
    expired.store.script(expectCall.get(bobExpired()), expectCall.update(), expectCall.recordEvent());
    const took = await outcome(expired.clock, acquire(expired.ctx, acquireOptions()));
    expired.store.verify();
    const written = { ...expired.store.callsOf('update')[0]?.lock.data };
    delete written.acquisitionId; // random per acquisition
    return { heldError, outcome: took.value?.outcome, written, lock: took.value?.lock };
  };

  test('a client clock 10 minutes fast, 10 minutes slow or absurd changes nothing', async () => {
    const baseline = await scenario();
    assert.match(baseline.heldError ?? '', /in 29m/);
    assert.equal(baseline.outcome, 'tookOver');
    for (const skew of [10 * MIN, -10 * MIN, -Date.now(), 1e14]) {
      assert.deepEqual(await withWallClock(skew, scenario), baseline, `wall clock skewed by ${skew} ms`);
    }
  });

  test('the time left is counted on the server clock', async () => {
    const { clock, store, ctx } = fixture({ holder: BOB, knownServerClock: false });
    store.script(expectCall.get(cmlock({ holder: ALICE, renewMs: SERVER_START_MS - 5000, ttlSeconds: 30 })));
    const got = await outcome(clock, acquire(ctx, acquireOptions()));
    assert.match(got.error?.message ?? '', /expires 2026-11-26T06:30:25Z \(in 25s\)/);
  });
});
