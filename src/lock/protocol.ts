// The lock protocol over a LockStore, modelled on client-go's tryAcquireOrRenew. Acquire = create; an expired
// lock is taken over by an update that carries the resourceVersion read; renew = update with the resourceVersion;
// release = delete with uid and resourceVersion preconditions. Each operation is a pure decision (decideAcquire,
// decideRenew, decideRelease: the lock as seen -> what to write, or done, refused, wait) and one shared loop,
// resolve(), that sends the write and, when it is refused (someone else wrote first) or its answer is lost,
// reads the lock back and decides again. A lost answer is resolved by reading back, never by a blind retry.
//
// Waiting is a queue in the lock itself (queue.ts, docs/queue-design.md): a waiter joins it with a write and
// stays in it with heartbeats ('queue' writes: the call goes on after them); a release with waiters hands the
// lock to the first in line with one write (an offer), which that waiter confirms with one write of its own;
// only the first in line acts, the others wait quietly, and one that does not act in time is skipped by the next.

import type { CmlockError } from '../errors.ts';
import { Backoff, type BackoffPolicy } from './backoff.ts';
import {
  ChooseHolderError,
  LimitMismatchError,
  LockHeldError,
  LockMissingError,
  NotYourLockError,
  QueueFullError,
} from './errors.ts';
import { recordAcquisition, recordForcedRelease, recordRelease } from './events.ts';
import { LockFollower, type Verdict } from './follow.ts';
import { listLocks } from './listing.ts';
import { lockLabels, validateLockName } from './names.ts';
import { Operation, PROTOCOL_BACKOFF } from './operation.ts';
import { ownersKept, selfOwner } from './owners.ts';
import {
  admit,
  CLAIM_MS,
  confirmed,
  fits,
  heartbeat,
  heartbeatDueAt,
  holderExpiry,
  liveHolders,
  liveWaiters,
  MAX_WAITERS,
  newWaiter,
  occupantsOf,
  offers,
  recordWith,
  renewed,
  stampFences,
  withQueue,
  withWaiters,
  without,
  type Claim,
  type HolderEntry,
  type Occupants,
  type WaiterEntry,
} from './queue.ts';
import {
  DataKey,
  EXPIRY_ALLOWANCE_MS,
  expiresAtText,
  expiryOf,
  freshRecord,
  newAcquisitionId,
  renewedRecord,
  sameAcquisition,
} from './record.ts';
import { NoServerTimeError } from './server-clock.ts';
import {
  AlreadyExistsError,
  AmbiguousWriteError,
  ConflictError,
  StoreNotFoundError,
  type LockWrite,
  type OwnerReference,
  type StoredLock,
} from './store.ts';
import type {
  AcquireOptions,
  AcquireOutcome,
  AcquireResult,
  DescribedLock,
  Holder,
  LockContext,
  LockView,
  ReleaseOptions,
  ReleaseResult,
  RenewedLock,
  RenewFromOptions,
  RenewOptions,
} from './types.ts';
import { lockView } from './view.ts';

/** How long cleanup after Ctrl-C or a timeout may take (leaving the queue, or giving back a lock just taken). */
const CLEANUP_BUDGET_MS = 1000;

/** After a refused write of a waiter (a join that lost the race to another): short pauses, the watch brings the rest. */
const QUEUE_BACKOFF: BackoffPolicy = { initialMs: 50, maxMs: 1000 };
/** How long a waiter whose write was refused waits for the watch to bring the write that beat it, before reading. */
const NEWER_STATE_MS = 1000;

// ---------------------------------------------------------------------------------------------------------------
// The write-then-resolve loop

/** A conditional write: a create, an update carrying the resourceVersion read, a delete with preconditions. */
export type Write =
  | { readonly kind: 'create'; readonly lock: LockWrite }
  | { readonly kind: 'update'; readonly lock: LockWrite; readonly resourceVersion: string }
  | {
      readonly kind: 'delete';
      readonly name: string;
      readonly preconditions: { readonly uid: string; readonly resourceVersion: string };
    };

/** A write as it was sent. `M` is what the decision wants to know of it later (e.g. acquire's outcome). */
export interface Sent<M> {
  readonly write: Write;
  readonly meta: M;
  /** The lock it was decided on (undefined: a create of a lock not there). */
  readonly base: StoredLock | undefined;
  /** Local monotonic time just before it was stamped and sent: a lease written by it runs from here. */
  readonly sentMono: number;
}

/** A write that did not take effect, as far as we know. */
export interface Failed<M> extends Sent<M> {
  /** Its answer was lost: it may have taken effect after all. Otherwise it was refused. */
  readonly ambiguous: boolean;
}

/** Everything a decision is made on. Decisions are pure: the same Seen gives the same Action. */
export interface Seen<M> {
  /** The lock as last read or written; undefined when it is not there (or, before acquire's first write, not known to be). */
  readonly lock: StoredLock | undefined;
  /** Our last write, when it was refused or its answer lost (the lock has been read again since). */
  readonly failed: Failed<M> | undefined;
  /** The server's time now (ServerClock.now(): a lower bound, -Infinity while unknown). */
  readonly nowMs: number;
  /** The server time a record written now carries (ServerClock.stamp()); undefined while unknown. */
  readonly stampMs: number | undefined;
  /** Local monotonic time now (the clock timers run on); 0 where a decision does not look at time. */
  readonly mono?: number;
  /** While the lock is gone: how it was when it was deleted (its queue, for the waiters to rebuild in order). */
  readonly gone?: StoredLock | undefined;
}

export type Action<M> =
  /** The lock is as this call wants it: nothing (more) to write. */
  | { readonly do: 'done' }
  /** This call cannot have it: held by someone else, not ours, not there. */
  | { readonly do: 'fail'; readonly error: CmlockError }
  /** Wait until the lock changes, goes or expires, or until `at` (local monotonic ms), then decide again. */
  | { readonly do: 'wait'; readonly at?: number }
  /** Send this write; `claims`: it carries this call's acquisition id (a cancellation must look for it). */
  | { readonly do: 'write'; readonly write: Write; readonly meta: M; readonly claims?: boolean }
  /** A waiter's own write (join, heartbeat, leave): send it, then decide again on what it left. */
  | { readonly do: 'queue'; readonly write: Write };

/** When to stop resolving: at the Nth write of a kind that did not take effect, its error is reported. */
interface Limits {
  readonly ambiguous?: number;
  readonly conflicts?: number;
  readonly failures?: number;
}

