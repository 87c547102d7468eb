// One-line human messages of acquire, renew, release and wait. Cluster strings are escaped.

import type { AcquireResult, LockView, WaitStatus } from '../lock/types.ts';
import { printable } from '../lock/text.ts';
import { humanDuration } from '../lock/duration.ts';
import { parseTime } from '../lock/time.ts';
import { formatClock, formatRelative } from './time.ts';

function expiry(lock: LockView, now: number): string {
  return lock.expiresAt === '' ? 'never expires' : `expires ${formatClock(lock.expiresAt, now)}`;
}

/** What `acquire` prints on stdout without -o. */
export function acquiredMessage(result: Pick<AcquireResult, 'lock' | 'outcome' | 'previous'>, now: number): string {
  const { lock } = result;
  const name = `"${lock.name}"`;
  switch (result.outcome) {
    case 'alreadyHeld': {
      const until =
        lock.expiresAt === '' ? 'it never expires' : `expiry extended to ${formatClock(lock.expiresAt, now)}`;
      return `lock ${name} already held by you; ${until}`;
    }
    case 'tookOver': {
      const from = result.previous?.holder ? ` from ${printable(result.previous.holder)}` : '';
      return `took over expired lock ${name}${from} (fence ${lock.fence}, ${expiry(lock, now)})`;
    }
    case 'acquired':
      return `acquired ${kind(lock)}lock ${name} in namespace "${lock.namespace}" (fence ${lock.fence}, ${expiry(lock, now)}${beside(lock)})`;
  }
}

/** "shared " for a shared hold, "" otherwise. */
function kind(lock: LockView): string {
  return lock.holders !== undefined && lock.limit === undefined && lock.holders.every((h) => h.shared) ? 'shared ' : '';
}

/** For a shared lock or semaphore: how many hold it now. */
function beside(lock: LockView): string {
  if (lock.holders === undefined) return '';
  const live = lock.holders.filter((h) => h.status === 'Held').length;
  return lock.limit === undefined ? `, ${live} holding` : `, ${live} of ${lock.limit} holding`;
}

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ... */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/**
 * The stderr warning of `acquire` after taking over a lock the Go library created already expired (its Acquire
 * waited past its timeout): the program that created it may still be working under it.
 */
export function bornExpiredWarning(previous: LockView): string {
  const holder = previous.holder === '' ? 'a Go program' : printable(previous.holder);
  return (
    `warning: lock "${previous.name}" was created already expired (the Go library's Acquire waited past its ` +
    `timeout); ${holder} may still think it holds it`
  );
}

/** What `renew` prints on stdout without -o. */
export function renewedMessage(lock: LockView, now: number): string {
  const until = lock.expiresAt === '' ? 'it never expires' : `expires ${formatClock(lock.expiresAt, now)}`;
  return `renewed lock "${lock.name}"; ${until}`;
}

/** The stderr warning of `release --force` naming whose lock was broken. */
export function forcedWarning(lock: LockView, now: number): string {
  const holder = lock.holder === '' ? 'an unknown holder' : printable(lock.holder);
  const since = lock.acquireTime === '' ? '' : ` since ${formatClock(lock.acquireTime, now)}`;
  const reason = lock.reason === '' ? '' : ` (reason: ${printable(lock.reason)})`;
  return `warning: broke lock "${lock.name}" held by ${holder}${since}${reason}`;
}

/**
 * The waiting status line: `waiting for lock "x": held by alice@h since 06:30:00Z (5m ago), expires in 24m;
 * 2nd in line of 5; waited 12s`. `now` is server time; `waitedMs` the local time spent waiting.
 */
export function waitStatusLine(status: WaitStatus, now: number, waitedMs: number): string {
  const parts = [`waiting for lock "${status.name}"`];
  let held = `held by ${status.holder === '' ? 'an unknown holder' : printable(status.holder)}`;
  if (parseTime(status.acquireTime) !== undefined) {
    held += ` since ${formatClock(status.acquireTime, now)} (${formatRelative(status.acquireTime, now)})`;
  }
  const expires = parseTime(status.expiresAt);
  if (status.expiresAt === '') held += ', never expires';
  else if (expires !== undefined) {
    held += expires > now ? `, expires in ${humanDuration(expires - now)}` : ', expired';
  }
  const place =
    status.position === undefined
      ? ''
      : `; ${ordinal(status.position)} in line of ${status.waiting ?? status.position}`;
  parts.push(`: ${held}${place}; waited ${humanDuration(waitedMs)}`);
  return parts.join('');
}
