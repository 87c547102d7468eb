// The queue's decisions, as tables: a waiter's (decideAcquire, situationOf), a release's hand-over
// (decideRelease) and a holder's renewal among others (decideRenew). Pure: the lock as seen and the waiter's own
// clock in, the next step out.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ChooseHolderError,
  LimitMismatchError,
  LockHeldError,
  NotYourLockError,
  QueueFullError,
} from '../../../src/lock/errors.ts';
import {
  decideAcquire,
  decideRelease,
  decideRenew,
  decideWithdraw,
  situationOf,
  type AcquireIntent,
  type AcquireMeta,
  type Action,
  type ReleaseMeta,
  type Seen,
} from '../../../src/lock/protocol.ts';
import {
  CLAIM_MS,
  heartbeatDueAt,
  occupantsOf,
  recordWith,
  type HolderEntry,
  type WaiterEntry,
} from '../../../src/lock/queue.ts';
import type { StoredLock } from '../../../src/lock/store.ts';
import { acquireOptions, ALICE, BOB, cmlock, SERVER_START_MS } from './fakes.ts';

const T = SERVER_START_MS;
const MONO = 50_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ME = 'a'.repeat(32);

const waiter = (id: string, spec: Partial<WaiterEntry> = {}): WaiterEntry => ({
  acquisitionId: id.length === 32 ? id : id.padEnd(32, '0'),
  identity: id,
  user: '',
  host: 'h',
  reason: '',
  leaseDurationSeconds: 60,
  since: iso(T),
  renewTime: iso(T),
  heartbeatSeconds: 30,
  ...spec,
});
const me = (spec: Partial<WaiterEntry> = {}) => waiter(ME, { identity: ALICE.identity, ...spec });
const holder = (id: string, spec: Partial<HolderEntry> = {}): HolderEntry => ({
  identity: id,
  user: '',
  host: 'h',
  acquireTime: iso(T - 60_000),
  renewTime: iso(T - 60_000),
  leaseDurationSeconds: 1800,
  reason: '',
  acquisitionId: id.padEnd(32, '0'),
  ...spec,
});

/** A lock as the server has it: these holders, this queue. */
function lock(holders: HolderEntry[], waiters: WaiterEntry[], limit = 1, resourceVersion = '90'): StoredLock {
  return { ...cmlock(), resourceVersion, data: recordWith(undefined, { holders, waiters, limit }) };
}

function seen<M>(current: StoredLock | undefined, spec: { at?: number; since?: number; gone?: StoredLock } = {}) {
  const s: Seen<M> & { since: number } = {
    lock: current,
    failed: undefined,
    nowMs: T + (spec.at ?? 0),
    stampMs: T + (spec.at ?? 0),
    mono: MONO + (spec.at ?? 0),
    since: MONO + (spec.since ?? 0),
    gone: spec.gone,
  };
  return s;
}

const intent = (opts: Parameters<typeof acquireOptions>[0] = {}): AcquireIntent => ({
  opts: acquireOptions({ timeoutMs: -1, ...opts }),
  holder: ALICE,
  acquisitionId: ME,
});

function what<M>(action: Action<M>): string {
  switch (action.do) {
    case 'write':
    case 'queue':
      return `${action.do} ${action.write.kind}`;
    case 'fail':
      return `fail ${action.error.name}`;
    case 'wait':
      return action.at === undefined ? 'wait' : `wait until +${action.at - MONO}`;
    default:
      return action.do;
  }
}

/** The data a write sends. */
function written<M>(action: Action<M>): Record<string, string> {
  assert.ok((action.do === 'write' || action.do === 'queue') && action.write.kind !== 'delete', what(action));
  return action.write.lock.data;
}

const queueOf = (data: Record<string, string>) =>
  (JSON.parse(data.waiters ?? '[]') as WaiterEntry[]).map((w) => w.identity);

