import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAge, formatClock, formatExpires, formatRelative, formatTimestamp } from '../../../src/output/time.ts';
import { NOW } from './fixtures.ts';

describe('relative times against the server clock', () => {
  it('EXPIRES: in, expired ago, never', () => {
    assert.equal(formatExpires('2026-11-26T07:04:00Z', NOW), 'in 29m');
    assert.equal(formatExpires('2026-11-26T06:32:00Z', NOW), 'expired 3m ago');
    assert.equal(formatExpires('', NOW), 'never');
    assert.equal(formatExpires('garbage', NOW), '<unknown>');
  });

  it('AGE and relative', () => {
    assert.equal(formatAge('2026-11-26T06:29:48Z', NOW), '5m12s');
    assert.equal(formatAge('', NOW), '<unknown>');
    assert.equal(formatRelative('2026-11-26T06:30:00Z', NOW), '5m ago');
    assert.equal(formatRelative('2026-11-26T06:59:00Z', NOW), 'in 24m');
    // Written a moment ago, read against a lower bound of the server's clock: now, not "in 0s".
    assert.equal(formatRelative(new Date(NOW + 600).toISOString(), NOW), '0s ago');
    assert.equal(formatRelative(new Date(NOW + 1000).toISOString(), NOW), 'in 1s');
  });

  it('timestamps: RFC 3339 to the second in UTC; the time of day alone when it is the same UTC day', () => {
    assert.equal(formatTimestamp('2026-11-26T06:30:00.123Z'), '2026-11-26T06:30:00Z');
    assert.equal(formatTimestamp('2026-11-26T07:30:00+01:00'), '2026-11-26T06:30:00Z');
    assert.equal(formatClock('2026-11-26T07:00:00Z', NOW), '07:00:00Z');
    assert.equal(formatClock('2026-11-27T07:00:00Z', NOW), '2026-11-27T07:00:00Z');
  });
});