interface Plan<M> {
  readonly name: string;
  decide(seen: Seen<M>): Action<M>;
  readonly limits: Limits;
  /** The pauses after a refused write of a waiter ('queue'); others pause by PROTOCOL_BACKOFF. */
  readonly refusals?: BackoffPolicy;
}

/** How resolve() ended: the lock as the last write left it or as last read, and the write that made it so. */
interface Resolved<M> {
  readonly lock: StoredLock | undefined;
  readonly by: Sent<M> | undefined;
}

/** Shared with the caller while resolve() runs. */
interface Progress {
  /** A write carrying this call's acquisition id may have taken effect unseen. */
  claimed: boolean;
  /** A write put (or may have put) this call in the queue. */
  queued: boolean;
}

/**
 * The one write-then-resolve path of acquire, renew and release. `first` is the lock as the caller last saw it
 * (read, written, or assumed absent). `follower`: a plan that may wait (acquire) follows the lock with one watch,
 * opened at its first wait or queue write; a refused write of a waiter is then decided again on the state the watch
 * brings, without a read.
 */
async function resolve<M>(
  op: Operation,
  plan: Plan<M>,
  first: StoredLock | undefined,
  progress: Progress = { claimed: false, queued: false },
  follower?: LockFollower,
): Promise<Resolved<M>> {
  const backoff = new Backoff(PROTOCOL_BACKOFF, () => op.clock.random());
  const refusals = new Backoff(plan.refusals ?? PROTOCOL_BACKOFF, () => op.clock.random());
  const count = { ambiguous: 0, conflicts: 0, failures: 0, refusedSinceWait: 0 };
  let lock = first;
  let failed: Failed<M> | undefined;
  const seen = (current: StoredLock | undefined): Seen<M> => ({
    lock: current,
    failed,
    nowMs: op.serverClock.now(),
    stampMs: op.serverClock.known() ? op.serverClock.stamp() : undefined,
    mono: op.clock.now(),
    gone: current === undefined ? follower?.gone : undefined,
  });
  for (;;) {
    // 1. Decide on the lock as last seen.
    const sentMono = op.clock.now(); // before the record is stamped and sent: the lease runs from here
    const action = plan.decide(seen(lock));
    // 2. Nothing to write: the lock is as we want it (perhaps by a write whose answer was lost).
    if (action.do === 'done') return { lock, by: failed };
    // 3. Refused for good: held by someone else (try once), not ours, not there.
    if (action.do === 'fail') throw action.error;
    // 4. Wait for a change, a deletion, or the moment the decision names (a lease that runs out, a waiter ahead
    //    that did not act): one watch and a timer, no polling. Then decide again.
    if (action.do === 'wait') {
      if (follower === undefined) throw new Error(`${plan.name}: a decision to wait, not here`);
      follower.start(lock);
      lock = await follower.next((changed) => verdictOf(plan.decide(seen(changed))));
      count.refusedSinceWait = 0;
      continue;
    }
    // 5. Write. Taking effect ends the call, unless it is a waiter's own write (join, heartbeat, leave).
    const queued = action.do === 'queue';
    if (queued) {
      follower?.start(lock);
      progress.queued = true;
    }
    const meta = queued ? undefined : action.meta;
    if (!queued && action.claims === true) progress.claimed = true;
    const result = await send(op, action.write);
    if (result.done && meta === undefined) {
      failed = undefined;
      lock = result.value;
      if (lock !== undefined) follower?.saw(lock);
      continue;
    }
    const sent: Sent<M> | undefined =
      meta === undefined ? undefined : { write: action.write, meta, base: lock, sentMono };
    if (result.done) return { lock: result.value, by: sent };
    // 6. Refused (AlreadyExists, Conflict, NotFound: someone else wrote first) or the answer lost (we cannot
    //    tell). Give up at the plan's limit; else read the lock back and decide again from 1, a later write
    //    carrying a fresh precondition. A pause first after a lost answer, or after the second refusal since
    //    waiting (a lock that churns, or a store that disagrees with itself), so this never becomes a tight loop.
    //    A waiter takes the state that beat it from its watch rather than reading it.
    count.failures++;
    if (result.ambiguous) count.ambiguous++;
    else count.refusedSinceWait++;
    if (result.error instanceof ConflictError) count.conflicts++;
    if (reached(plan.limits, count)) throw result.error;
    if (!result.ambiguous) progress.claimed = count.ambiguous > 0; // refused: this write took nothing
    if (result.ambiguous) await op.pause(backoff.next());
    else if (count.refusedSinceWait > 1) await op.pause(queued ? refusals.next() : backoff.next());
    failed = sent === undefined ? undefined : { ...sent, ambiguous: result.ambiguous };
    if (follower?.started === true && !result.ambiguous && lock !== undefined) {
      lock = await follower.newerThan(lock.resourceVersion, NEWER_STATE_MS);
    } else {
      lock = await op.get(plan.name);
      if (lock !== undefined) follower?.saw(lock);
    }
  }
}

function verdictOf<M>(action: Action<M>): Verdict {
  return action.do === 'wait'
    ? action.at === undefined
      ? { wake: false }
      : { wake: false, at: action.at }
    : { wake: true };
}

function reached(limits: Limits, count: { ambiguous: number; conflicts: number; failures: number }): boolean {
  return (
    count.ambiguous >= (limits.ambiguous ?? Infinity) ||
    count.conflicts >= (limits.conflicts ?? Infinity) ||
    count.failures >= (limits.failures ?? Infinity)
  );
}

type SendResult =
  { done: true; value: StoredLock | undefined } | { done: false; ambiguous: boolean; error: CmlockError };

/** Sends one write. Throws what the protocol does not decide on (403, network, cancellation). */
async function send(op: Operation, write: Write): Promise<SendResult> {
  try {
    switch (write.kind) {
      case 'create':
        return { done: true, value: await op.request((o) => op.store.create(write.lock, o)) };
      case 'update':
        return { done: true, value: await op.request((o) => op.store.update(write.lock, write.resourceVersion, o)) };
      case 'delete':
        await op.request((o) => op.store.delete(write.name, write.preconditions, o));
        return { done: true, value: undefined };
    }
  } catch (error) {
    if (error instanceof AmbiguousWriteError) return { done: false, ambiguous: true, error };
    if (error instanceof AlreadyExistsError || error instanceof ConflictError || error instanceof StoreNotFoundError) {
      return { done: false, ambiguous: false, error };
    }
    throw error;
  }
}

function heldBy(lock: StoredLock, holder: Holder): boolean {
  return lock.data[DataKey.holderIdentity] === holder.identity;
}

