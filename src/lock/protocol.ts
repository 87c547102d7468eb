// The lock protocol over a LockStore, modelled on client-go's tryAcquireOrRenew: every decision about one lock
// is in one function with numbered steps. Acquire = create; an expired lock is taken over by an update that
// carries the resourceVersion read; release = delete with uid and resourceVersion preconditions; renew = update
// with the resourceVersion. A write whose response was lost is resolved by reading back, never by a blind retry.

import type { CmlockError } from '../errors.ts';
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
  RenewOptions,
} from './types.ts';
import { formatDuration } from './duration.ts';
import { LockHeldError, LockMissingError, NotYourLockError } from './errors.ts';
import { lockLabels, validateLockName } from './names.ts';
import {
  DataKey,
  expiryOf,
  fenceOf,
  freshRecord,
  isExpired,
  newAcquisitionId,
  renewedRecord,
  sameAcquisition,
  toLockView,
} from './record.ts';
import { Backoff } from './backoff.ts';
import { Operation, PROTOCOL_BACKOFF } from './operation.ts';
import {
  AlreadyExistsError,
  AmbiguousWriteError,
  ConflictError,
  StoreNotFoundError,
  type LockWrite,
  type RequestOptions,
  type Result,
  type StoredLock,
} from './store.ts';
import { printable, quote } from './text.ts';
import { formatTime } from './time.ts';
import { waitForChange } from './wait.ts';

/** Writes whose answer was lost, at most, before the last one's error is reported. */
const MAX_ATTEMPTS = 8;

/** How long cleanup after Ctrl-C may take (reading back and deleting a lock we may have just taken). */
const CLEANUP_BUDGET_MS = 1000;

/** What to do with a lock as read (step 2 of acquire). */
type Decision = 'ours' | 'alreadyHeld' | 'takeover' | 'held';

function decide(lock: StoredLock, holder: Holder, acquisitionId: string, serverNowMs: number): Decision {
  if (lock.data[DataKey.acquisitionId] === acquisitionId) return 'ours';
  if (lock.data[DataKey.holderIdentity] === holder.identity) return 'alreadyHeld';
  if (isExpired(lock, serverNowMs)) return 'takeover';
  return 'held';
}

interface Acquired {
  lock: StoredLock;
  outcome: AcquireOutcome;
  previous?: StoredLock;
  leaseStartMono: number;
}

/** One acquire call's own state. */
interface Attempt {
  readonly acquisitionId: string;
  readonly startedMono: number;
  /** A write carrying acquisitionId may have taken effect unseen: a cancellation must look for a lock left behind. */
  sent: boolean;
}

/** Takes the lock: see AcquireOptions for ttl, timeout (0 = try once) and the rest. */
export async function acquire(ctx: LockContext, opts: AcquireOptions): Promise<AcquireResult> {
  validateLockName(opts.name);
  const startedMono = ctx.clock.now();
  const op = new Operation(ctx, opts.signal, opts.timeoutMs > 0 ? startedMono + opts.timeoutMs : undefined);
  const attempt: Attempt = { acquisitionId: newAcquisitionId(), startedMono, sent: false };
  let acquired: Acquired;
  try {
    acquired = await tryAcquire(ctx, op, opts, attempt);
    op.throwIfCancelled(); // Ctrl-C came while we were taking it: give it back below
  } catch (error) {
    if (op.cancelled && attempt.sent) await abandon(op, opts.name, attempt.acquisitionId);
    throw error;
  }
  const serverNow = op.serverClock.now();
  const result: AcquireResult = {
    lock: toLockView(acquired.lock, serverNow),
    outcome: acquired.outcome,
    leaseStartMono: acquired.leaseStartMono,
  };
  if (acquired.previous !== undefined) result.previous = toLockView(acquired.previous, serverNow);
  await recordAcquisition(ctx, opts, acquired);
  return result;
}

