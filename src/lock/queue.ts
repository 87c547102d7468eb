// Who holds a lock and who waits for it (issues 13 and 14), as data in the one lock ConfigMap, next to today's
// ten keys (record.ts): `waiters`, the queue in arrival order; `handoff`, while a release's offer to the head is
// unconfirmed; `holders` and `limit`, only for shared locks and semaphores. A plain lock with one exclusive
// holder and nobody waiting keeps exactly today's keys, so the Go library and older cmlock versions read it as
// before. Everything here is pure: the lock in, the data of the next write out. docs/queue-design.md says why
// the queue lives in the lock and what each rule is for.

import {
  DataKey,
  EXPIRY_ALLOWANCE_MS,
  expiresAtText,
  fenceOf,
  isExpired,
  laterThan,
  NEVER_EXPIRES_AT_SECONDS,
} from './record.ts';
import type { StoredLock } from './store.ts';
import { parseRfc3339, rfc3339 } from './time.ts';

/**
 * G: how long an offer's claim lasts, and how long a waiter waits for the waiter ahead of it to act before acting
 * itself (skipping it). Longer than a live head's reaction (one watch delivery and one write) on a loaded machine.
 */
export const CLAIM_MS = 2000;
/** A waiter's heartbeat period: at least this, and about one heartbeat per second on the lock for long queues. */
export const HEARTBEAT_MIN_MS = 30_000;
export const HEARTBEAT_PER_WAITER_MS = 1000;
/** A waiter that missed this many of its own heartbeat periods is gone (dropped by the next write). */
export const STALE_PERIODS = 3;
/** The most waiters one lock queues (every write sends the whole queue to every waiter), and the largest limit. */
export const MAX_WAITERS = 256;
export const MAX_LIMIT = 256;

/** Whether n is a limit a caller may ask for: a whole number from 1 (an ordinary lock) to MAX_LIMIT. */
export function isLimit(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_LIMIT;
}

/** One waiter, in `waiters`. */
export interface WaiterEntry {
  acquisitionId: string;
  identity: string;
  user: string;
  host: string;
  reason: string;
  /** The lease it asks for once it holds, in seconds (0 = never expires). */
  leaseDurationSeconds: number;
  /** RFC 3339, server clock: when it joined. */
  since: string;
  /** RFC 3339, server clock: its last heartbeat. */
  renewTime: string;
  /** Its heartbeat period, in seconds: it is gone after STALE_PERIODS of them. */
  heartbeatSeconds: number;
  shared?: true;
}

/** One holder: the top-level record's keys, or one entry of `holders`. */
export interface HolderEntry {
  identity: string;
  user: string;
  host: string;
  acquireTime: string;
  renewTime: string;
  /** Seconds; 0 = never expires. */
  leaseDurationSeconds: number;
  reason: string;
  acquisitionId: string;
  /** Written down by the first write after the one that admitted it (see stampFences). */
  fence?: string;
  shared?: true;
  /** Offered by a release, not confirmed yet: its lease is the claim. */
  handoff?: true;
}

/** What a caller asks for: an exclusive hold, a shared one, or one of `limit` slots of a semaphore. */
export interface Claim {
  shared: boolean;
  /** 1: exclusive (or shared); N > 1: a semaphore of N. */
  limit: number;
}