/**
 * The same object, rewritten: its labels and owner kept (or the lock as its own, when an older cmlock wrote it
 * without one, or `self`: an offer, whose holder's Pod is not known yet).
 */
function rewrite(lock: StoredLock, data: Record<string, string>, self = false): Write {
  const ownerReferences = self ? [selfOwner(lock)] : ownersKept(lock);
  const write: LockWrite = { name: lock.name, labels: { ...lock.labels }, ownerReferences, data };
  return { kind: 'update', lock: write, resourceVersion: lock.resourceVersion };
}

function deleteExactly(lock: StoredLock): Write {
  return { kind: 'delete', name: lock.name, preconditions: { uid: lock.uid, resourceVersion: lock.resourceVersion } };
}

/** A server time (epoch ms) as a local monotonic instant, given both clocks now; undefined while unknown. */
function monoAt(serverMs: number | undefined, seen: { nowMs: number; mono?: number }): number | undefined {
  if (serverMs === undefined || !Number.isFinite(serverMs) || !Number.isFinite(seen.nowMs)) return undefined;
  return (seen.mono ?? 0) + Math.max(0, serverMs - seen.nowMs);
}

// ---------------------------------------------------------------------------------------------------------------
// acquire

export interface AcquireMeta {
  readonly outcome: AcquireOutcome;
  /** For a takeover: the expired lock it replaced. */
  readonly previous?: StoredLock;
}

/** Limits: lost answers only; refusals mean someone else wrote first, and acquire waits or decides again. */
const ACQUIRE_LIMITS: Limits = { ambiguous: 8 };

export interface AcquireIntent {
  readonly opts: AcquireOptions;
  readonly holder: Holder;
  readonly acquisitionId: string;
}

/** What a waiter has seen that no single state says: since when someone in line should have acted. */
export interface QueueSeen {
  /** Local monotonic time this waiter first saw the current situation (see situationOf). */
  readonly since?: number;
}

function claimOf(opts: AcquireOptions): Claim {
  return { shared: opts.shared === true, limit: opts.limit ?? 1 };
}

/** Where this waiter stands: the lock's holders and queue as they count now. */
interface Standing {
  readonly occ: Occupants;
  /** Holders whose lease has not run out (offers included, with their claim). */
  readonly live: HolderEntry[];
  /** The live queue, in order, this waiter included. */
  readonly queue: WaiterEntry[];
  /** This waiter's index in it; -1 when not in it. */
  readonly index: number;
  /** Offers to others not confirmed yet (within their claim or past it: the skip rule deals with them). */
  readonly offered: HolderEntry[];
  /**
   * When this waiter may take the lock without an offer (a lease ran out, a slot came free, nobody handed it on):
   * 0 if it is among the waiters at the front that fit now; k claims (its index) if it fits but those ahead of it
   * should have acted first; undefined if it must wait.
   */
  readonly takeAfterClaims: number | undefined;
}

function standing(lock: StoredLock, nowMs: number, me: string): Standing {
  const occ = occupantsOf(lock);
  const live = liveHolders(lock, occ, nowMs);
  const queue = liveWaiters(occ, nowMs, me);
  const index = queue.findIndex((w) => w.acquisitionId === me);
  const offered = occ.holders.filter((h) => h.handoff === true && h.acquisitionId !== me);
  let takeAfterClaims: number | undefined;
  const mine = queue[index];
  if (mine !== undefined && offered.length === 0) {
    const front = admit(live, queue, occ.limit).admitted.length;
    if (index < front) takeAfterClaims = 0;
    else if (front > 0 && fits(mine, live, occ.limit)) takeAfterClaims = index;
  }
  return { occ, live, queue, index, offered, takeAfterClaims };
}

/**
 * The situation in which someone in line should act, as a key that stays the same while it lasts (joins and
 * heartbeats of others do not change it): an offer nobody confirmed, a front of the queue that fits (a lease ran
 * out, a slot came free), a lock deleted with its queue. The waiter's timers run from when it first saw it.
 */
export function situationOf(intent: AcquireIntent, seen: Seen<AcquireMeta>): string | undefined {
  const me = intent.acquisitionId;
  if (seen.lock === undefined) return seen.gone === undefined ? undefined : `gone:${seen.gone.uid}`;
  const s = standing(seen.lock, seen.nowMs, me);
  if (s.index < 0) return undefined;
  if (s.offered.length > 0) return `offer:${seen.lock.uid}:${s.offered.map((h) => h.acquisitionId).join(',')}`;
  if (s.takeAfterClaims !== undefined) return `free:${seen.lock.uid}:${s.live.map((h) => h.acquisitionId).join(',')}`;
  return undefined;
}

