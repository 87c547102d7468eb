// The queue and holders record (src/lock/queue.ts): what is written, what counts as still there, and the one
// admission rule. Pure functions: no store, no clock.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  admit,
  heartbeatDueAt,
  heartbeatPeriodMs,
  liveWaiters,
  newWaiter,
  occupantsOf,
  recordWith,
  stampFences,
  withQueue,
  type HolderEntry,
  type WaiterEntry,
} from '../../../src/lock/queue.ts';
import { freshRecord } from '../../../src/lock/record.ts';
import type { StoredLock } from '../../../src/lock/store.ts';
import { ALICE, cmlock, SERVER_START_MS } from './fakes.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const T = SERVER_START_MS;

function waiter(id: string, spec: Partial<WaiterEntry> = {}): WaiterEntry {
  return {
    acquisitionId: id.padEnd(32, '0'),
    identity: id,
    user: id,
    host: 'h',
    reason: '',
    leaseDurationSeconds: 60,
    since: iso(T),
    renewTime: iso(T),
    heartbeatSeconds: 30,
    ...spec,
  };
}

function holder(id: string, spec: Partial<HolderEntry> = {}): HolderEntry {
  return {
    identity: id,
    user: id,
    host: 'h',
    acquireTime: iso(T),
    renewTime: iso(T),
    leaseDurationSeconds: 60,
    reason: '',
    acquisitionId: id.padEnd(32, '0'),
    ...spec,
  };
}

function stored(data: Record<string, string>, resourceVersion = '90'): StoredLock {
  return { ...cmlock(), resourceVersion, data };
}

describe('what is written', () => {
  test('one exclusive holder, nobody waiting: exactly the record a plain lock has always had', () => {
    const fresh = freshRecord({ holder: ALICE, nowMs: T, ttlMs: 60_000, reason: 'r', acquisitionId: 'a'.repeat(32) });
    const h = holder('alice@host1', { user: 'alice', host: 'host1', reason: 'r', acquisitionId: 'a'.repeat(32) });
    assert.deepEqual(recordWith(undefined, { holders: [h], waiters: [], limit: 1 }), fresh);
    assert.equal(Object.keys(fresh).length, 9, 'nine keys; the tenth, fence, comes with the next write');
  });

  test('waiters: one key, a JSON array in arrival order, only while someone waits', () => {
    const data = recordWith(undefined, { holders: [holder('a')], waiters: [waiter('b'), waiter('c')], limit: 1 });
    const queue = JSON.parse(data.waiters ?? '') as WaiterEntry[];
    assert.deepEqual(
      queue.map((w) => w.identity),
      ['b', 'c'],
    );
    assert.deepEqual(Object.keys(queue[0] ?? {}), [
      'acquisitionId',
      'identity',
      'user',
      'host',
      'reason',
      'leaseDurationSeconds',
      'since',
      'renewTime',
      'heartbeatSeconds',
    ]);
    assert.ok(JSON.stringify(queue[0]).length < 260, 'small entries: the whole queue goes to every waiter');
    assert.equal(recordWith(data, { holders: [holder('a')], waiters: [], limit: 1 }).waiters, undefined);
  });

  test('shared holders: `holders` is the truth; the top level summarises it for the Go library and old versions', () => {
    const holders = [
      holder('r1', { shared: true, acquireTime: iso(T - 5000), renewTime: iso(T), fence: '10' }),
      holder('r2', { shared: true, renewTime: iso(T + 1000), leaseDurationSeconds: 600, fence: '12' }),
      holder('r3', { shared: true, renewTime: iso(T + 2000), fence: '11' }),
    ];
    const data = recordWith({ other: 'kept' }, { holders, waiters: [], limit: 1 });
    assert.equal(data.holderIdentity, '3 holders', "nobody's identity: old clients' renew and release refuse it");
    assert.equal(data.acquisitionId, '');
    assert.equal(data.acquireTime, iso(T - 5000), 'the earliest');
    assert.equal(data.renewTime, iso(T + 1000), 'of the holder whose lease ends last');
    assert.equal(data.leaseDurationSeconds, '600');
    assert.equal(data.expiresAt, String(Math.ceil((T + 601_000) / 1000)), 'held while anyone holds it');
    assert.equal(data.fence, '12', 'the highest');
    assert.equal(data.limit, undefined);
    assert.equal(data.other, 'kept', 'keys of others are kept');
    assert.equal((JSON.parse(data.holders ?? '') as HolderEntry[]).length, 3);
    const unfenced = recordWith(undefined, {
      holders: [...holders, holder('r4', { shared: true })],
      waiters: [],
      limit: 1,
    });
    assert.equal(unfenced.fence, undefined, 'the newest holder has no fence yet: the resourceVersion is the highest');
  });

  test('a semaphore: `limit`, and `holders` even with one holder (its record on top)', () => {
    const data = recordWith(undefined, { holders: [holder('d1', { fence: '7' })], waiters: [], limit: 3 });
    assert.equal(data.limit, '3');
    assert.equal(data.holderIdentity, 'd1');
    assert.equal(data.fence, '7');
    assert.equal(occupantsOf(stored(data)).multi, true);
  });

  test('an offer: the head named holder with the claim, `handoff`, no fence', () => {
    const offered = holder('b', { leaseDurationSeconds: 2, handoff: true });
    const data = recordWith(undefined, { holders: [offered], waiters: [waiter('c')], limit: 1 });
    assert.equal(data.handoff, 'offered');
    assert.equal(data.fence, undefined);
    assert.equal(data.leaseDurationSeconds, '2');
    assert.equal(data.holders, undefined, 'an exclusive head: the plain record');
  });
});