async function tryAcquire(ctx: LockContext, op: Operation, opts: AcquireOptions, attempt: Attempt): Promise<Acquired> {
  const { store, clock, holder } = ctx;
  const { name, ttlMs, reason } = opts;
  const { acquisitionId } = attempt;
  const backoff = new Backoff(PROTOCOL_BACKOFF, () => clock.random());
  const newLock = (): LockWrite => ({
    name,
    labels: lockLabels(opts.labels),
    // The previous holder's owner is dropped: its Pod's deletion must not take our lock with it.
    ownerReferences: opts.owner === undefined ? [] : [opts.owner],
    data: freshRecord({ holder, nowMs: op.serverClock.stamp(), ttlMs, reason, acquisitionId }),
  });
  let outcome: AcquireOutcome = 'acquired';
  let previous: StoredLock | undefined;
  let leaseStartMono = 0;
  let ambiguous = 0; // lost write responses, in all
  let refused = 0; // refused writes since we last waited

  // 0. Until a response has told us the server's clock we cannot stamp a record: read first (a held lock then
  //    needs no create either).
  let seen = op.serverClock.known() ? undefined : await op.get(name);
  for (;;) {
    let send: (options: RequestOptions) => Promise<Result<StoredLock>>;
    const sendMono = clock.now(); // before the record is stamped and sent: the lease runs from here
    if (seen === undefined) {
      // 1. Free, as far as we know: create it.
      outcome = 'acquired';
      previous = undefined;
      const lock = newLock();
      send = (o) => store.create(lock, o);
    } else {
      const current = seen;
      const serverNow = op.serverClock.now();
      switch (decide(current, holder, acquisitionId, serverNow)) {
        case 'ours':
          // 2. It carries our acquisition id: a write whose response was lost did take effect.
          return { lock: current, outcome, previous, leaseStartMono };
        case 'alreadyHeld': {
          // 3. Held by this identity already ("already held by you"): refresh its expiry; keep its
          //    acquisitionId, acquireTime and fence, so a re-run runbook step is harmless.
          outcome = 'alreadyHeld';
          previous = undefined;
          const lock: LockWrite = {
            name,
            labels: { ...current.labels, ...lockLabels(opts.labels) },
            ownerReferences: current.ownerReferences,
            data: renewedRecord(current, { nowMs: op.serverClock.stamp(), ttlMs, reason: reason || undefined }),
          };
          send = (o) => store.update(lock, current.resourceVersion, o);
          break;
        }
        case 'takeover': {
          // 4. Expired on the server's clock: take it over with an update carrying the resourceVersion we
          //    read. A fresh record without fence: this write's resourceVersion becomes the new fence.
          outcome = 'tookOver';
          previous = current;
          const lock = newLock();
          send = (o) => store.update(lock, current.resourceVersion, o);
          break;
        }
        case 'held':
          // 5. Held by someone else: report it (try once), or wait until it changes, goes or expires.
          if (opts.timeoutMs === 0) {
            throw new LockHeldError('acquire', { lock: current, serverNowMs: serverNow });
          }
          seen = await waitForChange(op.context(ctx), name, current, op.deadline, op.signal, {
            operation: 'acquire',
            startedMono: attempt.startedMono,
            wakeOn: (lock) => decide(lock, holder, acquisitionId, op.serverClock.now()) !== 'held',
          });
          refused = 0;
          continue;
      }
    }

    // 6. Write. AlreadyExists, Conflict or NotFound: someone else wrote first. A lost response: we cannot tell.
    //    Either way read it back and decide again from step 2; a later write carries a fresh precondition.
    //    A pause before the read-back after a lost response, or after a second refusal in a row (a lock that
    //    churns, or a store that disagrees with itself), so that this never becomes a tight loop.
    leaseStartMono = sendMono;
    if (outcome !== 'alreadyHeld') attempt.sent = true;
    const result = await writeOnce(op, send);
    if (result.done) return { lock: result.value, outcome, previous, leaseStartMono };
    if (result.ambiguous && ++ambiguous >= MAX_ATTEMPTS) throw result.error;
    if (!result.ambiguous) attempt.sent = ambiguous > 0; // refused: this write took nothing (an earlier one might)
    if (result.ambiguous || ++refused > 1) await op.pause(backoff.next());
    seen = await op.get(name);
  }
}