export function decideAcquire(intent: AcquireIntent, seen: Seen<AcquireMeta> & QueueSeen): Action<AcquireMeta> {
  const { opts, holder, acquisitionId: me } = intent;
  const { lock, nowMs, stampMs } = seen;
  const mono = seen.mono ?? 0;
  const since = seen.since ?? mono;
  const claim = claimOf(opts);
  const noTime: Action<AcquireMeta> = { do: 'fail', error: new NoServerTimeError() };
  const ours = (stamp: number): HolderEntry => ownEntry(intent, stamp);
  // 1. Not there: create it. After a deletion that took a queue with it (an older client's release, the Go
  //    library breaking an expired lock, the garbage collector), its waiters rebuild it in their order: the first
  //    at once, the k-th after k claims (those ahead of it did not). Its owner (lock/owners.ts): our Pod, else
  //    none yet, since a create cannot know the lock's own uid (ownItself gives it after the create).
  if (lock === undefined) {
    const queue = seen.gone === undefined ? [] : liveWaiters(occupantsOf(seen.gone), nowMs, me);
    const k = queue.findIndex((w) => w.acquisitionId === me);
    if (k > 0 && mono < since + k * CLAIM_MS) return { do: 'wait', at: since + k * CLAIM_MS };
    if (stampMs === undefined) return noTime;
    const data = newRecord(intent, claim, [], ours(stampMs), stampMs, queue.slice(k + 1));
    const write: LockWrite = { name: opts.name, labels: lockLabels(opts.labels), ownerReferences: owners(opts), data };
    return { do: 'write', write: { kind: 'create', lock: write }, meta: { outcome: 'acquired' }, claims: true };
  }
  const occ = occupantsOf(lock);
  // 2. It carries our acquisition id: a write whose answer was lost did take effect; or a release offered it to
  //    us, and we confirm it with our own lease (this write's resourceVersion is our fencing token).
  const own = occ.holders.find((h) => h.acquisitionId === me);
  if (own !== undefined) {
    if (own.handoff !== true) return { do: 'done' };
    if (stampMs === undefined) return noTime;
    return {
      do: 'write',
      write: confirmWrite(intent, lock, occ, stampMs),
      meta: { outcome: 'acquired' },
      claims: true,
    };
  }
  // 3. Held by this identity already ("already held by you"): refresh its expiry; keep its acquisitionId,
  //    acquireTime and fence, so that a re-run runbook step is harmless.
  const same = occ.holders.find((h) => h.identity === holder.identity && h.handoff !== true);
  if (same !== undefined && holder.identity !== '') {
    if (stampMs === undefined) return noTime;
    return {
      do: 'write',
      write: refreshWrite(intent, lock, occ, same, stampMs, nowMs),
      meta: { outcome: 'alreadyHeld' },
    };
  }
  const s = standing(lock, nowMs, me);
  const others = s.queue.filter((w) => w.acquisitionId !== me);
  // 4. A semaphore's limit is the lock's: a caller asking for another gets a usage error, unless nobody holds or
  //    waits for the lock (then the caller's limit is written: a stale one binds nobody).
  const free = s.live.length === 0 && others.length === 0;
  if (!free && s.occ.limit !== claim.limit) {
    return { do: 'fail', error: new LimitMismatchError(opts.name, s.occ.limit, claim) };
  }
  const limit = free ? claim.limit : s.occ.limit;
  // 5. Room for us and nobody waiting: take it (a takeover when an expired holder was there).
  if (s.index < 0 && others.length === 0 && fits(claim, s.live, limit)) {
    if (stampMs === undefined) return noTime;
    return takeWrite(intent, claim, lock, s.live, [], stampMs, limit);
  }
  // 6. In the queue.
  if (s.index >= 0) {
    const k = s.index;
    // 6a. An offer to a waiter ahead went unconfirmed: the next one skips it after one claim, the k-th after k+1.
    if (s.offered.length > 0) {
      const at = since + (k + 1) * CLAIM_MS;
      if (mono < at) return waitUntil(at, s, seen);
      if (stampMs === undefined) return noTime;
      const kept = s.live.filter((h) => h.handoff !== true);
      const rest = s.queue.slice(k + 1);
      if (fits(claim, kept, limit)) return takeWrite(intent, claim, lock, kept, rest, stampMs, limit);
      // Others still hold it (a shared run of which one head did not confirm): only the dead offers go.
      const holders = stampFences(kept, lock.resourceVersion);
      return { do: 'queue', write: rewrite(lock, recordWith(lock.data, { holders, waiters: s.queue, limit })) };
    }
    // 6b. The front of the queue fits (a lease ran out, a slot came free, nobody offered it): those at the front
    //     that fit take it at once, a waiter further back after k claims (those ahead of it did not act: they
    //     are dropped).
    if (s.takeAfterClaims !== undefined) {
      const at = since + s.takeAfterClaims * CLAIM_MS;
      if (mono < at) return waitUntil(at, s, seen);
      if (stampMs === undefined) return noTime;
      const ahead = s.takeAfterClaims === 0 ? [] : s.queue.slice(0, k);
      const rest = s.queue.filter((w, i) => i !== k && !ahead.includes(w));
      return takeWrite(intent, claim, lock, s.live, rest, stampMs, limit);
    }
    // 6c. Our heartbeat is due: one write, also dropping waiters that missed theirs.
    const mine = s.queue[k];
    if (mine !== undefined && Number.isFinite(nowMs) && nowMs >= heartbeatDueAt(mine)) {
      if (stampMs === undefined) return noTime;
      const beat = heartbeat(mine, stampMs, s.queue.length);
      return {
        do: 'queue',
        write: rewrite(
          lock,
          withQueue(
            lock,
            s.queue.map((w) => (w === mine ? beat : w)),
          ),
        ),
      };
    }
    // 6d. Otherwise wait quietly.
    return waitUntil(undefined, s, seen);
  }
  // 7. Held by someone else, or others wait: report it (try once), or join the queue at the back.
  if (opts.timeoutMs === 0) {
    return { do: 'fail', error: new LockHeldError('acquire', { lock, serverNowMs: nowMs }) };
  }
  if (others.length >= MAX_WAITERS) return { do: 'fail', error: new QueueFullError(opts.name, others.length) };
  if (stampMs === undefined) return noTime;
  const entry = newWaiter({
    acquisitionId: me,
    identity: holder.identity,
    user: holder.user ?? '',
    host: holder.host,
    reason: opts.reason,
    ttlMs: opts.ttlMs,
    shared: claim.shared,
    stampMs,
    queueLength: others.length + 1,
  });
  return { do: 'queue', write: rewrite(lock, withQueue(lock, [...others, entry])) };
}

/**
 * A queued waiter waits for a change, or until the first of: `at` (its turn to act), its heartbeat, the end of a
 * holder's lease (then the front of the queue may fit).
 */
function waitUntil(at: number | undefined, s: Standing, seen: Seen<AcquireMeta>): Action<AcquireMeta> {
  const mine = s.queue[s.index];
  const times = [at, monoAt(mine === undefined ? undefined : heartbeatDueAt(mine), seen)];
  for (const h of s.live.filter((l) => l.handoff !== true)) {
    const end = s.occ.multi ? holderExpiry(h) : seen.lock === undefined ? undefined : expiryOf(seen.lock);
    times.push(monoAt(end === undefined ? undefined : end + EXPIRY_ALLOWANCE_MS + 1, seen));
  }
  const next = Math.min(...times.filter((t): t is number => t !== undefined));
  return Number.isFinite(next) ? { do: 'wait', at: next } : { do: 'wait' };
}

/** This call's holder entry, acquired at `stampMs`. */
function ownEntry(intent: AcquireIntent, stampMs: number): HolderEntry {
  const at = new Date(stampMs).toISOString();
  const entry: HolderEntry = {
    identity: intent.holder.identity,
    user: intent.holder.user ?? '',
    host: intent.holder.host,
    acquireTime: at,
    renewTime: at,
    leaseDurationSeconds: Math.max(0, Math.round(intent.opts.ttlMs)) / 1000,
    reason: intent.opts.reason,
    acquisitionId: intent.acquisitionId,
  };
  if (intent.opts.shared === true) entry.shared = true;
  return entry;
}

/**
 * The one owner (lock/owners.ts) of a lock this call takes: its Pod when it holds the lock alone, else the lock
 * itself (several holders' Pods cannot all own it, and the previous holder's Pod must not take it along). A create
 * (`lock` undefined) outside a Pod gets none yet: its uid is unknown until then (ownItself follows).
 */
