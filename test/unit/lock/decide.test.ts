// The protocol's decisions are pure: the lock as seen (and our last write that did not take effect) in, the next
// step out. No store, no clock: these tables are the rules themselves; acquire.test.ts and protocol.test.ts
// check the loop that carries them out.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LockHeldError, LockMissingError, NotYourLockError } from '../../../src/lock/errors.ts';
import {
  decideAcquire,
  decideOwnItself,
  decideRelease,
  decideRenew,
  type AcquireMeta,
  type Action,
  type Failed,
  type ReleaseMeta,
  type Seen,
} from '../../../src/lock/protocol.ts';
import type { StoredLock } from '../../../src/lock/store.ts';
import { acquireOptions, ALICE, BOB, cmlock, goLock, podOwner, SERVER_START_MS } from './fakes.ts';

const ID = 'f'.repeat(32);
const seen = <M>(lock: StoredLock | undefined, failed?: Failed<M>): Seen<M> => ({
  lock,
  failed,
  nowMs: SERVER_START_MS,
  stampMs: SERVER_START_MS,
});
const mine = () => cmlock({ holder: ALICE, acquisitionId: 'a'.repeat(32), uid: 'uid-a', resourceVersion: '70' });
const what = <M>(action: Action<M>): string =>
  action.do === 'write' || action.do === 'queue'
    ? `${action.do} ${action.write.kind}`
    : action.do === 'fail'
      ? `fail ${action.error.name}`
      : action.do;

describe('decideAcquire', () => {
  const intent = (timeoutMs = 0) => ({ opts: acquireOptions({ timeoutMs }), holder: ALICE, acquisitionId: ID });
  const cases: [string, StoredLock | undefined, number, string][] = [
    ['free: create', undefined, 0, 'write create'],
    ['ours (a lost answer took effect): done', cmlock({ holder: ALICE, acquisitionId: ID }), 0, 'done'],
    ['held by this identity: update (already held)', mine(), 0, 'write update'],
    ['expired: update (take over)', cmlock({ renewMs: SERVER_START_MS - 60_000, ttlSeconds: 30 }), 0, 'write update'],
    ['held, try once: refused', cmlock(), 0, `fail ${LockHeldError.name}`],
    ['held, a timeout: join the queue (an update that keeps the call going)', cmlock(), -1, 'queue update'],
  ];
  for (const [name, lock, timeoutMs, want] of cases) {
    test(name, () => {
      const first = decideAcquire(intent(timeoutMs), seen<AcquireMeta>(lock));
      assert.equal(what(first), want);
      assert.deepEqual(decideAcquire(intent(timeoutMs), seen<AcquireMeta>(lock)), first, 'same input, same step');
    });
  }

  test('no server time yet: no record can be stamped, so no write', () => {
    const action = decideAcquire(intent(), { ...seen<AcquireMeta>(undefined), stampMs: undefined });
    assert.equal(what(action), 'fail NoServerTimeError');
  });
});

describe('the one owner every write of acquire and renew gives the lock (the Go library crashes without one)', () => {
  const self = (lock: StoredLock) => [{ apiVersion: 'v1', kind: 'ConfigMap', name: lock.name, uid: lock.uid }];
  const owners = (action: Action<unknown>) =>
    action.do === 'write' && action.write.kind !== 'delete' ? action.write.lock.ownerReferences : undefined;
  const expired = () => cmlock({ renewMs: SERVER_START_MS - 60_000, ttlSeconds: 30, ownerPod: 'old-pod' });
  const intent = (owner?: ReturnType<typeof podOwner>) => ({
    opts: acquireOptions(owner === undefined ? {} : { owner }),
    holder: ALICE,
    acquisitionId: ID,
  });
  test('create in a Pod: the Pod', () => {
    assert.deepEqual(owners(decideAcquire(intent(podOwner('me')), seen<AcquireMeta>(undefined))), [podOwner('me')]);
  });
  test('create outside a Pod: none yet (its uid is not known before it exists; decideOwnItself follows)', () => {
    assert.deepEqual(owners(decideAcquire(intent(), seen<AcquireMeta>(undefined))), []);
  });
  test("takeover outside a Pod: the lock itself, its uid read; the old holder's Pod dropped", () => {
    assert.deepEqual(owners(decideAcquire(intent(), seen<AcquireMeta>(expired()))), self(expired()));
    const go = goLock({ expiresAtSeconds: SERVER_START_MS / 1000 - 60 });
    assert.deepEqual(owners(decideAcquire(intent(), seen<AcquireMeta>(go))), self(go));
  });
  test('takeover in a Pod: our Pod, never the Pod and the lock together', () => {
    assert.deepEqual(owners(decideAcquire(intent(podOwner('me')), seen<AcquireMeta>(expired()))), [podOwner('me')]);
  });
  test('acquire again and renew keep the owner; a lock without one (an older cmlock) gets itself', () => {
    const inPod = cmlock({ holder: ALICE, ownerPod: 'me' });
    const bare = mine();
    assert.deepEqual(owners(decideAcquire(intent(), seen<AcquireMeta>(inPod))), [podOwner('me')]);
    assert.deepEqual(owners(decideAcquire(intent(), seen<AcquireMeta>(bare))), self(bare));
    const renew = { name: 'db-migrate', namespace: 'team-a', holder: ALICE, ttlMs: undefined };
    assert.deepEqual(owners(decideRenew(renew, seen<object>(inPod))), [podOwner('me')]);
    assert.deepEqual(owners(decideRenew(renew, seen<object>(bare))), self(bare));
  });
});

