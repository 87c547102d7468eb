// The Go library's locks as cmlock reads them (src/lock/go-library.ts): expiresAt's edge values read as Go's
// strconv.ParseInt(text, 10, 64) reads them, the shape that tells a Go lock from other ConfigMaps, and a lock the
// library created already expired. Each expiresAt value is also checked through expiryOf, isExpired and the view,
// where the rest of cmlock meets it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bornExpired, goExpiresAtMs, isGoLock, looksLikeGoLock } from '../../../src/lock/go-library.ts';
import { expiryOf, isExpired, NEVER_EXPIRES_AT_SECONDS, toLockView } from '../../../src/lock/record.ts';
import { EARLIEST_RFC3339_MS } from '../../../src/lock/time.ts';
import type { StoredLock } from '../../../src/lock/store.ts';
import { cmlock, goLock, podOwner, SERVER_START_MS } from './fakes.ts';

const NOW = SERVER_START_MS;
const withExpiresAt = (expiresAt: string): StoredLock => ({ ...goLock(), data: { expiresAt } });

describe('expiresAt as the Go library reads it', () => {
  // [text, epoch ms as the library reads it (undefined: it cannot parse it, so it never breaks the lock), why]
  const cases: [string, number | undefined, string][] = [
    ['-5', -5000, 'a sign: 1969, long expired'],
    ['0', 0, 'the epoch: expired'],
    ['+5', 5000, "Go's ParseInt takes a plus sign too"],
    ['-0', 0, 'minus zero is zero'],
    ['007', 7000, 'leading zeros are decimal, not octal'],
    ['1795000000', 1795000000_000, 'an ordinary time'],
    ['', undefined, 'empty'],
    [' 5', undefined, 'no blanks'],
    ['5 ', undefined, 'no trailing blanks'],
    ['5.0', undefined, 'no fractions'],
    ['1e3', undefined, 'no exponents'],
    ['0x10', undefined, 'no hex (base 10 is given)'],
    ['1_000', undefined, 'no underscores (only base 0 allows them)'],
    ['soon', undefined, 'words'],
    [
      '9223372036854775807',
      Number(9223372036854775807n * 1000n),
      'int64 max parses: far past year 9999, never expires',
    ],
    ['9223372036854775808', undefined, 'past int64: a range error, held for ever'],
    ['99999999999999999999', undefined, 'far past int64'],
    ['-9223372036854775808', EARLIEST_RFC3339_MS, 'int64 min parses; clamped to year 0, an RFC 3339 time'],
    ['-9223372036854775809', undefined, 'below int64: held for ever, as the library holds it'],
  ];
  for (const [text, ms, why] of cases) {
    test(`${JSON.stringify(text)}: ${why}`, () => {
      assert.equal(goExpiresAtMs(text), ms);
      // Where the rest of cmlock meets it: no time, or one past year 9999, never expires.
      const expiry = ms === undefined || ms >= NEVER_EXPIRES_AT_SECONDS * 1000 ? undefined : ms;
      const lock = withExpiresAt(text);
      assert.equal(expiryOf(lock), expiry);
      assert.equal(isExpired(lock, NOW), expiry !== undefined);
      const view = toLockView(lock, NOW);
      assert.equal(view.status, expiry === undefined ? 'Held' : 'Expired');
      assert.equal(view.expiresAt, expiry === undefined ? '' : new Date(expiry).toISOString());
    });
  }

  test('no expiresAt at all: never expires by time (the library calls it stale; cmlock does not)', () => {
    assert.equal(goExpiresAtMs(undefined), undefined);
    assert.equal(expiryOf(goLock()), undefined);
  });
});

describe('the shape of a Go lock', () => {
  const go = goLock({ expiresAtSeconds: NOW / 1000 + 60 });
  const cases: [string, StoredLock, boolean, boolean][] = [
    ['as the library writes it', go, true, true],
    ['without expiresAt (timeout <= 0)', goLock(), true, true],
    ['with labels of the user (WithLabels)', { ...go, labels: { team: 'db' } }, true, true],
    ['data the library never writes', { ...go, data: { ...go.data, mode: 'fast' } }, true, false],
    ['a Pod owner that is not the controller', { ...go, ownerReferences: [podOwner('worker-7')] }, false, false],
    [
      'two owners',
      { ...go, ownerReferences: [...go.ownerReferences, { ...podOwner('other'), controller: false }] },
      false,
      false,
    ],
    ['no owner', { ...go, ownerReferences: [] }, false, false],
    [
      'a controller that is not a Pod',
      {
        ...go,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }],
      },
      false,
      false,
    ],
    ['managed by cmlock', { ...go, labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' } }, false, false],
    ['managed by anyone', { ...go, labels: { 'app.kubernetes.io/managed-by': 'Helm' } }, false, false],
    ["cmlock's own lock in a Pod", cmlock({ ownerPod: 'runner' }), false, false],
  ];
  for (const [name, lock, looks, is] of cases) {
    test(name, () => {
      assert.equal(looksLikeGoLock({ ...lock, data: {} }), looks, 'by its metadata');
      assert.equal(isGoLock(lock), is, 'with its data');
    });
  }
});

describe('born expired', () => {
  const created = Date.parse('2026-11-26T06:00:00Z');
  const view = (expiresAtSeconds: number | undefined) =>
    toLockView(goLock(expiresAtSeconds === undefined ? {} : { expiresAtSeconds }), NOW);
  test('expiresAt before the creation: born expired', () => assert.equal(bornExpired(view(created / 1000 - 11)), true));
  test('expiresAt at the creation second: not', () => assert.equal(bornExpired(view(created / 1000)), false));
  test('expiresAt after the creation (expired since): not', () =>
    assert.equal(bornExpired(view(created / 1000 + 60)), false));
  test('no expiresAt: not', () => assert.equal(bornExpired(view(undefined)), false));
  test("a cmlock lock never is (its lease runs from its own write's time)", () =>
    assert.equal(bornExpired(toLockView(cmlock({ renewMs: NOW - 3_600_000, ttlSeconds: 1 }), NOW)), false));
});