function owners(opts: AcquireOptions, lock?: StoredLock, alone = true): OwnerReference[] {
  if (alone && opts.owner !== undefined) return [opts.owner];
  return lock === undefined ? [] : [selfOwner(lock)];
}

/**
 * The data of a lock this call now holds: alone and exclusive, today's fresh record (freshRecord, so a plain lock
 * stays byte for byte what it was); beside others, or shared, or in a semaphore, `holders`.
 */
function newRecord(
  intent: AcquireIntent,
  claim: Claim,
  beside: readonly HolderEntry[],
  ours: HolderEntry,
  stampMs: number,
  waiters: readonly WaiterEntry[],
  base?: Record<string, string>,
): Record<string, string> {
  if (beside.length === 0 && !claim.shared && claim.limit === 1) {
    const { opts, holder, acquisitionId } = intent;
    const fresh = freshRecord({ holder, nowMs: stampMs, ttlMs: opts.ttlMs, reason: opts.reason, acquisitionId });
    return withWaiters(fresh, waiters);
  }
  return recordWith(base, { holders: [...beside, ours], waiters, limit: claim.limit });
}

/** Taking the lock with a CAS: alone (a takeover when an expired holder was there), or beside the live holders. */
function takeWrite(
  intent: AcquireIntent,
  claim: Claim,
  lock: StoredLock,
  live: readonly HolderEntry[],
  waiters: readonly WaiterEntry[],
  stampMs: number,
  limit: number,
): Action<AcquireMeta> {
  const { opts } = intent;
  const beside = stampFences(live, lock.resourceVersion);
  const data = newRecord(intent, { ...claim, limit }, beside, ownEntry(intent, stampMs), stampMs, waiters, lock.data);
  const alone = beside.length === 0;
  const write: LockWrite = {
    name: opts.name,
    labels: alone ? lockLabels(opts.labels) : { ...lock.labels, ...lockLabels(opts.labels) },
    ownerReferences: owners(opts, lock, alone),
    data,
  };
  // A lapsed holder (not a lapsed offer) was there: a takeover, recorded as such.
  const lapsed = occupantsOf(lock).holders.some(
    (h) => h.handoff !== true && !live.some((l) => l.acquisitionId === h.acquisitionId),
  );
  const meta: AcquireMeta = lapsed && alone ? { outcome: 'tookOver', previous: lock } : { outcome: 'acquired' };
  return {
    do: 'write',
    write: { kind: 'update', lock: write, resourceVersion: lock.resourceVersion },
    meta,
    claims: true,
  };
}

/** The offered waiter confirms: its own lease from now, no fence (this write's resourceVersion is its token). */
function confirmWrite(intent: AcquireIntent, lock: StoredLock, occ: Occupants, stampMs: number): Write {
  const { opts, acquisitionId } = intent;
  if (!occ.multi) {
    const data = without(lock.data, [DataKey.handoff, DataKey.fence]);
    const now = new Date(stampMs).toISOString();
    data[DataKey.acquireTime] = now;
    data[DataKey.renewTime] = now;
    data[DataKey.leaseDurationSeconds] = String(Math.max(0, Math.round(opts.ttlMs)) / 1000);
    data[DataKey.expiresAt] = expiresAtText(stampMs, opts.ttlMs);
    const write: LockWrite = {
      name: lock.name,
      labels: lockLabels(opts.labels),
      ownerReferences: owners(opts, lock),
      data,
    };
    return { kind: 'update', lock: write, resourceVersion: lock.resourceVersion };
  }
  const holders = stampFences(occ.holders, lock.resourceVersion).map((h) =>
    h.acquisitionId === acquisitionId ? confirmed(h, stampMs, opts.ttlMs) : h,
  );
  const data = recordWith(lock.data, { holders, waiters: occ.waiters, limit: occ.limit });
  const write: LockWrite = {
    name: lock.name,
    labels: { ...lock.labels, ...lockLabels(opts.labels) },
    ownerReferences: owners(opts, lock, occ.holders.length === 1),
    data,
  };
  return { kind: 'update', lock: write, resourceVersion: lock.resourceVersion };
}

/** "Already held by you": the hold renewed (new lease and reason if given), and this call out of the queue. */
function refreshWrite(
  intent: AcquireIntent,
  lock: StoredLock,
  occ: Occupants,
  hold: HolderEntry,
  stampMs: number,
  nowMs: number,
): Write {
  const { opts, acquisitionId } = intent;
  const waiters = liveWaiters(occ, nowMs).filter((w) => w.acquisitionId !== acquisitionId);
  let data: Record<string, string>;
  if (!occ.multi) {
    const renewedData = renewedRecord(lock, { nowMs: stampMs, ttlMs: opts.ttlMs, reason: opts.reason || undefined });
    data = withWaiters(renewedData, waiters);
  } else {
    const holders = stampFences(occ.holders, lock.resourceVersion).map((h) => {
      if (h.acquisitionId !== hold.acquisitionId) return h;
      const next = renewed(h, stampMs, opts.ttlMs);
      return opts.reason === '' ? next : { ...next, reason: opts.reason };
    });
    data = recordWith(lock.data, { holders, waiters, limit: occ.limit });
  }
  const write: LockWrite = {
    name: opts.name,
    labels: { ...lock.labels, ...lockLabels(opts.labels) },
    ownerReferences: ownersKept(lock),
    data,
  };
  return { kind: 'update', lock: write, resourceVersion: lock.resourceVersion };
}

/** Remembers since when the current situation lasts (situationOf): a waiter's timers run from that moment. */
class Episodes {
  #key: string | undefined;
  #since = 0;

  since(key: string | undefined, mono: number): number {
    if (key === undefined || key !== this.#key) {
      this.#key = key;
      this.#since = mono;
    }
    return this.#since;
  }
}