describe('fences', () => {
  test('a write that changes only the queue writes down the fence of the holder the replaced write admitted', () => {
    const lock = cmlock({ resourceVersion: '77' });
    assert.equal(withQueue(lock, [waiter('b')]).fence, '77');
    const renewed = cmlock({ resourceVersion: '80', fence: '77' });
    assert.equal(withQueue(renewed, []).fence, '77', 'kept once written');
  });

  test('no fence during an offer: the offered head is not a holder until it confirms', () => {
    const offered = stored({ ...cmlock().data, handoff: 'offered' }, '81');
    assert.equal(withQueue(offered, [waiter('c')]).fence, undefined);
  });

  test('holders: only the entry without a fence (the one the replaced write admitted) is stamped; offers are not', () => {
    const holders = stampFences([holder('a', { fence: '5' }), holder('b'), holder('c', { handoff: true })], '9');
    assert.deepEqual(
      holders.map((h) => h.fence),
      ['5', '9', undefined],
    );
  });
});

describe('who is still there', () => {
  test('a waiter is gone after three of its own heartbeat periods and the allowance', () => {
    const occ = occupantsOf(
      stored({
        ...cmlock().data,
        waiters: JSON.stringify([waiter('b', { heartbeatSeconds: 30 }), waiter('c', { heartbeatSeconds: 100 })]),
      }),
    );
    const at = (ms: number, me?: string) => liveWaiters(occ, T + ms, me).map((w) => w.identity);
    assert.deepEqual(at(91_000), ['b', 'c']);
    assert.deepEqual(at(91_001), ['c']);
    assert.deepEqual(at(301_001), []);
    assert.deepEqual(at(400_000, 'b'.padEnd(32, '0')), ['b'], 'a waiter never drops itself');
    assert.deepEqual(liveWaiters(occ, -Infinity).length, 2, 'nobody is judged gone while the server time is unknown');
  });

  test('heartbeats: every max(30 s, 1 s × queue length), in the last quarter of the period, spread by id', () => {
    assert.equal(heartbeatPeriodMs(1), 30_000);
    assert.equal(heartbeatPeriodMs(96), 96_000);
    const dues = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => heartbeatDueAt(waiter(id)) - T);
    for (const due of dues) assert.ok(due > 22_500 && due <= 30_000, `due after ${due} ms`);
    assert.ok(new Set(dues).size > 3, 'spread');
    const w = newWaiter({
      acquisitionId: 'x'.repeat(32),
      identity: 'x',
      user: '',
      host: 'h',
      reason: '',
      ttlMs: 60_000,
      shared: false,
      stampMs: T,
      queueLength: 40,
    });
    assert.equal(w.heartbeatSeconds, 40);
  });

  test('garbage in `waiters` or `holders` is not fatal: entries that do not parse are left out', () => {
    const occ = occupantsOf(stored({ ...cmlock().data, waiters: '[{"x":1}, 3, {"acquisitionId":"q"}]' }));
    assert.deepEqual(
      occ.waiters.map((w) => w.acquisitionId),
      ['q'],
    );
    const broken = occupantsOf(stored({ ...cmlock().data, holders: 'not json' }));
    assert.equal(broken.multi, false, 'an unreadable `holders`: the top-level record is read instead');
  });
});

describe('admission: the queue served in order', () => {
  const shared = (id: string) => waiter(id, { shared: true });
  const names = (ws: WaiterEntry[]) => ws.map((w) => w.identity);

  test('exclusive: only when nobody holds it', () => {
    assert.deepEqual(names(admit([], [waiter('a'), waiter('b')], 1).admitted), ['a']);
    assert.deepEqual(names(admit([holder('x')], [waiter('a')], 1).admitted), []);
  });

  test('a run of shared requests enters together; a writer stops the readers behind it', () => {
    const queue = [shared('r1'), shared('r2'), waiter('w'), shared('r3')];
    const { admitted, rest } = admit([holder('r0', { shared: true })], queue, 1);
    assert.deepEqual(names(admitted), ['r1', 'r2']);
    assert.deepEqual(names(rest), ['w', 'r3'], 'r3 came after the writer: it waits for it');
    assert.deepEqual(names(admit([], [waiter('w'), shared('r')], 1).admitted), ['w']);
  });

  test('a semaphore: up to its limit', () => {
    const queue = [waiter('a'), waiter('b'), waiter('c')];
    assert.deepEqual(names(admit([holder('x')], queue, 3).admitted), ['a', 'b']);
    assert.deepEqual(names(admit([holder('x'), holder('y'), holder('z')], queue, 3).admitted), []);
  });
});
