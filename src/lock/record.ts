// The holder record: the ConfigMap data of a lock, to and from what users see. Field names follow client-go's
// LeaderElectionRecord. Nothing here talks to the cluster or reads a clock; server time is passed in.

import { GO_EXPIRES_AT_KEY, goExpiresAtMs } from './go-library.ts';
import { DATE_RESOLUTION_MS } from './server-clock.ts';
import type { Holder, LockView } from './types.ts';
import type { StoredLock } from './store.ts';
import { parseRfc3339, rfc3339 } from './time.ts';

export const DataKey = {
  holderIdentity: 'holderIdentity',
  user: 'user',
  host: 'host',
  /** RFC 3339 with milliseconds, server clock. */
  acquireTime: 'acquireTime',
  renewTime: 'renewTime',
  /** Decimal seconds; "0" = never expires. */
  leaseDurationSeconds: 'leaseDurationSeconds',
  reason: 'reason',
  /** Random, 128-bit hex, new per acquisition: how a lost write response is recognised as ours. */
  acquisitionId: 'acquisitionId',
  /** The fencing token, written by every write after the acquiring one (see fenceOf). */
  fence: 'fence',
  /** Unix seconds, rounded up: what the Go lock library reads. */
  expiresAt: GO_EXPIRES_AT_KEY,
  // The queue, shared locks and semaphores (queue.ts); absent from a plain lock nobody waits for.
  /** JSON array of waiters, in arrival order; only while someone waits. */
  waiters: 'waiters',
  /** "offered": a release named the head of the queue holder, and it has not confirmed yet. */
  handoff: 'handoff',
  /** JSON array of holders; only for shared locks and semaphores (the top-level keys then summarise it). */
  holders: 'holders',
  /** Decimal: how many may hold a semaphore at once; absent means one. */
  limit: 'limit',
} as const;

/** 9999-12-31T23:59:59Z: expiresAt of a lock that never expires (the Go library treats a missing one as stale). */
export const NEVER_EXPIRES_AT_SECONDS = 253402300799;
const NEVER_MS = NEVER_EXPIRES_AT_SECONDS * 1000;

/**
 * A lock is expired only once the server's clock is past its expiry by more than this. It covers the whole
 * second the Date header drops (see ServerClock.stamp), so takeover never comes before the holder's lease ends.
 */
export const EXPIRY_ALLOWANCE_MS = 1000;

// Web Crypto is a global: loading node:crypto here would cost every command ~8 ms of start-up (measured by
// the packaging work), help output included, for one 128-bit id.
export function newAcquisitionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
}

export interface RecordInput {
  holder: Holder;
  /** Server time of the write (ServerClock.stamp()). */
  nowMs: number;
  /** 0 = never expires. */
  ttlMs: number;
  reason: string;
  acquisitionId: string;
}

/** The data of a new acquisition (create or takeover). No fence: the write's resourceVersion becomes the fence. */
export function freshRecord(input: RecordInput): Record<string, string> {
  const now = rfc3339(input.nowMs);
  return {
    [DataKey.holderIdentity]: input.holder.identity,
    [DataKey.user]: input.holder.user ?? '',
    [DataKey.host]: input.holder.host,
    [DataKey.acquireTime]: now,
    [DataKey.renewTime]: now,
    [DataKey.leaseDurationSeconds]: leaseText(input.ttlMs),
    [DataKey.reason]: input.reason,
    [DataKey.acquisitionId]: input.acquisitionId,
    [DataKey.expiresAt]: expiresAtText(input.nowMs, input.ttlMs),
  };
}

/**
 * The data of a later write by the same acquisition (renew, or acquire again by the holder): new renewTime and
 * expiresAt, optionally a new lease and reason; acquisitionId and acquireTime kept; fence written down.
 */
export function renewedRecord(
  lock: StoredLock,
  change: { nowMs: number; ttlMs?: number; reason?: string },
): Record<string, string> {
  const ttlMs = change.ttlMs ?? leaseMsOf(lock.data) ?? 0;
  const nowMs = laterThan(change.nowMs, parseRfc3339(lock.data[DataKey.renewTime]));
  const data: Record<string, string> = {
    ...lock.data,
    [DataKey.renewTime]: rfc3339(nowMs),
    [DataKey.leaseDurationSeconds]: leaseText(ttlMs),
    [DataKey.expiresAt]: expiresAtText(nowMs, ttlMs),
    [DataKey.fence]: fenceOf(lock),
  };
  if (change.reason !== undefined) data[DataKey.reason] = change.reason;
  return data;
}

/**
 * A renewal's stamp, always after the one it replaces: two stamps are each within a Date resolution of the
 * server's time (ServerClock.stamp), so a renewal soon after a write could come out up to a second earlier; it
 * then takes the earlier stamp plus 1 ms, still at most a round trip ahead of the server. Strictly later, so that
 * a renewal whose answer was lost is recognised by its renewTime (protocol.ts decideRenew). A previous stamp
 * further ahead than that was not ours to trust (hand-edited): the clock's stamp wins.
 */