/** Takes the lock: see AcquireOptions for ttl, timeout (0 = try once), shared, limit and the rest. */
export async function acquire(ctx: LockContext, opts: AcquireOptions): Promise<AcquireResult> {
  validateLockName(opts.name);
  const startedMono = ctx.clock.now();
  const op = new Operation(ctx, opts.signal, opts.timeoutMs > 0 ? startedMono + opts.timeoutMs : undefined);
  const acquisitionId = newAcquisitionId();
  const progress: Progress = { claimed: false, queued: false };
  const intent: AcquireIntent = { opts, holder: ctx.holder, acquisitionId };
  const episodes = new Episodes();
  const plan: Plan<AcquireMeta> = {
    name: opts.name,
    decide: (seen) =>
      decideAcquire(intent, { ...seen, since: episodes.since(situationOf(intent, seen), seen.mono ?? 0) }),
    limits: ACQUIRE_LIMITS,
    refusals: QUEUE_BACKOFF,
  };
  const follower =
    opts.timeoutMs === 0
      ? undefined
      : new LockFollower(op.context(), opts.name, {
          operation: 'acquire',
          startedMono,
          ...(op.deadline === undefined ? {} : { deadlineMono: op.deadline }),
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
          mine: acquisitionId,
        });
  let resolved: Resolved<AcquireMeta>;
  let lock: StoredLock | undefined;
  let owning = false;
  try {
    // 0. Until a response has told us the server's clock we cannot stamp a record: read first (a held lock then
    //    needs no create either). Otherwise assume it free and create it at once.
    const first = op.serverClock.known() ? undefined : await op.get(opts.name);
    resolved = await resolve(op, plan, first, progress, follower);
    lock = resolved.lock;
    // Created outside a Pod: one more write makes the lock its own owner, now that its uid is known.
    if (lock !== undefined && lock.ownerReferences.length === 0) {
      owning = true;
      lock = await ownItself(op, lock, acquisitionId);
    }
    op.throwIfCancelled(); // Ctrl-C came while we were taking it: give it back below
  } catch (error) {
    // Interrupted or timed out: out of the queue at once (the line must not stall on us); a lock a write of ours
    // may have taken (or a release offered us), or one we could not give its owner (the Go library would crash on
    // it), is handed on.
    if (progress.queued || ((op.cancelled || owning) && progress.claimed)) {
      // The state the watch last brought, when it shows us in line; otherwise a read: a join interrupted in flight
      // may have taken effect unseen, and deciding on the state before it would leave our entry behind.
      const known = follower?.latest;
      const base = !progress.claimed && known !== undefined && inLock(known, acquisitionId) ? known : undefined;
      await withdraw(op, opts.name, acquisitionId, base);
    }
    throw error;
  } finally {
    follower?.close();
  }
  const { by } = resolved;
  if (lock === undefined || by === undefined) throw new Error('acquire resolved without a lock of its own');
  const serverNow = op.serverClock.now();
  const view = lockView(lock, serverNow, holdOf(lock, acquisitionId, ctx.holder));
  const result: AcquireResult = { lock: view, outcome: by.meta.outcome, leaseStartMono: by.sentMono, stored: lock };
  if (by.meta.previous !== undefined) result.previous = lockView(by.meta.previous, serverNow);
  await recordAcquisition(ctx, opts, { lock, outcome: by.meta.outcome, previous: by.meta.previous, fence: view.fence });
  return result;
}

/** This acquisition is in the lock: holding it, offered it, or waiting for it. */
function inLock(lock: StoredLock, acquisitionId: string): boolean {
  const occ = occupantsOf(lock);
  return [...occ.holders, ...occ.waiters].some((e) => e.acquisitionId === acquisitionId);
}

/** The acquisition id of the hold this call has: its own, or (already held by you) the identity's. */
function holdOf(lock: StoredLock, acquisitionId: string, holder: Holder): string | undefined {
  const holders = occupantsOf(lock).holders;
  return (
    holders.find((h) => h.acquisitionId === acquisitionId)?.acquisitionId ??
    holders.find((h) => h.identity === holder.identity)?.acquisitionId
  );
}

/** Limits: a lock renewed under us (the same identity, elsewhere) eight times running; a server that never answers. */
const OWN_LIMITS: Limits = { failures: 8 };

/**
 * A lock created without an owner (outside a Pod: its uid was unknown until the create) becomes its own owner
 * (lock/owners.ts) by one more update. The data stays as the create wrote it, with the fence written down (a
 * holder entry's too): the token is the create's resourceVersion, not this write's.
 */
export function decideOwnItself(intent: { acquisitionId: string }, seen: Seen<object>): Action<object> {
  const { lock } = seen;
  // 1. No longer our acquisition (released or broken meanwhile): nothing of ours to change.
  if (lock === undefined || lock.data[DataKey.acquisitionId] !== intent.acquisitionId) return { do: 'done' };
  // 2. It has its owner: this write took effect and its answer was lost, or a later write (our identity renewing
  //    it, a waiter joining) gave it.
  if (lock.ownerReferences.length > 0) return { do: 'done' };
  // 3. Update with the resourceVersion seen.
  const write: LockWrite = {
    name: lock.name,
    labels: lock.labels,
    ownerReferences: [selfOwner(lock)],
    data: withQueue(lock, occupantsOf(lock).waiters),
  };
  return { do: 'write', write: { kind: 'update', lock: write, resourceVersion: lock.resourceVersion }, meta: {} };
}

/** The lock as its own owner, or as it was when it is no longer ours (run's first renewal then finds it lost). */
async function ownItself(op: Operation, lock: StoredLock, acquisitionId: string): Promise<StoredLock> {
  const plan: Plan<object> = {
    name: lock.name,
    decide: (seen) => decideOwnItself({ acquisitionId }, seen),
    limits: OWN_LIMITS,
  };
  const owned = (await resolve(op, plan, lock)).lock;
  return owned !== undefined && occupantsOf(owned).holders.some((h) => h.acquisitionId === acquisitionId)
    ? owned
    : lock;
}

/**
 * After Ctrl-C or a timeout during acquire, or a failed ownItself: leave the queue (one write), or, if a write of
 * ours took the lock or a release offered it to us, hand it on. `base`: the lock as last seen (else read). Best
 * effort within the cleanup budget: an entry left behind goes stale, and an offer to us is skipped after one claim.
 */
async function withdraw(
  op: Operation,
  name: string,
  acquisitionId: string,
  base: StoredLock | undefined,
): Promise<void> {
  const { signal, dispose } = op.cleanupSignal(CLEANUP_BUDGET_MS);
  const cleanup = new Operation(op.context(), signal);
  const plan: Plan<object> = {
    name,
    decide: (seen) => decideWithdraw(acquisitionId, seen),
    limits: { failures: 4 },
    refusals: QUEUE_BACKOFF,
  };
  try {
    await resolve(cleanup, plan, base ?? (await cleanup.get(name)));
  } catch {
    // Best effort (see above).
  } finally {
    dispose();
  }
}

