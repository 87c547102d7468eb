// The library's Lock over the scripted fake store and the fake clock: every store call a case makes is listed
// in its script (any other fails it), so these tests show the requests each method costs, what it writes, and
// what it refuses with, as data.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, UsageError } from '../../../src/errors.ts';
import { LockHeldError, LockLostError, LockMissingError, NotYourLockError } from '../../../src/lib/index.ts';
import { Lock } from '../../../src/lib/lock.ts';
import type { LockOptions } from '../../../src/lib/options.ts';
import type { LibSession, System } from '../../../src/lib/system.ts';
import { recordWith, type HolderEntry } from '../../../src/lock/queue.ts';
import { ConflictError, type StoredLock } from '../../../src/lock/store.ts';
import {
  BOB,
  cmlock,
  expectCall,
  FakeClock,
  FakeStore,
  NAMESPACE,
  SERVER_START_MS,
  START_MONO,
  type Step,
} from '../lock/fakes.ts';

const IDENTITY = 'alice@host1/lib-4242-8000';

interface Setup {
  clock: FakeClock;
  store: FakeStore;
  lock: Lock;
  /** How often the Lock connected. */
  connects: () => number;
}

/** A Lock over the fake store: user alice on host1, pid 4242, random() 0.5, no Pod. */
function setup(options: LockOptions = {}, extra: { env?: Record<string, string>; pods?: Record<string, string> } = {}) {
  const clock = new FakeClock({ start: START_MONO });
  const store = new FakeStore(clock);
  let connects = 0;
  const session: LibSession = {
    namespace: NAMESPACE,
    inCluster: false,
    podNamespace: undefined,
    store: () => store,
    whoAmI: async () => 'alice',
    getPodUid: async (namespace, name) => extra.pods?.[`${namespace}/${name}`],
  };
  const system: System = {
    clock,
    facts: { env: extra.env ?? {}, hostname: () => 'host1', username: () => 'alice' },
    pid: 4242,
    wallNow: () => store.serverNow(),
    connect: async (kubeConfig, namespace) => {
      connects++;
      assert.equal(kubeConfig, undefined);
      return namespace === undefined ? session : { ...session, namespace };
    },
  };
  const lock = new Lock('db-migrate', options, system);
  return { clock, store, lock, connects: () => connects } satisfies Setup;
}

/** Settles a promise on the fake clock into its value or its error. */
async function settle<T>(clock: FakeClock, promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await clock.run(promise) };
  } catch (error) {
    return { error };
  }
}

// Outside a Pod the lock owns itself: the create cannot name its own uid, so an update follows (issue 12).
const acquireFree: Step[] = [expectCall.get(), expectCall.create(), expectCall.update(), expectCall.recordEvent()];
const acquireFreeInPod: Step[] = [expectCall.get(), expectCall.create(), expectCall.recordEvent()];
const releaseOurs: Step[] = [expectCall.get((s) => s.last), expectCall.delete(), expectCall.recordEvent()];