describe('a waiter (decideAcquire)', () => {
  const cases: [string, Parameters<typeof seen>, AcquireIntent, string][] = [
    ['held, nobody waiting: join at the back', [lock([holder('bob')], [])], intent(), 'queue update'],
    ['held, others waiting: join behind them', [lock([holder('bob')], [waiter('c')])], intent(), 'queue update'],
    [
      'try once, held: refused, nothing written',
      [lock([holder('bob')], [])],
      intent({ timeoutMs: 0 }),
      `fail ${LockHeldError.name}`,
    ],
    [
      'try once, the holder expired but others wait: refused (never ahead of the queue)',
      [lock([holder('bob', { renewTime: iso(T - 3_600_000) })], [waiter('c')])],
      intent({ timeoutMs: 0 }),
      `fail ${LockHeldError.name}`,
    ],
    [
      'try once, expired, and the only waiters missed their heartbeats: taken over',
      [lock([holder('bob', { renewTime: iso(T - 3_600_000) })], [waiter('c', { renewTime: iso(T - 100_000) })])],
      intent({ timeoutMs: 0 }),
      'write update',
    ],
    [
      'first in line, the holder dead (lease + 1 s over): taken over at once',
      [lock([holder('bob', { renewTime: iso(T - 1_802_000) })], [me(), waiter('c')])],
      intent(),
      'write update',
    ],
    [
      'second in line, the holder dead: the first has one claim to act first',
      [lock([holder('bob', { renewTime: iso(T - 1_802_000) })], [waiter('c'), me()])],
      intent(),
      `wait until +${CLAIM_MS}`,
    ],
    [
      'second in line, one claim later, the first did not act: taken, the first dropped',
      [lock([holder('bob', { renewTime: iso(T - 1_802_000) })], [waiter('c'), me()]), { at: CLAIM_MS }],
      intent(),
      'write update',
    ],
    [
      'an offer to the waiter ahead, just seen: wait one claim for it to confirm',
      [lock([holder('c', { handoff: true, leaseDurationSeconds: 2, renewTime: iso(T) })], [me()])],
      intent(),
      `wait until +${CLAIM_MS}`,
    ],
    [
      'an offer unconfirmed for one claim: skipped (a write making us the holder)',
      [lock([holder('c', { handoff: true, leaseDurationSeconds: 2, renewTime: iso(T) })], [me()]), { at: CLAIM_MS }],
      intent(),
      'write update',
    ],
    [
      'an offer, and one more waiter ahead of us: (k + 1) claims',
      [lock([holder('c', { handoff: true, leaseDurationSeconds: 2, renewTime: iso(T) })], [waiter('d'), me()])],
      intent(),
      `wait until +${2 * CLAIM_MS}`,
    ],
    [
      'the lock offered to us: confirm it',
      [lock([holder(ALICE.identity, { acquisitionId: ME, handoff: true, leaseDurationSeconds: 2 })], [waiter('c')])],
      intent(),
      'write update',
    ],
    [
      'our confirmation is the lock now (a lost answer took effect): done',
      [lock([holder(ALICE.identity, { acquisitionId: ME })], [waiter('c')])],
      intent(),
      'done',
    ],
    [
      'in line, our heartbeat due: one write',
      [lock([holder('bob')], [me()]), { at: 30_000 }],
      intent(),
      'queue update',
    ],
    [
      'shared holders, and a shared request arrives while a writer waits: it queues behind the writer',
      [lock([holder('r1', { shared: true })], [waiter('w')])],
      intent({ shared: true }),
      'queue update',
    ],
    [
      'shared holders, a shared request, nobody waiting: taken beside them',
      [lock([holder('r1', { shared: true })], [])],
      intent({ shared: true }),
      'write update',
    ],
    [
      'a semaphore with a free slot, nobody waiting: taken',
      [lock([holder('d1'), holder('d2')], [], 3)],
      intent({ limit: 3 }),
      'write update',
    ],
    ['a full semaphore: join', [lock([holder('d1'), holder('d2')], [], 2)], intent({ limit: 2 }), 'queue update'],
    [
      'a semaphore held with another limit: a usage error, nothing written',
      [lock([holder('d1')], [], 2)],
      intent({ limit: 3 }),
      `fail ${LimitMismatchError.name}`,
    ],
    [
      'a plain request on a semaphore: a usage error',
      [lock([holder('d1')], [], 2)],
      intent(),
      `fail ${LimitMismatchError.name}`,
    ],
    [
      'a stale limit on a lock nobody holds or waits for binds nobody: taken with ours',
      [lock([holder('d1', { renewTime: iso(T - 3_600_000) })], [], 2)],
      intent({ limit: 3 }),
      'write update',
    ],
    [
      'the queue is full: refused with a clear error',
      [
        lock(
          [holder('bob')],
          Array.from({ length: 256 }, (_, i) => waiter(`w${i}`)),
        ),
      ],
      intent(),
      `fail ${QueueFullError.name}`,
    ],
    [
      'dropped from the queue (skipped as too slow, or an old client erased it): join again, at the back',
      [lock([holder('c')], [waiter('d')])],
      intent(),
      'queue update',
    ],
  ];
  for (const [name, args, i, want] of cases) {
    test(name, () => {
      const s = seen<AcquireMeta>(...args);
      const first = decideAcquire(i, s);
      assert.equal(what(first), want);
      assert.deepEqual(decideAcquire(i, s), first, 'same input, same step');
    });
  }

  test('in line, nothing to do: wait, to look again when our heartbeat is due (server time, our own period)', () => {
    const entry = me();
    const action = decideAcquire(intent(), seen(lock([holder('bob')], [entry]), { at: 1000 }));
    assert.ok(action.do === 'wait' && action.at !== undefined);
    assert.equal(action.at - (MONO + 1000), heartbeatDueAt(entry) - (T + 1000));
  });

  test('a shared run of which one offered head never confirms: a writer next in line drops only the dead offer', () => {
    const confirmedReader = holder('r1', { shared: true, fence: '88' });
    const deadOffer = holder('r2', { shared: true, handoff: true, leaseDurationSeconds: 2, renewTime: iso(T) });
    const writer = me();
    const action = decideAcquire(intent(), seen(lock([confirmedReader, deadOffer], [writer]), { at: CLAIM_MS }));
    assert.equal(what(action), 'queue update', 'not a take: r1 still holds it');
    const data = written(action);
    assert.deepEqual(
      (JSON.parse(data.holders ?? '[]') as HolderEntry[]).map((h) => h.identity),
      ['r1'],
    );
    assert.deepEqual(queueOf(data), [ALICE.identity]);
  });

  test('a join: the queue kept in order with us at the back, the holder untouched, its fence written down', () => {
    const before = lock([holder('bob')], [waiter('c')]);
    const data = written(decideAcquire(intent(), seen(before)));
    assert.deepEqual(queueOf(data), ['c', ALICE.identity]);
    assert.equal(data.holderIdentity, 'bob');
    assert.equal(data.fence, '90');
  });

  test('a skip: we hold it with our own lease; the dead head and those ahead are gone, those behind stay', () => {
    const offered = holder('c', { handoff: true, leaseDurationSeconds: 2, renewTime: iso(T) });
    const data = written(
      decideAcquire(intent(), seen(lock([offered], [waiter('d'), me(), waiter('e')]), { at: 2 * CLAIM_MS })),
    );
    assert.equal(data.holderIdentity, ALICE.identity);
    assert.equal(data.acquisitionId, ME);
    assert.equal(data.handoff, undefined);
    assert.equal(data.fence, undefined, "this write's resourceVersion is our token");
    assert.equal(data.leaseDurationSeconds, '30');
    assert.deepEqual(queueOf(data), ['e']);
  });

  test('a confirmation: our lease from now, the marker and any fence gone, the queue as it is', () => {
    const offer = holder(ALICE.identity, { acquisitionId: ME, handoff: true, leaseDurationSeconds: 2 });
    const action = decideAcquire(intent(), seen(lock([offer], [waiter('c')]), { at: 500 }));
    const data = written(action);
    assert.equal(data.handoff, undefined);
    assert.equal(data.fence, undefined);
    assert.equal(data.acquireTime, iso(T + 500));
    assert.equal(data.leaseDurationSeconds, '30');
    assert.deepEqual(queueOf(data), ['c']);
    assert.ok(action.do === 'write' && action.meta.outcome === 'acquired' && action.claims === true);
  });

  test('the takeover of a dead holder by the first in line is recorded as a takeover', () => {
    const action = decideAcquire(
      intent(),
      seen(lock([holder('bob', { renewTime: iso(T - 1_802_000) })], [me(), waiter('c')])),
    );
    assert.ok(action.do === 'write' && action.meta.outcome === 'tookOver');
    assert.deepEqual(queueOf(written(action)), ['c']);
  });

  test('a shared hold beside others: `holders` grows, fences written down, the owners of all kept', () => {
    const before = lock([holder('r1', { shared: true })], []);
    const data = written(decideAcquire(intent({ shared: true }), seen(before)));
    const holders = JSON.parse(data.holders ?? '[]') as HolderEntry[];
    assert.deepEqual(
      holders.map((h) => [h.identity, h.fence, h.shared]),
      [
        ['r1', '90', true],
        [ALICE.identity, undefined, true],
      ],
    );
    assert.equal(data.holderIdentity, '2 holders');
  });

  test('the lock deleted with its queue (an older release): the first rebuilds it at once, the next one claim later', () => {
    const gone = lock([holder('bob')], [me(), waiter('c')]);
    const create = decideAcquire(intent(), seen(undefined, { gone }));
    assert.equal(what(create), 'write create');
    assert.deepEqual(queueOf(written(create)), ['c'], 'with the rest of the queue, in its order');
    const second = lock([holder('bob')], [waiter('c'), me()]);
    assert.equal(what(decideAcquire(intent(), seen(undefined, { gone: second }))), `wait until +${CLAIM_MS}`);
  });

  test('the moment to act is counted from when this waiter first saw the situation, not from each change', () => {
    const dead = (rv: string, queue: WaiterEntry[]) =>
      lock([holder('bob', { renewTime: iso(T - 1_802_000) })], queue, 1, rv);
    const a = situationOf(intent(), seen(dead('90', [waiter('c'), me()])));
    const b = situationOf(intent(), seen(dead('95', [waiter('c'), me(), waiter('d')])));
    assert.ok(a !== undefined && a === b, 'a join behind us does not restart the clock');
    const offer = lock([holder('c', { handoff: true, leaseDurationSeconds: 2, renewTime: iso(T) })], [me()]);
    assert.notEqual(situationOf(intent(), seen(offer)), a);
    assert.equal(situationOf(intent(), seen(lock([holder('bob')], [me()]))), undefined, 'held: nothing to act on');
  });
});