export function decideWithdraw(acquisitionId: string, seen: Seen<object>): Action<object> {
  const { lock, nowMs, stampMs } = seen;
  if (lock === undefined) return { do: 'done' };
  const occ = occupantsOf(lock);
  const hold = occ.holders.find((h) => h.acquisitionId === acquisitionId);
  if (hold !== undefined) {
    if (stampMs === undefined) return { do: 'fail', error: new NoServerTimeError() };
    return { do: 'write', write: handOver(lock, occ, [hold], nowMs, stampMs).write, meta: {} };
  }
  const waiters = liveWaiters(occ, nowMs);
  if (!waiters.some((w) => w.acquisitionId === acquisitionId)) return { do: 'done' };
  const rest = waiters.filter((w) => w.acquisitionId !== acquisitionId);
  return { do: 'queue', write: rewrite(lock, withQueue(lock, rest)) };
}

// ---------------------------------------------------------------------------------------------------------------
// renew

/**
 * Limits: waiters write the lock too (joins, heartbeats), so a renewal that finds it changed re-reads it and, while
 * it is still ours, tries again; only a lock that keeps changing for this many tries is reported.
 */
const RENEW_LIMITS: Limits = { ambiguous: 8, conflicts: 10 };

export function decideRenew(
  intent: { name: string; namespace: string; holder: Holder; ttlMs: number | undefined },
  seen: Seen<object>,
): Action<object> {
  const { lock, failed } = seen;
  // 1. A renewal of ours whose answer was lost: if the lock carries it, it took effect.
  if (failed?.ambiguous === true && lock !== undefined && failed.base !== undefined && failed.write.kind === 'update') {
    const wrote = holdIn(failed.write.lock.data, intent.holder);
    const now = holdIn(lock.data, intent.holder);
    const before = holdIn(failed.base.data, intent.holder);
    const same = failed.base.uid === lock.uid && now?.acquisitionId === before?.acquisitionId;
    if (same && wrote !== undefined && now?.renewTime === wrote.renewTime) return { do: 'done' };
  }
  // 2. Not there (deleted, or released by someone else): nothing to renew.
  if (lock === undefined) return { do: 'fail', error: new LockMissingError(intent.name, intent.namespace) };
  // 3. Only its holder renews it.
  const occ = occupantsOf(lock);
  const hold = occ.multi
    ? occ.holders.find((h) => h.identity === intent.holder.identity && h.handoff !== true)
    : heldBy(lock, intent.holder)
      ? occ.holders[0]
      : undefined;
  if (hold === undefined) {
    return {
      do: 'fail',
      error: new NotYourLockError('renew', { lock, serverNowMs: seen.nowMs }, intent.holder.identity),
    };
  }
  // 4. Update with the resourceVersion seen: new renewTime (and lease); same acquisition, fence written down.
  if (seen.stampMs === undefined) return { do: 'fail', error: new NoServerTimeError() };
  const stamp = seen.stampMs;
  const data = occ.multi
    ? recordWith(lock.data, {
        holders: stampFences(occ.holders, lock.resourceVersion).map((h) =>
          h.acquisitionId === hold.acquisitionId ? renewed(h, stamp, intent.ttlMs) : h,
        ),
        waiters: occ.waiters,
        limit: occ.limit,
      })
    : renewedRecord(lock, { nowMs: stamp, ttlMs: intent.ttlMs });
  return { do: 'write', write: rewrite(lock, data), meta: {} };
}

/** The hold of `holder` in a lock's data (the top-level record, or its entry in `holders`). */
function holdIn(data: Record<string, string>, holder: Holder): HolderEntry | undefined {
  const probe: StoredLock = {
    name: '',
    namespace: '',
    uid: '',
    resourceVersion: '',
    labels: {},
    ownerReferences: [],
    data,
  };
  return occupantsOf(probe).holders.find((h) => h.identity === holder.identity);
}

function renewPlan(ctx: LockContext, name: string, ttlMs: number | undefined): Plan<object> {
  const intent = { name, namespace: ctx.store.namespace, holder: ctx.holder, ttlMs };
  return { name, decide: (seen) => decideRenew(intent, seen), limits: RENEW_LIMITS };
}

/** Extends a lock this identity holds (`renew NAME`): reads it, then updates it; `ttlMs` changes the lease. */
export async function renew(ctx: LockContext, opts: RenewOptions): Promise<LockView> {
  validateLockName(opts.name);
  const op = new Operation(ctx, opts.signal);
  const resolved = await resolve(op, renewPlan(ctx, opts.name, opts.ttlMs), await op.get(opts.name));
  const lock = renewedLock(resolved);
  return lockView(lock, op.serverClock.now(), holdIn(lock.data, ctx.holder)?.acquisitionId);
}

/**
 * Extends a lock this process holds without reading it first (client-go's fast path; `run`'s renewals): `from`
 * is the object the last acquire or renewal of ours left (AcquireResult.stored, RenewedLock.stored), and the
 * update carries its resourceVersion. The lock is read only when that update is refused (409: someone else wrote
 * it since, e.g. a waiter joining) or its answer is lost. Errors are renew's: NotYourLockError, LockMissingError,
 * the store's.
 */
export async function renewFrom(ctx: LockContext, opts: RenewFromOptions): Promise<RenewedLock> {
  const op = new Operation(ctx, opts.signal);
  const resolved = await resolve(op, renewPlan(ctx, opts.from.name, opts.ttlMs), opts.from);
  const stored = renewedLock(resolved);
  return { lock: lockView(stored, op.serverClock.now(), holdIn(stored.data, ctx.holder)?.acquisitionId), stored };
}

function renewedLock(resolved: Resolved<object>): StoredLock {
  if (resolved.lock === undefined) throw new Error('renew resolved without a lock');
  return resolved.lock;
}

// ---------------------------------------------------------------------------------------------------------------
// release

export interface ReleaseMeta {
  /** Someone else's hold, broken with force. */
  readonly forced: boolean;
  /** The holds this write ends. */
  readonly released: readonly HolderEntry[];
  /** The waiters it offers the lock to. */
  readonly handedTo: readonly WaiterEntry[];
}

/** Limits: a write that keeps failing (a lock renewed under us eight times, a server that never answers). */
const RELEASE_LIMITS: Limits = { failures: 8 };

/**
 * The write that ends `ending` (holds of this lock): the lock handed to the waiters first in line that fit beside
 * the holders left (one write: an offer, which each confirms with its own), or, when nobody is left, deleted with
 * uid and resourceVersion preconditions. Expired holders and waiters that missed their heartbeats are dropped.
 */