describe('Lock: the seed’s New, Acquire, Release and accessors', () => {
  test('making one checks its options and sends nothing', () => {
    const { store, lock, connects } = setup({ ttl: 30_000, labels: { team: 'db' }, reason: 'schema v42' });
    assert.equal(lock.name, 'db-migrate');
    assert.equal(lock.ttl, 30_000);
    assert.deepEqual(lock.labels, { team: 'db', 'app.kubernetes.io/managed-by': 'kubectl-cmlock' });
    assert.equal(lock.namespace, undefined, 'known once connected');
    assert.equal(lock.identity, undefined, 'known once connected');
    assert.equal(lock.data, undefined);
    assert.equal(connects(), 0);
    store.verify();
  });

  const bad: [string, () => unknown, string][] = [
    ['a bad name', () => new Lock('Db_Migrate'), 'invalid lock name "Db_Migrate"'],
    ['a ttl under a second', () => new Lock('a', { ttl: 500 }), 'ttl must be 0 or at least 1000 ms (got 500)'],
    ['a ttl of NaN', () => new Lock('a', { ttl: Number.NaN }), 'ttl must be a finite number'],
    ['a bad namespace', () => new Lock('a', { namespace: 'Ops' }), 'invalid namespace "Ops"'],
    ['the managed-by label', () => new Lock('a', { labels: { 'app.kubernetes.io/managed-by': 'me' } }), 'label'],
    ['an empty identity', () => new Lock('a', { identity: ' ' }), 'identity must not be empty'],
    ['a bad owner pod', () => new Lock('a', { owner: { pod: 'Web_0' } }), 'invalid owner pod "Web_0"'],
    ['a limit of 0', () => new Lock('a', { limit: 0 }), 'limit must be a whole number from 1 to 256 (got 0)'],
    ['a limit of 2.5', () => new Lock('a', { limit: 2.5 }), 'limit must be a whole number from 1 to 256 (got 2.5)'],
    ['a limit of 257', () => new Lock('a', { limit: 257 }), 'limit must be a whole number from 1 to 256 (got 257)'],
    ['shared and a limit', () => new Lock('a', { shared: true, limit: 2 }), 'shared and limit cannot be combined'],
  ];
  for (const [what, make, message] of bad) {
    test(`${what}: a UsageError at once`, () => {
      assert.throws(make, (err: unknown) => err instanceof UsageError && err.message.startsWith(message));
    });
  }

  test('acquire: a read to learn the server clock, the create, an Event; the data it wrote', async () => {
    const { clock, store, lock } = setup({ ttl: 30_000, labels: { team: 'db' }, reason: 'schema v42' });
    store.script(...acquireFree);
    const { value, error } = await settle(clock, lock.acquire({ timeout: 0 }));
    assert.equal(error, undefined);
    store.verify();
    assert.equal(value?.outcome, 'acquired');
    assert.equal(value?.holder, IDENTITY, 'unique to this Lock object: two Locks exclude each other');
    assert.equal(value?.user, 'alice');
    // The fence is the create's resourceVersion (the owner update after it keeps it in data.fence).
    assert.equal(value?.fence, String(Number(store.last?.resourceVersion) - 1));
    assert.equal(value?.leaseDurationSeconds, 30);
    assert.equal(lock.identity, IDENTITY);
    assert.equal(lock.namespace, NAMESPACE);
    const written = store.callsOf('create')[0]?.lock;
    assert.deepEqual(written?.labels, { team: 'db', 'app.kubernetes.io/managed-by': 'kubectl-cmlock' });
    assert.equal(written?.data.reason, 'schema v42');
    // GetCMData: the record, with the expiresAt the Go library reads.
    assert.equal(lock.data?.holderIdentity, IDENTITY);
    assert.equal(lock.data?.expiresAt, String(SERVER_START_MS / 1000 + 30));
  });

  test('an identity given is used as it is; $CMLOCK_IDENTITY and the Pod are bases for the unique one', async () => {
    for (const [options, env, want] of [
      [{ identity: 'migrator' }, {}, 'migrator'],
      [{}, { CMLOCK_IDENTITY: 'ci-7' }, 'ci-7/lib-4242-8000'],
      [{}, { POD_NAME: 'job-1', POD_NAMESPACE: NAMESPACE }, `pod/${NAMESPACE}/job-1/lib-4242-8000`],
    ] as const) {
      const { clock, store, lock } = setup(options, { env, pods: { [`${NAMESPACE}/job-1`]: 'uid-job-1' } });
      // In a Pod the Pod owns the lock from its create: no owner update follows.
      store.script(...('POD_NAME' in env ? acquireFreeInPod : acquireFree));
      const { value } = await settle(clock, lock.acquire({ timeout: 0 }));
      store.verify();
      assert.equal(value?.holder, want);
      if ('POD_NAME' in env) assert.equal(value?.owner, 'pod/job-1', 'the Pod owns the lock');
    }
  });

  test('held by someone else, timeout 0: LockHeldError with the holder as data', async () => {
    const { clock, store, lock } = setup();
    store.script(expectCall.get(cmlock({ reason: 'migrating' })));
    const { error } = await settle(clock, lock.acquire({ timeout: 0 }));
    store.verify();
    assert.ok(error instanceof LockHeldError);
    assert.equal(error.holder.holder, BOB.identity);
    assert.equal(error.holder.reason, 'migrating');
    assert.equal(error.timedOutAfterMs, undefined);
    assert.equal(error.exitCode, 3);
    assert.equal(lock.data, undefined);
  });

  test('aborted while waiting: rejects with the signal’s reason; it joined the queue and left it again', async () => {
    const { clock, store, lock } = setup();
    store.script(expectCall.get(cmlock()), expectCall.watch(['hang']), expectCall.update(), expectCall.update());
    const controller = new AbortController();
    const waiting = lock.acquire({ signal: controller.signal });
    await clock.advance(5000);
    const reason = new Error('Ctrl-C');
    controller.abort(reason);
    const { error } = await settle(clock, waiting);
    store.verify();
    assert.equal(error, reason);
    assert.deepEqual(store.methods(), ['get', 'watch', 'update', 'update']);
    assert.match(store.callsOf('update')[0]?.lock.data.waiters ?? '', /lib-4242/, 'joined the queue (one write)');
    assert.equal(store.last?.data.waiters, undefined, 'and left it (one write): the holder is as it was');
    assert.equal(store.last?.data.holderIdentity, BOB.identity);
  });

  test('aborted while its join is in flight: it reads the lock and leaves the queue all the same', async () => {
    const { clock, store, lock } = setup();
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    store.script(
      expectCall.get(cmlock()),
      expectCall.watch(['hang']),
      {
        // The server takes the join; Ctrl-C ends the request before its answer arrives.
        method: 'update',
        reply: (call, s) => {
          if (call.method === 'update') s.apply(call.lock, s.last?.uid);
          controller.abort(reason);
          throw new CancelledError('interrupted');
        },
      },
      expectCall.get((s) => s.last), // the watch has brought nothing since: read
      expectCall.update(),
    );
    const { error } = await settle(clock, lock.acquire({ signal: controller.signal }));
    store.verify();
    assert.equal(error, reason);
    assert.equal(store.last?.data.waiters, undefined, 'out of the queue: the holder is as it was');
    assert.equal(store.last?.data.holderIdentity, BOB.identity);
  });

  test('renew after acquire: one update from the object it wrote, no read', async () => {
    const { clock, store, lock } = setup({ ttl: 30_000 });
    store.script(...acquireFree, expectCall.update());
    await settle(clock, lock.acquire());
    await clock.advance(10_000);
    const { value } = await settle(clock, lock.renew({ ttl: 60_000 }));
    store.verify();
    assert.equal(value?.leaseDurationSeconds, 60);
    assert.equal(lock.data?.leaseDurationSeconds, '60');
  });

  test('release: the delete with preconditions and an Event; then it holds nothing', async () => {
    const { clock, store, lock } = setup();
    store.script(...acquireFree, ...releaseOurs);
    await settle(clock, lock.acquire());
    const uid = store.last?.uid;
    const { error } = await settle(clock, lock.release());
    store.verify();
    assert.equal(error, undefined);
    assert.equal(store.callsOf('delete')[0]?.preconditions.uid, uid);
    assert.equal(lock.data, undefined);
  });

  test('release of someone else’s lock: NotYourLockError; of none: LockMissingError', async () => {
    const { clock, store, lock } = setup();
    store.script(expectCall.get(cmlock()), expectCall.get());
    const theirs = await settle(clock, lock.release());
    assert.ok(theirs.error instanceof NotYourLockError);
    assert.equal(theirs.error.holder.holder, BOB.identity);
    assert.equal(theirs.error.identity, IDENTITY);
    const none = await settle(clock, lock.release());
    assert.ok(none.error instanceof LockMissingError);
    assert.deepEqual([none.error.lockName, none.error.namespace], ['db-migrate', NAMESPACE]);
    store.verify();
  });

  test('await using: the lock it acquired is released at the end of the scope', async () => {
    const { clock, store, lock: made } = setup();
    store.script(...acquireFree, ...releaseOurs);
    await clock.run(
      (async () => {
        await using lock = made;
        await lock.acquire();
      })(),
    );
    store.verify();
  });
});

