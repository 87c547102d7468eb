// The lock protocol over a LockStore, modelled on client-go's tryAcquireOrRenew. Acquire = create; an expired
// lock is taken over by an update that carries the resourceVersion read; renew = update with the resourceVersion;
// release = delete with uid and resourceVersion preconditions. Each operation is a pure decision (decideAcquire,
// decideRenew, decideRelease: the lock as seen -> what to write, or done, refused, wait) and one shared loop,
// resolve(), that sends the write and, when it is refused (someone else wrote first) or its answer is lost,
// reads the lock back and decides again. A lost answer is resolved by reading back, never by a blind retry.
// A new kind of record (holders, a queue) is a new decision over the same loop.

import type { CmlockError } from '../errors.ts';
import { Backoff } from './backoff.ts';
import { LockHeldError, LockMissingError, NotYourLockError } from './errors.ts';
import { recordAcquisition, recordForcedRelease, recordRelease } from './events.ts';
import { listLocks } from './listing.ts';
import { lockLabels, validateLockName } from './names.ts';
import { Operation, PROTOCOL_BACKOFF } from './operation.ts';
import { ownersKept, selfOwner } from './owners.ts';
import {
  DataKey,
  fenceOf,
  freshRecord,
  isExpired,
  newAcquisitionId,
  renewedRecord,
  sameAcquisition,
  toLockView,
} from './record.ts';
import { NoServerTimeError } from './server-clock.ts';
import {
  AlreadyExistsError,
  AmbiguousWriteError,
  ConflictError,
  StoreNotFoundError,
  type LockWrite,
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
import { waitForChange } from './wait.ts';

/** How long cleanup after Ctrl-C may take (reading back and deleting a lock we may have just taken). */
const CLEANUP_BUDGET_MS = 1000;

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
}

export type Action<M> =
  /** The lock is as this call wants it: nothing (more) to write. */
  | { readonly do: 'done' }
  /** This call cannot have it: held by someone else, not ours, not there. */
  | { readonly do: 'fail'; readonly error: CmlockError }
  /** Held by someone else: wait until it changes, goes or expires, then decide again. */
  | { readonly do: 'wait' }
  /** Send this write; `claims`: it carries this call's acquisition id (a cancellation must look for it). */
  | { readonly do: 'write'; readonly write: Write; readonly meta: M; readonly claims?: boolean };

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
  /** A plan that may wait (acquire): who waits, and since when (for progress and the timeout message). */
  readonly waits?: { readonly operation: 'acquire'; readonly startedMono: number };
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
}

/**
 * The one write-then-resolve path of acquire, renew and release. `first` is the lock as the caller last saw it
 * (read, written, or assumed absent).
 */