describe('decideOwnItself', () => {
  const created = () => cmlock({ holder: ALICE, acquisitionId: ID, uid: 'uid-new', resourceVersion: '101' });
  test('our lock without owner: an update with the resourceVersion seen, owner itself, the fence written down', () => {
    const lock = created();
    const action = decideOwnItself({ acquisitionId: ID }, seen<object>(lock));
    assert.ok(action.do === 'write' && action.write.kind === 'update');
    assert.equal(action.write.resourceVersion, '101');
    assert.deepEqual(action.write.lock.ownerReferences, [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'db-migrate', uid: 'uid-new' },
    ]);
    assert.deepEqual(action.write.lock.data, { ...lock.data, fence: '101' });
    assert.deepEqual(action.write.lock.labels, lock.labels);
  });
  test('renewed since by our identity: the fence it wrote down is kept', () => {
    const renewed = { ...created(), resourceVersion: '105', data: { ...created().data, fence: '101' } };
    const action = decideOwnItself({ acquisitionId: ID }, seen<object>(renewed));
    assert.ok(action.do === 'write' && action.write.kind === 'update');
    assert.equal(action.write.lock.data.fence, '101');
  });
  test('already owned, gone, or no longer ours: done, nothing written', () => {
    assert.equal(
      what(decideOwnItself({ acquisitionId: ID }, seen<object>({ ...created(), ownerReferences: [podOwner('p')] }))),
      'done',
    );
    assert.equal(what(decideOwnItself({ acquisitionId: ID }, seen<object>(undefined))), 'done');
    assert.equal(what(decideOwnItself({ acquisitionId: ID }, seen<object>(cmlock({ holder: BOB })))), 'done');
  });
});

describe('decideRenew', () => {
  const intent = { name: 'db-migrate', namespace: 'team-a', holder: ALICE, ttlMs: undefined };
  test('ours: an update carrying the resourceVersion seen', () => {
    const action = decideRenew(intent, seen<object>(mine()));
    assert.ok(action.do === 'write' && action.write.kind === 'update');
    assert.equal(action.write.resourceVersion, '70');
  });
  test("someone else's: refused; gone: missing", () => {
    assert.equal(what(decideRenew(intent, seen<object>(cmlock({ holder: BOB })))), `fail ${NotYourLockError.name}`);
    assert.equal(what(decideRenew(intent, seen<object>(undefined))), `fail ${LockMissingError.name}`);
  });
});

describe('decideRelease', () => {
  const intent = (force = false) => ({
    opts: { name: 'db-migrate', force, ignoreNotFound: false },
    namespace: 'team-a',
    holder: ALICE,
  });
  const lostDelete = (base: StoredLock): Failed<ReleaseMeta> => ({
    write: { kind: 'delete', name: 'db-migrate', preconditions: { uid: base.uid, resourceVersion: '70' } },
    meta: { forced: false, released: [], handedTo: [] },
    base,
    sentMono: 0,
    ambiguous: true,
  });
  test('ours: a delete with the uid and resourceVersion seen', () => {
    const action = decideRelease(intent(), seen<ReleaseMeta>(mine()));
    assert.ok(action.do === 'write' && action.write.kind === 'delete');
    assert.deepEqual(action.write.preconditions, { uid: 'uid-a', resourceVersion: '70' });
  });
  test("someone else's: refused without force, deleted with it", () => {
    assert.equal(what(decideRelease(intent(), seen<ReleaseMeta>(cmlock()))), `fail ${NotYourLockError.name}`);
    assert.equal(what(decideRelease(intent(true), seen<ReleaseMeta>(cmlock()))), 'write delete');
  });
  test('our delete lost its answer and the lock is gone: done, not "not found"', () => {
    assert.equal(what(decideRelease(intent(), seen<ReleaseMeta>(undefined, lostDelete(mine())))), 'done');
  });
  test('a refused delete, and the lock changed hands (taken over): refused even with force', () => {
    const refused = { ...lostDelete(mine()), ambiguous: false };
    const action = decideRelease(intent(true), seen<ReleaseMeta>(cmlock({ holder: BOB, uid: 'uid-a' }), refused));
    assert.ok(action.do === 'fail' && action.error instanceof NotYourLockError && action.error.changedHands);
  });
});
