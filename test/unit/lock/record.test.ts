import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  expiryOf,
  fenceOf,
  freshRecord,
  isExpired,
  NEVER_EXPIRES_AT_SECONDS,
  newAcquisitionId,
  renewedRecord,
  toLockView,
} from '../../../src/lock/record.ts';
import type { StoredLock } from '../../../src/lock/store.ts';
import { rfc3339 } from '../../../src/lock/time.ts';
import { ALICE, cmlock, goLock, SERVER_START_MS } from './fakes.ts';

const T = SERVER_START_MS;
const withData = (data: Record<string, string>, resourceVersion = '9'): StoredLock => ({
  ...goLock(),
  resourceVersion,
  ownerReferences: [],
  data,
});

describe('record', () => {
  test('freshRecord: every key, expiresAt in Unix seconds rounded up', () => {
    const data = freshRecord({ holder: ALICE, nowMs: T + 1, ttlMs: 30_000, reason: 'r', acquisitionId: 'id' });
    assert.deepEqual(data, {
      holderIdentity: 'alice@host1',
      user: 'alice',
      host: 'host1',
      acquireTime: '2026-11-26T06:30:00.001Z',
      renewTime: '2026-11-26T06:30:00.001Z',
      leaseDurationSeconds: '30',
      reason: 'r',
      acquisitionId: 'id',
      expiresAt: String(T / 1000 + 31),
    });
    assert.equal(
      freshRecord({ holder: ALICE, nowMs: T, ttlMs: 1500, reason: '', acquisitionId: 'i' }).leaseDurationSeconds,
      '1.5',
    );
    assert.equal(
      freshRecord({ holder: ALICE, nowMs: T, ttlMs: 0, reason: '', acquisitionId: 'i' }).expiresAt,
      '253402300799',
    );
  });

  test('acquisition ids: 128-bit hex, new each time', () => {
    const a = newAcquisitionId();
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, newAcquisitionId());
  });

  test('renewedRecord keeps the acquisition and unknown keys, writes the fence', () => {
    const lock = cmlock({ holder: ALICE, acquisitionId: 'x', resourceVersion: '70' });
    lock.data.extra = 'kept';
    const data = renewedRecord(lock, { nowMs: T + 5000 });
    assert.equal(data.extra, 'kept');
    assert.equal(data.acquisitionId, 'x');
    assert.equal(data.acquireTime, lock.data.acquireTime);
    assert.equal(data.renewTime, '2026-11-26T06:30:05.000Z');
    assert.equal(data.leaseDurationSeconds, '1800');
    assert.equal(data.expiresAt, String(T / 1000 + 5 + 1800));
    assert.equal(data.fence, '70');
    assert.equal(renewedRecord({ ...lock, data: { ...lock.data, fence: '60' } }, { nowMs: T }).fence, '60');
  });

  test('renewedRecord always stamps later than the write it replaces (a second of Date resolution)', () => {
    const lock = cmlock({ holder: ALICE, acquisitionId: 'x', resourceVersion: '70' });
    const previous = T + 5400;
    lock.data.renewTime = rfc3339(previous);
    // Up to a second earlier, or the same: 1 ms after the previous stamp, expiresAt follows it.
    const soon = renewedRecord(lock, { nowMs: previous - 700, ttlMs: 60_000 });
    assert.equal(soon.renewTime, rfc3339(previous + 1));
    assert.equal(soon.expiresAt, String(Math.ceil((previous + 1 + 60_000) / 1000)));
    assert.equal(renewedRecord(lock, { nowMs: previous }).renewTime, rfc3339(previous + 1));
    // Later: the new stamp.
    assert.equal(renewedRecord(lock, { nowMs: previous + 300 }).renewTime, rfc3339(previous + 300));
    // A previous stamp far ahead (hand-edited) is not trusted.
    assert.equal(renewedRecord(lock, { nowMs: previous - 5000 }).renewTime, rfc3339(previous - 5000));
  });

  const expiries: [string, Record<string, string>, number | undefined][] = [
    [
      'renewTime + lease',
      { renewTime: '2026-11-26T06:30:00.500Z', leaseDurationSeconds: '30', expiresAt: '1' },
      T + 30_500,
    ],
    ['fractional lease', { renewTime: '2026-11-26T06:30:00Z', leaseDurationSeconds: '1.5' }, T + 1500],
    [
      'lease 0 never expires',
      { renewTime: '2026-11-26T06:30:00Z', leaseDurationSeconds: '0', expiresAt: '253402300799' },
      undefined,
    ],
    ['Go library: expiresAt', { expiresAt: String(T / 1000 + 60) }, T + 60_000],
    ['Go library: no expiresAt never expires', {}, undefined],
    ['expiresAt of year 9999 never expires', { expiresAt: String(NEVER_EXPIRES_AT_SECONDS) }, undefined],
    [
      'garbage lease falls back to expiresAt',
      { renewTime: '2026-11-26T06:30:00Z', leaseDurationSeconds: '1e3', expiresAt: '5' },
      5000,
    ],
    [
      'garbage renewTime falls back to expiresAt',
      { renewTime: 'yesterday', leaseDurationSeconds: '30', expiresAt: '5' },
      5000,
    ],
    [
      'garbage record falls back to expiresAt, read as the Go library reads it: -5 is 1969',
      { renewTime: 'x', leaseDurationSeconds: 'y', expiresAt: '-5' },
      -5000,
    ],
    ['garbage everywhere never expires', { renewTime: 'x', leaseDurationSeconds: 'y', expiresAt: '5s' }, undefined],
    [
      'a lease past year 9999 never expires',
      { renewTime: '2026-11-26T06:30:00Z', leaseDurationSeconds: '99999999999999' },
      undefined,
    ],
  ];
  for (const [name, data, want] of expiries) {
    test(`expiryOf: ${name}`, () => assert.equal(expiryOf(withData(data)), want));
  }

  test('isExpired: only past expiry + 1000 ms', () => {
    const lock = withData({ expiresAt: String(T / 1000) });
    assert.equal(isExpired(lock, T + 999), false);
    assert.equal(isExpired(lock, T + 1000), false);
    assert.equal(isExpired(lock, T + 1001), true);
    assert.equal(isExpired(lock, -Infinity), false, 'unknown server time: never');
    assert.equal(isExpired(withData({}), Number.MAX_SAFE_INTEGER), false);
  });

  test('fenceOf: data.fence, else the resourceVersion', () => {
    assert.equal(fenceOf(withData({}, '42')), '42');
    assert.equal(fenceOf(withData({ fence: '17' }, '42')), '17');
    assert.equal(fenceOf(withData({ fence: 'junk' }, '42')), '42');
  });

  test('toLockView: a Go library lock', () => {
    const view = toLockView(goLock({ expiresAtSeconds: T / 1000 - 10 }), T);
    assert.deepEqual(view, {
      name: 'db-migrate',
      namespace: 'team-a',
      holder: 'pod/worker-7',
      user: '',
      host: '',
      acquireTime: '2026-11-26T06:00:00Z', // its creationTimestamp: the library's Acquire is its create
      renewTime: '',
      leaseDurationSeconds: 0,
      expiresAt: '2026-11-26T06:29:50.000Z',
      status: 'Expired',
      reason: '',
      fence: '40',
      owner: 'pod/worker-7',
      labels: {},
      creationTimestamp: '2026-11-26T06:00:00Z',
      foreign: true,
    });
  });

  test('toLockView: a cmlock lock', () => {
    const view = toLockView(cmlock({ ownerPod: 'runner', fence: '33', reason: 'x' }), T);
    assert.equal(view.holder, 'bob@host2');
    assert.equal(view.user, 'bob');
    assert.equal(view.owner, 'pod/runner');
    assert.equal(view.fence, '33');
    assert.equal(view.leaseDurationSeconds, 1800);
    assert.equal(view.expiresAt, '2026-11-26T07:00:00.000Z');
    assert.equal(view.status, 'Held');
    assert.equal(view.foreign, false);
  });
});