/** A lock's holders and waiters, as recorded (lapsed ones included). */
export interface Occupants {
  holders: HolderEntry[];
  waiters: WaiterEntry[];
  /** The stored limit; 1 when none is stored. */
  limit: number;
  /** `holders` carries them (shared or semaphore); otherwise the top-level keys are the one holder's. */
  multi: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

export function occupantsOf(lock: StoredLock): Occupants {
  const data = lock.data;
  const limit = limitOf(data);
  const listed = parseList(data[DataKey.holders], toHolder);
  const waiters = parseList(data[DataKey.waiters], toWaiter) ?? [];
  if (listed !== undefined) return { holders: listed, waiters, limit, multi: true };
  return { holders: [topHolder(lock)], waiters, limit, multi: false };
}

/** The stored limit: a decimal 2..MAX_LIMIT, else 1. */
export function limitOf(data: Record<string, string>): number {
  const text = data[DataKey.limit];
  if (text === undefined || !/^\d{1,3}$/.test(text)) return 1;
  const n = Number(text);
  return isLimit(n) ? n : 1;
}

/** The holder the ten top-level keys describe (for a Go library lock: a holder with no identity). */
function topHolder(lock: StoredLock): HolderEntry {
  const d = lock.data;
  const entry: HolderEntry = {
    identity: d[DataKey.holderIdentity] ?? '',
    user: d[DataKey.user] ?? '',
    host: d[DataKey.host] ?? '',
    acquireTime: d[DataKey.acquireTime] ?? '',
    renewTime: d[DataKey.renewTime] ?? '',
    leaseDurationSeconds: Number(d[DataKey.leaseDurationSeconds] ?? '0') || 0,
    reason: d[DataKey.reason] ?? '',
    acquisitionId: d[DataKey.acquisitionId] ?? '',
  };
  const fence = d[DataKey.fence];
  if (fence !== undefined && /^\d+$/.test(fence)) entry.fence = fence;
  if (d[DataKey.handoff] === 'offered') entry.handoff = true;
  return entry;
}

function parseList<T>(text: string | undefined, each: (value: unknown) => T | undefined): T[] | undefined {
  if (text === undefined) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  return list.map(each).filter((x): x is T => x !== undefined);
}

function field(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : '';
}

function seconds(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

function toWaiter(value: unknown): WaiterEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  const acquisitionId = field(o, 'acquisitionId');
  if (acquisitionId === '') return undefined;
  const w: WaiterEntry = {
    acquisitionId,
    identity: field(o, 'identity'),
    user: field(o, 'user'),
    host: field(o, 'host'),
    reason: field(o, 'reason'),
    leaseDurationSeconds: seconds(o, 'leaseDurationSeconds'),
    since: field(o, 'since'),
    renewTime: field(o, 'renewTime'),
    heartbeatSeconds: seconds(o, 'heartbeatSeconds') || HEARTBEAT_MIN_MS / 1000,
  };
  if (o.shared === true) w.shared = true;
  return w;
}

function toHolder(value: unknown): HolderEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  const acquisitionId = field(o, 'acquisitionId');
  if (acquisitionId === '') return undefined;
  const h: HolderEntry = {
    identity: field(o, 'identity'),
    user: field(o, 'user'),
    host: field(o, 'host'),
    acquireTime: field(o, 'acquireTime'),
    renewTime: field(o, 'renewTime'),
    leaseDurationSeconds: seconds(o, 'leaseDurationSeconds'),
    reason: field(o, 'reason'),
    acquisitionId,
  };
  const fence = field(o, 'fence');
  if (/^\d+$/.test(fence)) h.fence = fence;
  if (o.shared === true) h.shared = true;
  if (o.handoff === true) h.handoff = true;
  return h;
}

// ---------------------------------------------------------------------------------------------------------------
// Time: who is still there

/** When a holder entry's lease ends (server epoch ms); undefined = never. */
export function holderExpiry(h: HolderEntry): number | undefined {
  const renew = parseRfc3339(h.renewTime);
  if (renew === undefined || h.leaseDurationSeconds === 0) return undefined;
  const end = renew + h.leaseDurationSeconds * 1000;
  return end >= NEVER_EXPIRES_AT_SECONDS * 1000 ? undefined : end;
}

/**
 * The holders whose lease has not run out on the server's clock (past the allowance, as record.ts isExpired).
 * The one holder of a top-level record is judged by isExpired itself, which also reads Go library locks.
 */
export function liveHolders(lock: StoredLock, occ: Occupants, nowMs: number): HolderEntry[] {
  if (!occ.multi) return isExpired(lock, nowMs) ? [] : occ.holders;
  return occ.holders.filter((h) => {
    const end = holderExpiry(h);
    return end === undefined || nowMs <= end + EXPIRY_ALLOWANCE_MS;
  });
}

/** When a waiter counts as gone (server epoch ms): STALE_PERIODS of its heartbeat after its last one. */
export function waiterStaleAt(w: WaiterEntry): number {
  const seen = parseRfc3339(w.renewTime) ?? parseRfc3339(w.since) ?? 0;
  return seen + STALE_PERIODS * w.heartbeatSeconds * 1000 + EXPIRY_ALLOWANCE_MS;
}