describe('hold and lease: the library’s run', () => {
  test('hold renews every third of the ttl while fn runs, releases when it settles, resolves with its value', async () => {
    const { clock, store, lock } = setup({ ttl: 30_000 });
    store.script(...acquireFree, expectCall.update(), expectCall.update(), ...releaseOurs);
    const held = lock.hold(async (signal, lease) => {
      assert.equal(lease.lock.holder, IDENTITY);
      await clock.sleep(25_000, signal);
      return lease.lock.fence;
    });
    const { value, error } = await settle(clock, held);
    assert.equal(error, undefined);
    store.verify();
    assert.equal(value, '101');
    assert.deepEqual(
      store.calls.filter((c) => c.method === 'update').length,
      3,
      'the owner update after the create, then renewed at 10 s and 20 s: updates, no reads',
    );
  });

  test('hold: the signal fires when someone else took the lock; hold rejects with LockLostError, deletes nothing', async () => {
    const { clock, store, lock } = setup({ ttl: 30_000 });
    store.script(
      ...acquireFree,
      // The renewal at 10 s is refused (409), and the read back shows Bob's lock.
      expectCall.update(new ConflictError('db-migrate')),
      expectCall.get(cmlock({ resourceVersion: '900' })),
    );
    let seen: unknown;
    const held = lock.hold(async (signal) => {
      try {
        await clock.sleep(60_000, signal);
      } catch (err) {
        seen = err;
        throw err;
      }
    });
    const { error } = await settle(clock, held);
    store.verify();
    assert.ok(error instanceof LockLostError);
    assert.equal(seen, error, 'fn saw the same LockLostError as the signal’s reason');
    assert.equal(error.kind, 'taken');
    assert.equal(error.exitCode, 6);
    assert.match(
      error.message,
      /^lost lock "db-migrate" in namespace "team-a": lock "db-migrate" is held by bob@host2/,
    );
    assert.equal(clock.now() - START_MONO, 10_000, 'at the renewal that found it taken');
    assert.equal(lock.data, undefined);
  });

  test('hold: no answer until the renew deadline (two thirds of the ttl) is a loss; a brief release is tried', async () => {
    const { clock, store, lock } = setup({ ttl: 30_000 });
    const hang: Step = { method: 'update', reply: () => new Promise(() => {}) };
    store.script(...acquireFree, hang, ...releaseOurs);
    let abortedAt: number | undefined;
    const held = lock.hold(
      (signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            abortedAt = clock.now();
            reject(signal.reason as Error);
          }),
        ),
    );
    const { error } = await settle(clock, held);
    store.verify();
    assert.ok(error instanceof LockLostError);
    assert.equal(error.kind, 'deadline');
    assert.equal(abortedAt, START_MONO + 20_000, 'at the renew deadline, a third of the lease before it ends');
  });

  test('fn’s error is hold’s error, after the release', async () => {
    const { clock, store, lock } = setup();
    store.script(...acquireFree, ...releaseOurs);
    const boom = new Error('migration failed');
    const { error } = await settle(
      clock,
      lock.hold(() => {
        throw boom;
      }),
    );
    store.verify();
    assert.equal(error, boom);
  });

  test('await using lease: renewed while in scope, released at its end; a second lease is refused meanwhile', async () => {
    const { clock, store, lock } = setup({ ttl: 30_000 });
    store.script(...acquireFree, expectCall.update(), ...releaseOurs);
    await clock.run(
      (async () => {
        await using lease = await lock.lease();
        await assert.rejects(lock.lease(), UsageError);
        await clock.sleep(15_000);
        assert.equal(lease.signal.aborted, false);
        assert.equal(lease.lost, undefined);
      })(),
    );
    store.verify();
  });

  test('Lock.release during a lease stops its renewals; the lease’s own release is then a no-op', async () => {
    const { clock, store, lock } = setup({ ttl: 30_000 });
    store.script(...acquireFree, ...releaseOurs);
    const lease = await clock.run(lock.lease());
    await clock.run(lock.release());
    await clock.advance(60_000);
    await clock.run(lease.release());
    store.verify();
  });
});