export function laterThan(nowMs: number, previousMs: number | undefined): number {
  const behind = previousMs === undefined ? -1 : previousMs - nowMs;
  return previousMs !== undefined && behind >= 0 && behind <= DATE_RESOLUTION_MS ? previousMs + 1 : nowMs;
}

function leaseText(ttlMs: number): string {
  return String(Math.max(0, Math.round(ttlMs)) / 1000);
}

export function expiresAtText(nowMs: number, ttlMs: number): string {
  if (ttlMs <= 0) return String(NEVER_EXPIRES_AT_SECONDS);
  return String(Math.min(NEVER_EXPIRES_AT_SECONDS, Math.ceil((nowMs + ttlMs) / 1000)));
}

function leaseMsOf(data: Record<string, string>): number | undefined {
  const text = data[DataKey.leaseDurationSeconds];
  return text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : undefined;
}

/**
 * When the lock expires, in server epoch ms; undefined = never. Our record: renewTime + lease (lease 0 = never).
 * Otherwise expiresAt (the Go library's key), read as the library reads it (goExpiresAtMs). A lock with neither,
 * or with an expiresAt the library cannot parse, never expires by time: the Go library treats a missing expiresAt
 * as stale, which lets anyone break a lock whose holder meant it to last.
 */
export function expiryOf(lock: StoredLock): number | undefined {
  const renewMs = parseRfc3339(lock.data[DataKey.renewTime]);
  const leaseMs = leaseMsOf(lock.data);
  if (renewMs !== undefined && leaseMs !== undefined) {
    return leaseMs === 0 || renewMs + leaseMs >= NEVER_MS ? undefined : renewMs + leaseMs;
  }
  const ms = goExpiresAtMs(lock.data[DataKey.expiresAt]);
  return ms === undefined || ms >= NEVER_MS ? undefined : ms;
}

/** Expired on the server's clock (a lower bound, so never early), past the allowance for the Date header. */
export function isExpired(lock: StoredLock, serverNowMs: number): boolean {
  const expiry = expiryOf(lock);
  return expiry !== undefined && serverNowMs > expiry + EXPIRY_ALLOWANCE_MS;
}

/**
 * The fencing token: the resourceVersion of the acquiring write. That write cannot carry its own
 * resourceVersion, so every later write of the same acquisition copies it into data.fence; until then the
 * object is unchanged since acquisition and its resourceVersion is the token. A takeover writes no fence.
 */
export function fenceOf(lock: StoredLock): string {
  const fence = lock.data[DataKey.fence];
  return fence !== undefined && /^\d+$/.test(fence) ? fence : lock.resourceVersion;
}

/** Orders fences numerically (resourceVersions are decimal etcd revisions, longer than a double holds). */
export function compareFences(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `pod/NAME` when a Pod owns the lock (the garbage collector frees it when the Pod goes), else ''. */
function ownerOf(lock: StoredLock): string {
  const pod = lock.ownerReferences.find((ref) => ref.kind === 'Pod');
  return pod === undefined ? '' : `pod/${pod.name}`;
}

/** True when the ConfigMap carries no cmlock record (a lock written by the Go library). */
function isForeign(lock: StoredLock): boolean {
  return lock.data[DataKey.holderIdentity] === undefined;
}

/** Same lock and same acquisition (a renewal changes neither; a takeover or re-creation does). */
export function sameAcquisition(a: StoredLock, b: StoredLock): boolean {
  return a.uid === b.uid && a.data[DataKey.acquisitionId] === b.data[DataKey.acquisitionId];
}

/** What users see of a lock, with its status judged at serverNowMs (ServerClock.now()). */
export function toLockView(lock: StoredLock, serverNowMs: number): LockView {
  const data = lock.data;
  const expiry = expiryOf(lock);
  const foreign = isForeign(lock);
  return {
    name: lock.name,
    namespace: lock.namespace,
    holder: data[DataKey.holderIdentity] ?? ownerOf(lock),
    user: data[DataKey.user] ?? '',
    host: data[DataKey.host] ?? '',
    // The Go library's Acquire is its create: the server's creationTimestamp is when it was taken.
    acquireTime: data[DataKey.acquireTime] ?? (foreign ? (lock.creationTimestamp ?? '') : ''),
    renewTime: data[DataKey.renewTime] ?? '',
    leaseDurationSeconds: (leaseMsOf(data) ?? 0) / 1000,
    expiresAt: expiry === undefined ? '' : rfc3339(expiry),
    status: isExpired(lock, serverNowMs) ? 'Expired' : 'Held',
    reason: data[DataKey.reason] ?? '',
    fence: fenceOf(lock),
    owner: ownerOf(lock),
    labels: { ...lock.labels },
    creationTimestamp: lock.creationTimestamp ?? '',
    foreign,
  };
}

/** The order locks are listed in: by namespace, then name. */
export function compareLocks(a: StoredLock, b: StoredLock): number {
  return compareText(a.namespace, b.namespace) || compareText(a.name, b.name);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