describe('a release with a queue (decideRelease)', () => {
  const release = (opts: Partial<{ force: boolean; holder: string; all: boolean }> = {}) => ({
    opts: { name: 'db-migrate', force: false, ignoreNotFound: false, ...opts },
    namespace: 'team-a',
    holder: ALICE,
  });
  const mine = holder(ALICE.identity, { acquisitionId: ME });

  test('waiters: one update offering the lock to the first, with a claim; not a delete', () => {
    const action = decideRelease(release(), seen<ReleaseMeta>(lock([mine], [waiter('b'), waiter('c')])));
    const data = written(action);
    assert.equal(data.holderIdentity, 'b');
    assert.equal(data.acquisitionId, waiter('b').acquisitionId);
    assert.equal(data.handoff, 'offered');
    assert.equal(data.leaseDurationSeconds, '2');
    assert.equal(data.expiresAt, String(Math.ceil((T + CLAIM_MS) / 1000)));
    assert.equal(data.fence, undefined);
    assert.deepEqual(queueOf(data), ['c']);
    assert.ok(action.do === 'write' && action.write.kind === 'update' && action.write.resourceVersion === '90');
    assert.deepEqual(action.do === 'write' ? action.meta.handedTo.map((w) => w.identity) : [], ['b']);
  });

  test('nobody (live) waiting: delete with preconditions, as always', () => {
    const stale = waiter('b', { renewTime: iso(T - 200_000) });
    assert.equal(what(decideRelease(release(), seen<ReleaseMeta>(lock([mine], [stale])))), 'write delete');
  });

  test('a run of shared waiters is offered together; a writer behind them waits', () => {
    const queue = [
      waiter('r1', { shared: true }),
      waiter('r2', { shared: true }),
      waiter('w'),
      waiter('r3', { shared: true }),
    ];
    const data = written(decideRelease(release(), seen<ReleaseMeta>(lock([mine], queue))));
    const holders = JSON.parse(data.holders ?? '[]') as HolderEntry[];
    assert.deepEqual(
      holders.map((h) => [h.identity, h.handoff]),
      [
        ['r1', true],
        ['r2', true],
      ],
    );
    assert.deepEqual(queueOf(data), ['w', 'r3']);
  });

  test('one of several holders: only its own entry goes; a waiting writer still waits for the others', () => {
    const holders = [holder('r1', { shared: true, fence: '80' }), { ...mine, shared: true as const }];
    const data = written(decideRelease(release(), seen<ReleaseMeta>(lock(holders, [waiter('w')]))));
    assert.equal(data.holderIdentity, 'r1', 'one holder left: its record on top');
    assert.deepEqual(queueOf(data), ['w']);
  });

  test('--force on several holders: name one (or all); an unknown name is refused', () => {
    const holders = [holder('d1'), holder('d2')];
    const seenIt = seen<ReleaseMeta>(lock(holders, [], 2));
    assert.equal(what(decideRelease(release({ force: true }), seenIt)), `fail ${ChooseHolderError.name}`);
    assert.equal(what(decideRelease(release({ force: true, holder: 'zz' }), seenIt)), `fail ${ChooseHolderError.name}`);
    const one = written(decideRelease(release({ force: true, holder: 'd2' }), seenIt));
    assert.deepEqual(
      occupantsOf({ ...cmlock(), data: one }).holders.map((h) => h.identity),
      ['d1'],
    );
    assert.equal(what(decideRelease(release({ force: true, all: true }), seenIt)), 'write delete');
    assert.equal(what(decideRelease(release(), seenIt)), `fail ${NotYourLockError.name}`);
  });

  test('a forced break of a single holder with a queue hands the lock to the first in line', () => {
    const action = decideRelease(release({ force: true }), seen<ReleaseMeta>(lock([holder('bob')], [waiter('c')])));
    assert.equal(written(action).holderIdentity, 'c');
    assert.ok(action.do === 'write' && action.meta.forced);
  });

  test('our hand-over lost its answer, and the lock no longer has our hold: done', () => {
    const before = lock([mine], [waiter('b')]);
    const after = lock([holder('b', { handoff: true })], [], 1, '91');
    const action = decideRelease(release(), seen<ReleaseMeta>(before));
    assert.ok(action.do === 'write');
    const failed = { write: action.write, meta: action.meta, base: before, sentMono: 0, ambiguous: true };
    assert.equal(what(decideRelease(release(), { ...seen<ReleaseMeta>(after), failed })), 'done');
  });
});