async function resolve<M>(
  op: Operation,
  plan: Plan<M>,
  first: StoredLock | undefined,
  progress: Progress = { claimed: false },
): Promise<Resolved<M>> {
  const backoff = new Backoff(PROTOCOL_BACKOFF, () => op.clock.random());
  const count = { ambiguous: 0, conflicts: 0, failures: 0, refusedSinceWait: 0 };
  let lock = first;
  let failed: Failed<M> | undefined;
  const seen = (current: StoredLock | undefined): Seen<M> => ({
    lock: current,
    failed,
    nowMs: op.serverClock.now(),
    stampMs: op.serverClock.known() ? op.serverClock.stamp() : undefined,
  });
  for (;;) {
    // 1. Decide on the lock as last seen.
    const sentMono = op.clock.now(); // before the record is stamped and sent: the lease runs from here
    const action = plan.decide(seen(lock));
    // 2. Nothing to write: the lock is as we want it (perhaps by a write whose answer was lost).
    if (action.do === 'done') return { lock, by: failed };
    // 3. Refused for good: held by someone else (try once), not ours, not there.
    if (action.do === 'fail') throw action.error;
    // 4. Held: wait for a change, a deletion or the expiry (a watch and a timer; no polling), then decide again.
    if (action.do === 'wait') {
      if (plan.waits === undefined || lock === undefined) throw new Error(`${plan.name}: a decision to wait, not here`);
      lock = await waitForChange(op.context(), plan.name, lock, op.deadline, op.signal, {
        ...plan.waits,
        wakeOn: (changed) => plan.decide(seen(changed)).do !== 'wait',
      });
      count.refusedSinceWait = 0;
      continue;
    }
    // 5. Write. Taking effect ends the call.
    const sent: Sent<M> = { write: action.write, meta: action.meta, base: lock, sentMono };
    if (action.claims === true) progress.claimed = true;
    const result = await send(op, action.write);
    if (result.done) return { lock: result.value, by: sent };
    // 6. Refused (AlreadyExists, Conflict, NotFound: someone else wrote first) or the answer lost (we cannot
    //    tell). Give up at the plan's limit; else read the lock back and decide again from 1, a later write
    //    carrying a fresh precondition. A pause first after a lost answer, or after the second refusal since
    //    waiting (a lock that churns, or a store that disagrees with itself), so this never becomes a tight loop.
    count.failures++;
    if (result.ambiguous) count.ambiguous++;
    else count.refusedSinceWait++;
    if (result.error instanceof ConflictError) count.conflicts++;
    if (reached(plan.limits, count)) throw result.error;
    if (!result.ambiguous) progress.claimed = count.ambiguous > 0; // refused: this write took nothing
    if (result.ambiguous || count.refusedSinceWait > 1) await op.pause(backoff.next());
    failed = { ...sent, ambiguous: result.ambiguous };
    lock = await op.get(plan.name);
  }
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

// ---------------------------------------------------------------------------------------------------------------
// acquire

export interface AcquireMeta {
  readonly outcome: AcquireOutcome;
  /** For a takeover: the expired lock it replaced. */
  readonly previous?: StoredLock;
}

/** Limits: lost answers only; refusals mean someone else wrote first, and acquire waits or decides again. */
const ACQUIRE_LIMITS: Limits = { ambiguous: 8 };

export function decideAcquire(
  intent: { opts: AcquireOptions; holder: Holder; acquisitionId: string },
  seen: Seen<AcquireMeta>,
): Action<AcquireMeta> {
  const { opts, holder, acquisitionId } = intent;
  const { lock, nowMs, stampMs } = seen;
  const noTime: Action<AcquireMeta> = { do: 'fail', error: new NoServerTimeError() };
  // Exactly one owner (lock/owners.ts): our Pod, else the lock itself, whose uid a create cannot know yet (a
  // lock created without one is given it by decideOwnItself). The previous holder's owner is dropped: its Pod's
  // deletion must not take our lock with it.
  const fresh = (stamp: number, taken?: StoredLock): LockWrite => ({
    name: opts.name,
    labels: lockLabels(opts.labels),
    ownerReferences: opts.owner !== undefined ? [opts.owner] : taken !== undefined ? [selfOwner(taken)] : [],
    data: freshRecord({ holder, nowMs: stamp, ttlMs: opts.ttlMs, reason: opts.reason, acquisitionId }),
  });
  // 1. Free, as far as we know: create it.
  if (lock === undefined) {
    if (stampMs === undefined) return noTime;
    return {
      do: 'write',
      write: { kind: 'create', lock: fresh(stampMs) },
      meta: { outcome: 'acquired' },
      claims: true,
    };
  }
  // 2. It carries our acquisition id: a write whose answer was lost did take effect.
  if (lock.data[DataKey.acquisitionId] === acquisitionId) return { do: 'done' };
  // 3. Held by this identity already ("already held by you"): refresh its expiry; keep its acquisitionId,
  //    acquireTime and fence, so that a re-run runbook step is harmless.
  if (heldBy(lock, holder)) {
    if (stampMs === undefined) return noTime;
    const refreshed: LockWrite = {
      name: opts.name,
      labels: { ...lock.labels, ...lockLabels(opts.labels) },
      ownerReferences: ownersKept(lock),
      data: renewedRecord(lock, { nowMs: stampMs, ttlMs: opts.ttlMs, reason: opts.reason || undefined }),
    };
    const write: Write = { kind: 'update', lock: refreshed, resourceVersion: lock.resourceVersion };
    return { do: 'write', write, meta: { outcome: 'alreadyHeld' } };
  }
  // 4. Expired on the server's clock: take it over with an update carrying the resourceVersion read. A fresh
  //    record without fence: this write's resourceVersion becomes the new fence.
  if (isExpired(lock, nowMs)) {
    if (stampMs === undefined) return noTime;
    const write: Write = { kind: 'update', lock: fresh(stampMs, lock), resourceVersion: lock.resourceVersion };
    return { do: 'write', write, meta: { outcome: 'tookOver', previous: lock }, claims: true };
  }
  // 5. Held by someone else: report it (try once), or wait until it changes, goes or expires.
  if (opts.timeoutMs === 0) return { do: 'fail', error: new LockHeldError('acquire', { lock, serverNowMs: nowMs }) };
  return { do: 'wait' };
}

/** Takes the lock: see AcquireOptions for ttl, timeout (0 = try once) and the rest. */
export async function acquire(ctx: LockContext, opts: AcquireOptions): Promise<AcquireResult> {
  validateLockName(opts.name);
  const startedMono = ctx.clock.now();
  const op = new Operation(ctx, opts.signal, opts.timeoutMs > 0 ? startedMono + opts.timeoutMs : undefined);
  const acquisitionId = newAcquisitionId();
  const progress: Progress = { claimed: false };
  const plan: Plan<AcquireMeta> = {
    name: opts.name,
    decide: (seen) => decideAcquire({ opts, holder: ctx.holder, acquisitionId }, seen),
    limits: ACQUIRE_LIMITS,
    waits: { operation: 'acquire', startedMono },
  };
  let resolved: Resolved<AcquireMeta>;
  let lock: StoredLock | undefined;
  let owning = false;
  try {
    // 0. Until a response has told us the server's clock we cannot stamp a record: read first (a held lock then
    //    needs no create either). Otherwise assume it free and create it at once.
    const first = op.serverClock.known() ? undefined : await op.get(opts.name);
    resolved = await resolve(op, plan, first, progress);
    lock = resolved.lock;
    // Created outside a Pod: one more write makes the lock its own owner, now that its uid is known.
    if (lock !== undefined && lock.ownerReferences.length === 0) {
      owning = true;
      lock = await ownItself(op, lock, acquisitionId);
    }
    op.throwIfCancelled(); // Ctrl-C came while we were taking it: give it back below
  } catch (error) {
    // Cancelled, or a lock we cannot give its owner (the Go library would crash on it): none is left behind.
    if ((op.cancelled || owning) && progress.claimed) await abandon(op, opts.name, acquisitionId);
    throw error;
  }
  const { by } = resolved;
  if (lock === undefined || by === undefined) throw new Error('acquire resolved without a lock of its own');
  const serverNow = op.serverClock.now();
  const result: AcquireResult = {
    lock: toLockView(lock, serverNow),
    outcome: by.meta.outcome,
    leaseStartMono: by.sentMono,
    stored: lock,
  };
  if (by.meta.previous !== undefined) result.previous = toLockView(by.meta.previous, serverNow);
  await recordAcquisition(ctx, opts, { lock, outcome: by.meta.outcome, previous: by.meta.previous });
  return result;
}

/** Limits: a lock renewed under us (the same identity, elsewhere) eight times running; a server that never answers. */
const OWN_LIMITS: Limits = { failures: 8 };

/**
 * A lock created without an owner (outside a Pod: its uid was unknown until the create) becomes its own owner
 * (lock/owners.ts) by one more update. The data stays as the create wrote it, with the fence written down: the
 * token is the create's resourceVersion, not this write's.
 */
export function decideOwnItself(intent: { acquisitionId: string }, seen: Seen<object>): Action<object> {
  const { lock } = seen;
  // 1. No longer our acquisition (released or broken meanwhile): nothing of ours to change.
  if (lock === undefined || lock.data[DataKey.acquisitionId] !== intent.acquisitionId) return { do: 'done' };
  // 2. It has its owner: this write took effect and its answer was lost, or our identity renewed it since.
  if (lock.ownerReferences.length > 0) return { do: 'done' };
  // 3. Update with the resourceVersion seen.
  const write: LockWrite = {
    name: lock.name,
    labels: lock.labels,
    ownerReferences: [selfOwner(lock)],
    data: { ...lock.data, [DataKey.fence]: fenceOf(lock) },
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
  return owned?.data[DataKey.acquisitionId] === acquisitionId ? owned : lock;
}

/** After Ctrl-C during acquire, or a failed ownItself: delete the lock if a write of ours took it. */
async function abandon(op: Operation, name: string, acquisitionId: string): Promise<void> {
  const { signal, dispose } = op.cleanupSignal(CLEANUP_BUDGET_MS);
  try {
    const { value: lock } = await op.store.get(name, { signal });
    if (lock?.data[DataKey.acquisitionId] === acquisitionId) {
      await op.store.delete(name, { uid: lock.uid, resourceVersion: lock.resourceVersion }, { signal });
    }
  } catch {
    // Best effort: a lock left behind still expires with its lease.
  } finally {
    dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// renew

/** Limits: a second Conflict means the lock keeps changing under us; report it rather than chase it. */
const RENEW_LIMITS: Limits = { ambiguous: 8, conflicts: 2 };

export function decideRenew(
  intent: { name: string; namespace: string; holder: Holder; ttlMs: number | undefined },
  seen: Seen<object>,
): Action<object> {
  const { lock, failed } = seen;
  // 1. A renewal of ours whose answer was lost: if the lock carries it, it took effect.
  if (failed?.ambiguous === true && lock !== undefined && failed.base !== undefined && failed.write.kind === 'update') {
    const ours = lock.data[DataKey.renewTime] === failed.write.lock.data[DataKey.renewTime];
    if (ours && sameAcquisition(lock, failed.base)) return { do: 'done' };
  }
  // 2. Not there (deleted, or released by someone else): nothing to renew.
  if (lock === undefined) return { do: 'fail', error: new LockMissingError(intent.name, intent.namespace) };
  // 3. Only its holder renews it.
  if (!heldBy(lock, intent.holder)) {
    return {
      do: 'fail',
      error: new NotYourLockError('renew', { lock, serverNowMs: seen.nowMs }, intent.holder.identity),
    };
  }
  // 4. Update with the resourceVersion seen: new renewTime (and lease); same acquisition, fence written down.
  if (seen.stampMs === undefined) return { do: 'fail', error: new NoServerTimeError() };
  const write: LockWrite = {
    name: lock.name,
    labels: lockLabels(lock.labels),
    ownerReferences: ownersKept(lock),
    data: renewedRecord(lock, { nowMs: seen.stampMs, ttlMs: intent.ttlMs }),
  };
  return { do: 'write', write: { kind: 'update', lock: write, resourceVersion: lock.resourceVersion }, meta: {} };
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
  return toLockView(renewedLock(resolved), op.serverClock.now());
}

/**
 * Extends a lock this process holds without reading it first (client-go's fast path; `run`'s renewals): `from`
 * is the object the last acquire or renewal of ours left (AcquireResult.stored, RenewedLock.stored), and the
 * update carries its resourceVersion. The lock is read only when that update is refused (409: someone else wrote
 * it since) or its answer is lost. Errors are renew's: NotYourLockError, LockMissingError, the store's.
 */
export async function renewFrom(ctx: LockContext, opts: RenewFromOptions): Promise<RenewedLock> {
  const op = new Operation(ctx, opts.signal);
  const resolved = await resolve(op, renewPlan(ctx, opts.from.name, opts.ttlMs), opts.from);
  const stored = renewedLock(resolved);
  return { lock: toLockView(stored, op.serverClock.now()), stored };
}

function renewedLock(resolved: Resolved<object>): StoredLock {
  if (resolved.lock === undefined) throw new Error('renew resolved without a lock');
  return resolved.lock;
}

// ---------------------------------------------------------------------------------------------------------------
// release

export interface ReleaseMeta {
  /** Someone else's lock, broken with force. */
  readonly forced: boolean;
}

/** Limits: a delete that keeps failing (a lock renewed under us eight times, a server that never answers). */
const RELEASE_LIMITS: Limits = { failures: 8 };

export function decideRelease(
  intent: { opts: ReleaseOptions; namespace: string; holder: Holder },
  seen: Seen<ReleaseMeta>,
): Action<ReleaseMeta> {
  const { opts, holder } = intent;
  const { lock, failed } = seen;
  // 1. A delete of ours whose answer was lost, and the lock is gone or was re-created: ours took effect.
  if (failed?.ambiguous === true && (lock === undefined || lock.uid !== failed.base?.uid)) return { do: 'done' };
  // 2. Not there.
  if (lock === undefined) {
    return opts.ignoreNotFound
      ? { do: 'done' }
      : { do: 'fail', error: new LockMissingError(opts.name, intent.namespace) };
  }
  const ours = heldBy(lock, holder);
  const refusal = { lock, serverNowMs: seen.nowMs };
  // 3. After a delete that did not take effect: never delete someone else's newer lock, forced or not; the same
  //    acquisition renewed meanwhile is still the one inspected.
  if (failed?.base !== undefined && !sameAcquisition(lock, failed.base) && !ours) {
    return { do: 'fail', error: new NotYourLockError('release', refusal, holder.identity, true) };
  }
  // 4. Someone else's lock, without force: refused.
  if (!ours && !opts.force) return { do: 'fail', error: new NotYourLockError('release', refusal, holder.identity) };
  // 5. Delete exactly the object inspected: uid and resourceVersion preconditions.
  const preconditions = { uid: lock.uid, resourceVersion: lock.resourceVersion };
  return { do: 'write', write: { kind: 'delete', name: opts.name, preconditions }, meta: { forced: !ours } };
}

/** Releases a lock this identity holds, or with `force` anyone's (recorded). Deletes only the lock inspected. */
export async function release(ctx: LockContext, opts: ReleaseOptions): Promise<ReleaseResult> {
  validateLockName(opts.name);
  const op = new Operation(ctx, opts.signal);
  const intent = { opts, namespace: ctx.store.namespace, holder: ctx.holder };
  const first = await op.get(opts.name);
  // Someone else's, with force: recorded before the delete (the Event's object goes with it).
  if (first !== undefined && opts.force && !heldBy(first, ctx.holder)) await recordForcedRelease(ctx, first);
  const plan: Plan<ReleaseMeta> = {
    name: opts.name,
    decide: (seen) => decideRelease(intent, seen),
    limits: RELEASE_LIMITS,
  };
  const { by } = await resolve(op, plan, first);
  if (by?.base === undefined) return { forced: false }; // already gone, and ignoreNotFound
  if (!by.meta.forced) await recordRelease(ctx, by.base);
  return { released: toLockView(by.base, op.serverClock.now()), forced: by.meta.forced };
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
    ...toLockView(lock, op.serverClock.now()),
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
  return locks.map((lock) => toLockView(lock, serverNow));
}