type WriteResult<T> = { done: true; value: T } | { done: false; ambiguous: boolean; error: CmlockError };

/** One conditional write. Throws what the protocol does not decide on (403, network, cancellation). */
async function writeOnce<T>(
  op: Operation,
  send: (options: RequestOptions) => Promise<Result<T>>,
): Promise<WriteResult<T>> {
  try {
    return { done: true, value: await op.request(send) };
  } catch (error) {
    if (error instanceof AmbiguousWriteError) return { done: false, ambiguous: true, error };
    if (error instanceof AlreadyExistsError || error instanceof ConflictError || error instanceof StoreNotFoundError) {
      return { done: false, ambiguous: false, error };
    }
    throw error;
  }
}

/** After Ctrl-C during acquire: delete the lock if a write of ours took it, so none is left behind. */
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

function who(holder: Holder): string {
  return holder.user ? `${printable(holder.identity)} (user ${printable(holder.user)})` : printable(holder.identity);
}

async function recordAcquisition(ctx: LockContext, opts: AcquireOptions, acquired: Acquired): Promise<void> {
  const lease = opts.ttlMs === 0 ? 'never expires' : `lease ${formatDuration(opts.ttlMs)}`;
  const reason = opts.reason === '' ? '' : `, reason ${quote(opts.reason)}`;
  const fence = fenceOf(acquired.lock);
  if (acquired.outcome === 'acquired') {
    await recordEvent(
      ctx,
      acquired.lock,
      'Acquired',
      `${who(ctx.holder)} acquired the lock, fence ${fence}, ${lease}${reason}`,
    );
  } else if (acquired.outcome === 'tookOver' && acquired.previous !== undefined) {
    const before = toLockView(acquired.previous, -Infinity);
    const expiry = expiryOf(acquired.previous);
    await recordEvent(
      ctx,
      acquired.lock,
      'TookOver',
      `${who(ctx.holder)} took over the lock from ${printable(before.holder) || 'an unknown holder'}, ` +
        `whose lease expired at ${expiry === undefined ? '?' : formatTime(expiry)}; fence ${fence}, ${lease}${reason}`,
    );
  }
}

/** Events are best effort: never fatal, whatever the store does. */
async function recordEvent(
  ctx: LockContext,
  lock: StoredLock,
  reason: string,
  message: string,
  type: 'Normal' | 'Warning' = 'Normal',
): Promise<void> {
  try {
    await ctx.store.recordEvent(lock, { reason, message, type });
  } catch {
    // recordEvent promises not to throw; a store that does must not fail the lock operation.
  }
}

/** Extends a lock this identity holds; `ttlMs` changes the lease. */
export async function renew(ctx: LockContext, opts: RenewOptions): Promise<LockView> {
  validateLockName(opts.name);
  const { store, holder } = ctx;
  const { name } = opts;
  const op = new Operation(ctx, opts.signal);
  const backoff = new Backoff(PROTOCOL_BACKOFF, () => ctx.clock.random());
  let conflicts = 0;
  let ambiguous = 0;
  // 1. Read it.
  let lock = await op.get(name);
  for (;;) {
    if (lock === undefined) throw new LockMissingError(name, store.namespace);
    // 2. Only its holder renews it.
    if (lock.data[DataKey.holderIdentity] !== holder.identity) {
      throw new NotYourLockError('renew', { lock, serverNowMs: op.serverClock.now() }, holder.identity);
    }
    // 3. Update with the resourceVersion read: new renewTime (and lease); same acquisition, fence written down.
    const current = lock;
    const data = renewedRecord(current, { nowMs: op.serverClock.stamp(), ttlMs: opts.ttlMs });
    const write: LockWrite = {
      name,
      labels: lockLabels(current.labels),
      ownerReferences: current.ownerReferences,
      data,
    };
    const result = await writeOnce(op, (o) => store.update(write, current.resourceVersion, o));
    if (result.done) return toLockView(result.value, op.serverClock.now());
    // 4. Conflict: it changed since we read it (perhaps taken over): read it once more and decide again.
    //    A lost response: read it back; if it carries our renewal, the renewal took effect.
    if (result.ambiguous) {
      if (++ambiguous >= MAX_ATTEMPTS) throw result.error;
      await op.pause(backoff.next());
    } else if (result.error instanceof ConflictError && ++conflicts > 1) {
      throw result.error;
    }
    lock = await op.get(name);
    const ourRenewal = lock !== undefined && lock.data[DataKey.renewTime] === data[DataKey.renewTime];
    if (result.ambiguous && lock !== undefined && ourRenewal && sameAcquisition(lock, current)) {
      return toLockView(lock, op.serverClock.now());
    }
  }
}

