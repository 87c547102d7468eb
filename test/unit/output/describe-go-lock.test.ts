// A lock written by the Go library has an expiry (`expiresAt`) but no lease: describe must not call its lease
// "never expires" right above the time it expires.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDescribe } from '../../../src/output/describe.ts';
import { described, NOW } from './fixtures.ts';

describe('describe a Go library lock', () => {
  it('with an expiresAt: the lease is unknown, the expiry shown', () => {
    const text = renderDescribe(
      described({
        holder: 'pod/worker-7',
        user: '',
        host: '',
        acquireTime: '',
        renewTime: '',
        expiresAt: '2026-11-26T06:40:00.000Z',
        leaseDurationSeconds: 0,
        reason: '',
        owner: 'pod/worker-7',
        labels: {},
        foreign: true,
      }),
      NOW,
    );
    assert.match(text, /^Lease Duration: {2}<unknown>$/m);
    assert.match(text, /^Expires: {9}2026-11-26T06:40:00Z \(in 5m\)$/m);
    assert.doesNotMatch(text, /never/);
  });

  it('created already expired (expiresAt before its creation): called out', () => {
    const bornExpired = described({
      holder: 'pod/worker-7',
      acquireTime: '2026-11-26T06:30:00Z',
      creationTimestamp: '2026-11-26T06:30:00Z',
      expiresAt: '2026-11-26T06:29:49.000Z',
      status: 'Expired',
      leaseDurationSeconds: 0,
      foreign: true,
    });
    const text = renderDescribe(bornExpired, NOW);
    assert.match(text, /^Acquired: {8}2026-11-26T06:30:00Z \(5m ago\)$/m);
    assert.match(
      text,
      /^Warning: {9}expired before it was created: the Go program that took it may still think it holds it$/m,
    );
    const expiredLater = renderDescribe({ ...bornExpired, expiresAt: '2026-11-26T06:31:00.000Z' }, NOW);
    assert.doesNotMatch(expiredLater, /Warning/);
  });
});