describe('limit and shared: the semaphore and the shared lock of the command line, one protocol', () => {
  const bob = (spec: Partial<HolderEntry> = {}): HolderEntry => ({
    identity: BOB.identity,
    user: 'bob',
    host: 'host2',
    acquireTime: new Date(SERVER_START_MS - 60_000).toISOString(),
    renewTime: new Date(SERVER_START_MS - 60_000).toISOString(),
    leaseDurationSeconds: 1800,
    reason: '',
    acquisitionId: 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0',
    fence: '40',
    ...spec,
  });
  /** Bob holds the lock as one of several (a semaphore of `limit`, or shared). */
  const heldBy = (entry: HolderEntry, limit: number): StoredLock => ({
    ...cmlock(),
    data: recordWith(undefined, { holders: [entry], waiters: [], limit }),
  });
  const holdersOf = (data: Record<string, string> | undefined) =>
    (JSON.parse(data?.holders ?? '[]') as HolderEntry[]).map((h) => h.identity);

  test('limit 2: takes the second slot beside bob with one update; release gives back only its own slot', async () => {
    const { clock, store, lock } = setup({ limit: 2 });
    store.script(expectCall.get(heldBy(bob(), 2)), expectCall.update(), expectCall.recordEvent());
    const { value, error } = await settle(clock, lock.acquire({ timeout: 0 }));
    assert.equal(error, undefined);
    assert.equal(value?.outcome, 'acquired');
    assert.equal(value?.holder, IDENTITY, 'acquire reports its own hold');
    assert.equal(store.last?.data.limit, '2');
    assert.deepEqual(holdersOf(store.last?.data), [BOB.identity, IDENTITY]);
    store.verify();

    store.script(
      expectCall.get((s) => s.last),
      expectCall.update(),
      expectCall.recordEvent(),
    );
    assert.equal((await settle(clock, lock.release())).error, undefined);
    store.verify();
    assert.deepEqual(store.methods().slice(-3), ['get', 'update', 'recordEvent'], 'an update, not a delete');
    assert.deepEqual(holdersOf(store.last?.data), [BOB.identity], "bob's slot is untouched");
    assert.equal(lock.data, undefined);
  });

  test('shared: held beside a shared holder; an exclusive Lock on it is told it is held', async () => {
    const { clock, store, lock } = setup({ shared: true });
    store.script(expectCall.get(heldBy(bob({ shared: true }), 1)), expectCall.update(), expectCall.recordEvent());
    const { error } = await settle(clock, lock.acquire({ timeout: 0 }));
    assert.equal(error, undefined);
    store.verify();
    assert.deepEqual(holdersOf(store.last?.data), [BOB.identity, IDENTITY]);
    assert.equal(store.last?.data.holderIdentity, '2 holders', 'the summary old clients and ls read');

    const writer = setup();
    writer.store.script(expectCall.get(heldBy(bob({ shared: true }), 1)));
    const refused = await settle(writer.clock, writer.lock.acquire({ timeout: 0 }));
    writer.store.verify();
    assert.ok(refused.error instanceof LockHeldError);
  });

  test('a limit other than the lock’s: a UsageError naming both, nothing written', async () => {
    const { clock, store, lock } = setup({ limit: 3 });
    store.script(expectCall.get(heldBy(bob(), 2)));
    const { error } = await settle(clock, lock.acquire({ timeout: 0 }));
    store.verify();
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, 'lock "db-migrate" is a semaphore of 2, not of 3');
  });
});
