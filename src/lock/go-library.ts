// The Go lock library's side of interop, as cmlock reads it: what a lock it wrote looks like (it writes no label of
// its own, so only its shape tells it apart from other ConfigMaps), how it reads `expiresAt`, and the lock it can
// leave behind already expired. Facts from running the library (issue 12), never its code (GPL-3.0).

import { MANAGED_BY_KEY } from './names.ts';
import type { StoredLock } from './store.ts';
import { EARLIEST_RFC3339_MS, parseTime } from './time.ts';
import type { LockView } from './types.ts';

/** The one data key the library writes and reads: Unix seconds, decimal. cmlock writes it for the library. */
export const GO_EXPIRES_AT_KEY = 'expiresAt';

/**
 * A Go lock by its metadata alone (what a metadata-only list shows): no managed-by label, and exactly one owner,
 * a Pod as controller, which is how the library ties its lock to the Pod that took it.
 */
export function looksLikeGoLock(lock: StoredLock): boolean {
  if (lock.labels[MANAGED_BY_KEY] !== undefined || lock.ownerReferences.length !== 1) return false;
  const [owner] = lock.ownerReferences;
  return owner?.apiVersion === 'v1' && owner.kind === 'Pod' && owner.controller === true;
}

/** A Go lock with its data: the library writes `expiresAt` or nothing, never another key. */
export function isGoLock(lock: StoredLock): boolean {
  return looksLikeGoLock(lock) && Object.keys(lock.data).every((key) => key === GO_EXPIRES_AT_KEY);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * `expiresAt` as the library reads it, in epoch ms: Go's strconv.ParseInt(text, 10, 64) takes an optional sign
 * and decimal digits within int64, so "-5" (1969) and "+5" are times, and long past; anything else (blanks,
 * fractions, out of int64's range) does not parse, and the library then never breaks the lock. Times before
 * year 0 are clamped to it, so that every expiry is an RFC 3339 time.
 */
export function goExpiresAtMs(text: string | undefined): number | undefined {
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return undefined;
  const seconds = BigInt(text);
  if (seconds < INT64_MIN || seconds > INT64_MAX) return undefined;
  return Math.max(Number(seconds) * 1000, EARLIEST_RFC3339_MS);
}

/**
 * Created already expired: the library counts the lease from when its Acquire *started*, so an Acquire that
 * waited longer than its timeout creates a lock whose expiresAt is before its creation. The Go program that
 * created it believes it holds it; the library's own waiters break it at once.
 */
export function bornExpired(lock: LockView): boolean {
  if (!lock.foreign) return false;
  const expires = parseTime(lock.expiresAt);
  const created = parseTime(lock.creationTimestamp);
  return expires !== undefined && created !== undefined && expires < created;
}
