// The protocol's decisions are pure: the lock as seen (and our last write that did not take effect) in, the next
// step out. No store, no clock: these tables are the rules themselves; acquire.test.ts and protocol.test.ts
// check the loop that carries them out.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LockHeldError, LockMissingError, NotYourLockError } from '../../../src/lock/errors.ts';
import {
  decideAcquire,
  decideRelease,
  decideRenew,
  type AcquireMeta,
  type Action,
  type Failed,
  type ReleaseMeta,
  type Seen,
} from '../../../src/lock/protocol.ts';
import type { StoredLock } from '../../../src/lock/store.ts';
import { acquireOptions, ALICE, BOB, cmlock, SERVER_START_MS } from './fakes.ts';

const ID = 'f'.repeat(32);
const seen = <M>(lock: StoredLock | undefined, failed?: Failed<M>): Seen<M> => ({
  lock,
  failed,
  nowMs: SERVER_START_MS,
  stampMs: SERVER_START_MS,
});
const mine = () => cmlock({ holder: ALICE, acquisitionId: 'a'.repeat(32), uid: 'uid-a', resourceVersion: '70' });
const what = <M>(action: Action<M>): string =>
  action.do === 'write' ? `write ${action.write.kind}` : action.do === 'fail' ? `fail ${action.error.name}` : action.do;

describe('decideAcquire', () => {
  const intent = (timeoutMs = 0) => ({ opts: acquireOptions({ timeoutMs }), holder: ALICE, acquisitionId: ID });
  const cases: [string, StoredLock | undefined, number, string][] = [
    ['free: create', undefined, 0, 'write create'],
    ['ours (a lost answer took effect): done', cmlock({ holder: ALICE, acquisitionId: ID }), 0, 'done'],
    ['held by this identity: update (already held)', mine(), 0, 'write update'],
    ['expired: update (take over)', cmlock({ renewMs: SERVER_START_MS - 60_000, ttlSeconds: 30 }), 0, 'write update'],
    ['held, try once: refused', cmlock(), 0, `fail ${LockHeldError.name}`],
    ['held, a timeout: wait', cmlock(), -1, 'wait'],
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
    meta: { forced: false },
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