describe('withdrawing from the queue (Ctrl-C, timeout)', () => {
  test('in line: one update without us; offered: handed on; neither: nothing', () => {
    const leave = decideWithdraw(ME, seen<object>(lock([holder('bob')], [waiter('c'), me()])));
    assert.deepEqual(queueOf(written(leave)), ['c']);
    const offered = lock([holder(ALICE.identity, { acquisitionId: ME, handoff: true })], [waiter('c')]);
    assert.equal(written(decideWithdraw(ME, seen<object>(offered))).holderIdentity, 'c');
    assert.equal(what(decideWithdraw(ME, seen<object>(lock([holder('bob')], [waiter('c')])))), 'done');
  });
});

describe('renewing one hold among several (decideRenew)', () => {
  test('our entry renewed, the others untouched but for their fences written down', () => {
    const holders = [holder('r1', { shared: true }), holder(ALICE.identity, { shared: true, fence: '70' })];
    const renewIntent = { name: 'db-migrate', namespace: 'team-a', holder: ALICE, ttlMs: 60_000 };
    const data = written(decideRenew(renewIntent, seen<object>(lock(holders, [waiter('w')]), { at: 5000 })));
    const after = JSON.parse(data.holders ?? '[]') as HolderEntry[];
    assert.deepEqual(
      after.map((h) => [h.identity, h.renewTime, h.leaseDurationSeconds, h.fence]),
      [
        ['r1', iso(T - 60_000), 1800, '90'],
        [ALICE.identity, iso(T + 5000), 60, '70'],
      ],
    );
    assert.deepEqual(queueOf(data), ['w']);
    const bobs = { ...renewIntent, holder: BOB };
    assert.equal(what(decideRenew(bobs, seen<object>(lock(holders, [])))), `fail ${NotYourLockError.name}`);
  });

  test('one of several holders renewing within a second of its last stamp: 1 ms after it, as a plain lock', () => {
    const previous = T + 5400;
    const holders = [
      holder('r1', { shared: true }),
      holder(ALICE.identity, { shared: true, renewTime: iso(previous) }),
    ];
    const renewIntent = { name: 'db-migrate', namespace: 'team-a', holder: ALICE, ttlMs: 60_000 };
    const data = written(decideRenew(renewIntent, seen<object>(lock(holders, []), { at: 5000 })));
    const mine = (JSON.parse(data.holders ?? '[]') as HolderEntry[]).find((h) => h.identity === ALICE.identity);
    assert.equal(mine?.renewTime, iso(previous + 1), 'strictly later: a lost answer is recognised by it');
  });
});