/** Releases a lock this identity holds, or with `force` anyone's (recorded). Deletes only the lock inspected. */
export async function release(ctx: LockContext, opts: ReleaseOptions): Promise<ReleaseResult> {
  validateLockName(opts.name);
  const { store, holder } = ctx;
  const { name } = opts;
  const op = new Operation(ctx, opts.signal);
  const backoff = new Backoff(PROTOCOL_BACKOFF, () => ctx.clock.random());
  /** The lock whose forced release was recorded, so a retry does not record it twice. */
  let forcedFrom: StoredLock | undefined;
  // 1. Read the lock.
  let lock = await op.get(name);
  for (let attempt = 1; ; attempt++) {
    if (lock === undefined) {
      if (opts.ignoreNotFound) return { forced: false };
      throw new LockMissingError(name, store.namespace);
    }
    // 2. Ours, or someone else's with --force, recorded before the delete (the event's object goes with it).
    const inspected = lock;
    const ours = inspected.data[DataKey.holderIdentity] === holder.identity;
    if (!ours && !opts.force) {
      throw new NotYourLockError('release', { lock: inspected, serverNowMs: op.serverClock.now() }, holder.identity);
    }
    if (!ours && forcedFrom === undefined) {
      forcedFrom = inspected;
      const before = toLockView(inspected, op.serverClock.now());
      await recordEvent(
        ctx,
        inspected,
        'ForceReleased',
        `${who(holder)} force-released the lock held by ${printable(before.holder) || 'an unknown holder'}`,
        'Warning',
      );
    }
    // 3. Delete exactly the object inspected: uid and resourceVersion preconditions.
    const preconditions = { uid: inspected.uid, resourceVersion: inspected.resourceVersion };
    const result = await writeOnce(op, (o) => store.delete(name, preconditions, o));
    const released = async (): Promise<ReleaseResult> => {
      if (ours) await recordEvent(ctx, inspected, 'Released', `${who(holder)} released the lock`);
      return { released: toLockView(inspected, op.serverClock.now()), forced: !ours };
    };
    if (result.done) return released();
    if (attempt >= MAX_ATTEMPTS) throw result.error;
    if (result.ambiguous) await op.pause(backoff.next());
    // 4. Conflict or NotFound: it changed since we looked. A lost response: we cannot tell. Look again.
    lock = await op.get(name);
    if (result.ambiguous && (lock === undefined || lock.uid !== inspected.uid)) return released();
    // 5. Never delete someone else's newer lock, --force or not; the same acquisition renewed is still the one.
    if (
      lock !== undefined &&
      !sameAcquisition(lock, inspected) &&
      lock.data[DataKey.holderIdentity] !== holder.identity
    ) {
      throw new NotYourLockError('release', { lock, serverNowMs: op.serverClock.now() }, holder.identity, true);
    }
  }
}

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

/** Locks sorted by namespace, then name. */
export async function list(ctx: LockContext, options: ListOptions = {}): Promise<LockView[]> {
  const op = new Operation(ctx, options.signal);
  const query: { labelSelector?: string; allNamespaces?: boolean } = {};
  if (options.labelSelector !== undefined) query.labelSelector = options.labelSelector;
  if (options.allNamespaces !== undefined) query.allNamespaces = options.allNamespaces;
  const locks = await op.request((o) => ctx.store.list(query, o));
  const serverNow = op.serverClock.now();
  return locks
    .map((lock) => toLockView(lock, serverNow))
    .sort((a, b) => compareText(a.namespace, b.namespace) || compareText(a.name, b.name));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