function handOver(
  lock: StoredLock,
  occ: Occupants,
  ending: readonly HolderEntry[],
  nowMs: number,
  stampMs: number,
): { write: Write; handedTo: WaiterEntry[] } {
  const left = stampFences(
    liveHolders(lock, occ, nowMs).filter((h) => !ending.some((e) => e.acquisitionId === h.acquisitionId)),
    lock.resourceVersion,
  );
  const { admitted, rest } = admit(left, liveWaiters(occ, nowMs), occ.limit);
  if (left.length === 0 && admitted.length === 0) return { write: deleteExactly(lock), handedTo: [] };
  const data = recordWith(lock.data, {
    holders: [...left, ...offers(admitted, stampMs)],
    waiters: rest,
    limit: occ.limit,
  });
  return { write: rewrite(lock, data, admitted.length > 0), handedTo: admitted };
}

export function decideRelease(
  intent: { opts: ReleaseOptions; namespace: string; holder: Holder },
  seen: Seen<ReleaseMeta>,
): Action<ReleaseMeta> {
  const { opts, holder } = intent;
  const { lock, failed } = seen;
  // 1. A write of ours whose answer was lost, and the lock is gone or was re-created (a delete), or no longer has
  //    the holds it ended (a hand-over): ours took effect.
  if (failed?.ambiguous === true) {
    if (lock === undefined || lock.uid !== failed.base?.uid) return { do: 'done' };
    const ids = new Set(occupantsOf(lock).holders.map((h) => h.acquisitionId));
    if (failed.write.kind === 'update' && !failed.meta.released.some((h) => ids.has(h.acquisitionId))) {
      return { do: 'done' };
    }
  }
  // 2. Not there.
  if (lock === undefined) {
    return opts.ignoreNotFound
      ? { do: 'done' }
      : { do: 'fail', error: new LockMissingError(opts.name, intent.namespace) };
  }
  const occ = occupantsOf(lock);
  const mine = occ.multi
    ? occ.holders.filter((h) => h.identity === holder.identity && h.handoff !== true)
    : heldBy(lock, holder)
      ? occ.holders
      : [];
  const refusal = { lock, serverNowMs: seen.nowMs };
  // 3. After a write that did not take effect: never touch someone else's newer lock, forced or not; the same
  //    acquisition renewed meanwhile is still the one inspected.
  if (failed?.base !== undefined && mine.length === 0 && !sameHolds(lock, failed.base)) {
    return { do: 'fail', error: new NotYourLockError('release', refusal, holder.identity, true) };
  }
  // 4. Which holds end: ours; with force, the one named, all, or the only one there.
  let ending: readonly HolderEntry[] = mine;
  if (mine.length === 0 || opts.holder !== undefined || opts.all === true) {
    if (!opts.force) return { do: 'fail', error: new NotYourLockError('release', refusal, holder.identity) };
    const named = opts.holder;
    if (opts.all === true) ending = occ.holders;
    else if (named !== undefined) ending = occ.holders.filter((h) => h.identity === named);
    else if (occ.holders.length === 1) ending = occ.holders;
    else return { do: 'fail', error: new ChooseHolderError(lock) };
    if (ending.length === 0 && named !== undefined) {
      return { do: 'fail', error: new ChooseHolderError(lock, named) };
    }
  }
  if (seen.stampMs === undefined) return { do: 'fail', error: new NoServerTimeError() };
  // 5. Hand it to the queue, else delete exactly the object inspected.
  const { write, handedTo } = handOver(lock, occ, ending, seen.nowMs, seen.stampMs);
  const forced = ending.some((h) => !mine.includes(h));
  return { do: 'write', write, meta: { forced, released: ending, handedTo } };
}

/** Same lock, same holds (a renewal changes neither; a takeover, a hand-over or re-creation does). */
function sameHolds(a: StoredLock, b: StoredLock): boolean {
  const ids = (lock: StoredLock) =>
    occupantsOf(lock)
      .holders.map((h) => h.acquisitionId)
      .sort()
      .join(',');
  return sameAcquisition(a, b) && ids(a) === ids(b);
}

/** Releases a lock this identity holds, or with `force` anyone's (recorded). Writes only the lock inspected. */
export async function release(ctx: LockContext, opts: ReleaseOptions): Promise<ReleaseResult> {
  validateLockName(opts.name);
  const op = new Operation(ctx, opts.signal);
  const intent = { opts, namespace: ctx.store.namespace, holder: ctx.holder };
  const first = await op.get(opts.name);
  // Someone else's, with force: recorded before the write (a deleted lock's Events go with it).
  if (first !== undefined && opts.force && !holdsAny(first, ctx.holder)) await recordForcedRelease(ctx, first);
  const plan: Plan<ReleaseMeta> = {
    name: opts.name,
    decide: (seen) => decideRelease(intent, seen),
    limits: RELEASE_LIMITS,
  };
  const { lock, by } = await resolve(op, plan, first);
  if (by?.base === undefined) return { forced: false }; // already gone, and ignoreNotFound
  const handedTo = by.meta.handedTo.map((w) => w.identity);
  if (!by.meta.forced) await recordRelease(ctx, lock ?? by.base, handedTo);
  const now = op.serverClock.now();
  const released = lockView(by.base, now, by.meta.released[0]?.acquisitionId);
  return { released, forced: by.meta.forced, ...(handedTo.length > 0 ? { handedTo } : {}) };
}

function holdsAny(lock: StoredLock, holder: Holder): boolean {
  return occupantsOf(lock).holders.some((h) => h.identity === holder.identity);
}

// ---------------------------------------------------------------------------------------------------------------
// describe, list

/** Everything known about one lock, with its recent Events. */
export async function describe(ctx: LockContext, name: string, signal?: AbortSignal): Promise<DescribedLock> {
  validateLockName(name);
  const op = new Operation(ctx, signal);
  const lock = await op.get(name);
  if (lock === undefined) throw new LockMissingError(name, ctx.store.namespace);
  const events = await ctx.store.events(lock, op.requestOptions);
  return {
    ...lockView(lock, op.serverClock.now()),
    uid: lock.uid,
    resourceVersion: lock.resourceVersion,
    events,
  };
}

export interface ListOptions {
  labelSelector?: string;
  allNamespaces?: boolean;
  signal?: AbortSignal;
}

/** Locks sorted by namespace, then name: cmlock's and the Go library's (lock/listing.ts). */
export async function list(ctx: LockContext, options: ListOptions = {}): Promise<LockView[]> {
  const op = new Operation(ctx, options.signal);
  const query: { labelSelector?: string; allNamespaces?: boolean } = {};
  if (options.labelSelector !== undefined) query.labelSelector = options.labelSelector;
  if (options.allNamespaces !== undefined) query.allNamespaces = options.allNamespaces;
  const locks = await op.request((o) => listLocks(ctx.store, query, o));
  const serverNow = op.serverClock.now();
  return locks.map((lock) => lockView(lock, serverNow));
}
