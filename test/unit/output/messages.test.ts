import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acquiredMessage, forcedWarning, renewedMessage, waitStatusLine } from '../../../src/output/messages.ts';
import { HOSTILE_ROW, NOW, view } from './fixtures.ts';

describe('one-line messages', () => {
  it('acquired, already held, took over', () => {
    const lock = view();
    assert.equal(
      acquiredMessage({ lock, outcome: 'acquired' }, NOW),
      'acquired lock "db-migrate" in namespace "default" (fence 1234, expires 07:00:00Z)',
    );
    assert.equal(
      acquiredMessage({ lock, outcome: 'alreadyHeld' }, NOW),
      'lock "db-migrate" already held by you; expiry extended to 07:00:00Z',
    );
    assert.equal(
      acquiredMessage({ lock, outcome: 'tookOver', previous: view({ holder: 'bob@h2' }) }, NOW),
      'took over expired lock "db-migrate" from bob@h2 (fence 1234, expires 07:00:00Z)',
    );
    assert.equal(
      acquiredMessage({ lock: view({ expiresAt: '' }), outcome: 'acquired' }, NOW),
      'acquired lock "db-migrate" in namespace "default" (fence 1234, never expires)',
    );
    assert.equal(
      acquiredMessage({ lock: view({ expiresAt: '2026-11-27T06:00:00Z' }), outcome: 'acquired' }, NOW),
      'acquired lock "db-migrate" in namespace "default" (fence 1234, expires 2026-11-27T06:00:00Z)',
    );
  });

  it('renewed; forced release warning names whose lock was broken, escaped', () => {
    assert.equal(renewedMessage(view(), NOW), 'renewed lock "db-migrate"; expires 07:00:00Z');
    assert.equal(
      forcedWarning(view({ holder: HOSTILE_ROW }), NOW),
      'warning: broke lock "db-migrate" held by evil\\nNAME HOLDER since 06:30:00Z (reason: schema v42)',
    );
  });

  it('the waiting status line', () => {
    const status = {
      name: 'x',
      namespace: 'default',
      holder: 'alice@h',
      acquireTime: '2026-11-26T06:30:00Z',
      expiresAt: '2026-11-26T06:59:00Z',
      waitedMs: 12_000,
    };
    assert.equal(
      waitStatusLine(status, NOW, status.waitedMs),
      'waiting for lock "x": held by alice@h since 06:30:00Z (5m ago), expires in 24m; waited 12s',
    );
    assert.equal(
      waitStatusLine({ ...status, holder: '\u001b[2K', expiresAt: '', acquireTime: '' }, NOW, 1000),
      'waiting for lock "x": held by \\x1b[2K, never expires; waited 1s',
    );
  });
});