/** The waiters still there, in order. `me` (an acquisition id) always counts: a waiter never drops itself. */
export function liveWaiters(occ: Occupants, nowMs: number, me?: string): WaiterEntry[] {
  return occ.waiters.filter((w) => w.acquisitionId === me || nowMs <= waiterStaleAt(w));
}

/** The heartbeat period for a queue of `length`: one write per second on the lock at most, in the long run. */
export function heartbeatPeriodMs(length: number): number {
  return Math.max(HEARTBEAT_MIN_MS, HEARTBEAT_PER_WAITER_MS * length);
}

/**
 * When a waiter's next heartbeat is due (server epoch ms): within the last quarter of its stated period, at a
 * point drawn from its id and last heartbeat, so that waiters who joined together do not write together.
 */
export function heartbeatDueAt(w: WaiterEntry): number {
  const last = parseRfc3339(w.renewTime) ?? 0;
  const periodMs = w.heartbeatSeconds * 1000;
  return last + periodMs - (periodMs / 4) * spread(`${w.acquisitionId}/${w.renewTime}`);
}

/** A number in [0, 1) from a text (FNV-1a): deterministic, so that decisions stay pure. */
function spread(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

// ---------------------------------------------------------------------------------------------------------------
// Admission: the one rule behind taking, handing over and skipping

/**
 * Whether a claim fits beside these (live) holders under the stored limit: a semaphore slot while fewer than
 * `limit` hold it; a shared hold while nobody holds it exclusively; an exclusive hold while nobody holds it.
 */
export function fits(
  claim: { readonly shared?: boolean },
  holders: readonly { readonly shared?: boolean }[],
  limit: number,
): boolean {
  if (limit > 1) return holders.length < limit;
  if (claim.shared === true) return holders.every((h) => h.shared === true);
  return holders.length === 0;
}

/**
 * Serves the queue in order: the waiters that fit, one after another, until the first that does not. Nobody
 * behind a waiter that does not fit is admitted, so a waiting writer is never overtaken by later readers.
 */
export function admit(
  holders: readonly HolderEntry[],
  queue: readonly WaiterEntry[],
  limit: number,
): { admitted: WaiterEntry[]; rest: WaiterEntry[] } {
  const taken: { shared?: boolean }[] = [...holders];
  let n = 0;
  for (const w of queue) {
    if (!fits(w, taken, limit)) break;
    taken.push(w);
    n++;
  }
  return { admitted: queue.slice(0, n), rest: queue.slice(n) };
}

// ---------------------------------------------------------------------------------------------------------------
// Building entries

/** The entry of a new waiter (its heartbeat stamped now). */
export function newWaiter(input: {
  acquisitionId: string;
  identity: string;
  user: string;
  host: string;
  reason: string;
  ttlMs: number;
  shared: boolean;
  stampMs: number;
  queueLength: number;
}): WaiterEntry {
  const now = rfc3339(input.stampMs);
  const w: WaiterEntry = {
    acquisitionId: input.acquisitionId,
    identity: input.identity,
    user: input.user,
    host: input.host,
    reason: input.reason,
    leaseDurationSeconds: Math.max(0, Math.round(input.ttlMs)) / 1000,
    since: now,
    renewTime: now,
    heartbeatSeconds: heartbeatPeriodMs(input.queueLength) / 1000,
  };
  if (input.shared) w.shared = true;
  return w;
}

/** A waiter's heartbeat: a new renewTime and the period it promises now. */
export function heartbeat(w: WaiterEntry, stampMs: number, queueLength: number): WaiterEntry {
  return { ...w, renewTime: rfc3339(stampMs), heartbeatSeconds: heartbeatPeriodMs(queueLength) / 1000 };
}

/** A holder entry for a waiter, from `stampMs` (server) for `leaseMs`; offered (a claim) unless confirmed. */
export function holderOf(w: WaiterEntry, stampMs: number, leaseMs?: number, offered = false): HolderEntry {
  const now = rfc3339(stampMs);
  const h: HolderEntry = {
    identity: w.identity,
    user: w.user,
    host: w.host,
    acquireTime: now,
    renewTime: now,
    leaseDurationSeconds: leaseMs === undefined ? w.leaseDurationSeconds : Math.max(0, Math.round(leaseMs)) / 1000,
    reason: w.reason,
    acquisitionId: w.acquisitionId,
  };
  if (w.shared === true) h.shared = true;
  if (offered) h.handoff = true;
  return h;
}

/** The offers a release writes: each admitted waiter named holder with the claim as its lease. */
export function offers(admitted: readonly WaiterEntry[], stampMs: number): HolderEntry[] {
  return admitted.map((w) => holderOf(w, stampMs, CLAIM_MS, true));
}

/** An offered holder confirms: its own lease from now, the marker gone, no fence (this write's is its token). */
export function confirmed(h: HolderEntry, stampMs: number, leaseMs: number): HolderEntry {
  const now = rfc3339(stampMs);
  const next: HolderEntry = {
    ...h,
    acquireTime: now,
    renewTime: now,
    leaseDurationSeconds: Math.max(0, Math.round(leaseMs)) / 1000,
  };
  delete next.handoff;
  delete next.fence;
  return next;
}

/** A holder renews: new renewTime (and lease); fence and acquisition kept. */
export function renewed(h: HolderEntry, stampMs: number, leaseMs?: number): HolderEntry {
  const lease = leaseMs === undefined ? h.leaseDurationSeconds : Math.max(0, Math.round(leaseMs)) / 1000;
  // Strictly after the stamp it replaces, as a plain lock's renewal (record.ts renewedRecord): a renewal whose
  // answer was lost is recognised by its renewTime.
  return { ...h, renewTime: rfc3339(laterThan(stampMs, parseRfc3339(h.renewTime))), leaseDurationSeconds: lease };
}

/**
 * Writes down the fencing token of the holder the replaced write admitted: its resourceVersion. Every write that
 * admits nobody does this, so each holder's token is the resourceVersion of the write that made it a holder
 * (record.ts fenceOf). Offers are not admissions: they get no fence until confirmed.
 */
export function stampFences(holders: readonly HolderEntry[], replacedResourceVersion: string): HolderEntry[] {
  return holders.map((h) =>
    h.fence !== undefined || h.handoff === true ? h : { ...h, fence: replacedResourceVersion },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

export interface Occupancy {
  holders: readonly HolderEntry[];
  waiters: readonly WaiterEntry[];
  limit: number;
}

/**
 * The data of a lock with these holders and waiters. `base` keeps keys this module does not own. One exclusive
 * holder and no limit: today's ten keys (plus `handoff` while offered, `waiters` while anyone waits), byte for
 * byte what record.ts writes. Otherwise `holders` is authoritative and the top-level keys summarise it for the Go
 * library and older cmlock versions: with one holder, its record; with more, "N holders", the earliest
 * acquireTime, the renewTime and lease of the one whose lease ends last, its expiresAt, the highest fence.
 */
export function recordWith(base: Record<string, string> | undefined, next: Occupancy): Record<string, string> {
  if (next.holders.length === 0) throw new Error('a lock record needs a holder');
  const data = without(base ?? {}, Object.values(DataKey));
  const multi = next.limit > 1 || next.holders.some((h) => h.shared === true);
  const [only] = next.holders;
  if (only !== undefined && next.holders.length === 1) Object.assign(data, topKeys(only));
  else Object.assign(data, summary(next.holders));
  if (multi) {
    data[DataKey.holders] = JSON.stringify(next.holders.map(holderJson));
    if (next.limit > 1) data[DataKey.limit] = String(next.limit);
  }
  return withWaiters(data, next.waiters);
}

/** `data` with `waiters` set to the queue, or without the key when nobody waits. */
export function withWaiters(data: Record<string, string>, waiters: readonly WaiterEntry[]): Record<string, string> {
  const out = without(data, [DataKey.waiters]);
  if (waiters.length > 0) out[DataKey.waiters] = JSON.stringify(waiters.map(waiterJson));
  return out;
}

/** A copy of `data` without these keys. */
export function without(data: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !keys.includes(key)));
}

/**
 * The data of a write that changes only the queue (join, heartbeat, leave): everything kept, the queue replaced,
 * and the fencing token of the holder the replaced write admitted written down (no token during an offer).
 */
export function withQueue(lock: StoredLock, waiters: readonly WaiterEntry[]): Record<string, string> {
  const occ = occupantsOf(lock);
  if (occ.multi) {
    const holders = stampFences(occ.holders, lock.resourceVersion);
    return recordWith(lock.data, { holders, waiters, limit: occ.limit });
  }
  const data = { ...lock.data };
  if (data[DataKey.handoff] === undefined) data[DataKey.fence] = fenceOf(lock);
  return withWaiters(data, waiters);
}

function topKeys(h: HolderEntry): Record<string, string> {
  const keys: Record<string, string> = {
    [DataKey.holderIdentity]: h.identity,
    [DataKey.user]: h.user,
    [DataKey.host]: h.host,
    [DataKey.acquireTime]: h.acquireTime,
    [DataKey.renewTime]: h.renewTime,
    [DataKey.leaseDurationSeconds]: String(h.leaseDurationSeconds),
    [DataKey.reason]: h.reason,
    [DataKey.acquisitionId]: h.acquisitionId,
    [DataKey.expiresAt]: expiresAtOf(h),
  };
  if (h.fence !== undefined) keys[DataKey.fence] = h.fence;
  if (h.handoff === true) keys[DataKey.handoff] = 'offered';
  return keys;
}

function expiresAtOf(h: HolderEntry): string {
  return expiresAtText(parseRfc3339(h.renewTime) ?? 0, h.leaseDurationSeconds * 1000);
}

/** The top-level keys of a lock with several holders (see recordWith). */
function summary(holders: readonly HolderEntry[]): Record<string, string> {
  const last = [...holders].sort((a, b) => endOf(b) - endOf(a))[0];
  const earliest = [...holders].map((h) => h.acquireTime).sort()[0] ?? '';
  const keys: Record<string, string> = {
    [DataKey.holderIdentity]: `${holders.length} holders`,
    [DataKey.user]: '',
    [DataKey.host]: '',
    [DataKey.acquireTime]: earliest,
    [DataKey.renewTime]: last?.renewTime ?? '',
    [DataKey.leaseDurationSeconds]: String(last?.leaseDurationSeconds ?? 0),
    [DataKey.reason]: '',
    [DataKey.acquisitionId]: '',
    [DataKey.expiresAt]: last === undefined ? String(NEVER_EXPIRES_AT_SECONDS) : expiresAtOf(last),
  };
  // The highest token, once every holder has one (until then the object's resourceVersion is the highest).
  if (holders.every((h) => h.fence !== undefined)) {
    keys[DataKey.fence] = holders
      .map((h) => BigInt(h.fence ?? '0'))
      .reduce((a, b) => (a > b ? a : b))
      .toString();
  }
  return keys;
}

function endOf(h: HolderEntry): number {
  return holderExpiry(h) ?? Infinity;
}

/** Key order as documented (JSON keeps insertion order). */
function holderJson(h: HolderEntry): HolderEntry {
  const out: HolderEntry = {
    identity: h.identity,
    user: h.user,
    host: h.host,
    acquireTime: h.acquireTime,
    renewTime: h.renewTime,
    leaseDurationSeconds: h.leaseDurationSeconds,
    reason: h.reason,
    acquisitionId: h.acquisitionId,
  };
  if (h.fence !== undefined) out.fence = h.fence;
  if (h.shared === true) out.shared = true;
  if (h.handoff === true) out.handoff = true;
  return out;
}

function waiterJson(w: WaiterEntry): WaiterEntry {
  const out: WaiterEntry = {
    acquisitionId: w.acquisitionId,
    identity: w.identity,
    user: w.user,
    host: w.host,
    reason: w.reason,
    leaseDurationSeconds: w.leaseDurationSeconds,
    since: w.since,
    renewTime: w.renewTime,
    heartbeatSeconds: w.heartbeatSeconds,
  };
  if (w.shared === true) out.shared = true;
  return out;
}

/** The fencing token of one holder: its own, else the resourceVersion of the write that admitted it (this one). */
export function holderFence(lock: StoredLock, h: HolderEntry): string {
  return h.fence ?? lock.resourceVersion;
}
