// Waiting for a lock without taking it (`wait NAME`), and without polling: one watch on that one object, plus a
// timer for the moment it becomes free on the server's clock (a dead holder produces no event), both kept by
// follow.ts. `wait` does not queue: it returns when an `acquire --timeout 0` of the same kind would succeed.

import { LockHeldError } from './errors.ts';
import { LockFollower } from './follow.ts';
import { validateLockName } from './names.ts';
import { Operation } from './operation.ts';
import { fits, holderExpiry, liveHolders, liveWaiters, occupantsOf, waiterStaleAt } from './queue.ts';
import { EXPIRY_ALLOWANCE_MS, expiryOf } from './record.ts';
import { ServerClock } from './server-clock.ts';
import type { StoredLock } from './store.ts';
import type { LockContext, LockView, WaitOptions } from './types.ts';
import { lockView } from './view.ts';
import { msUntilExpired } from './watch-loop.ts';

export interface WaitForChangeOptions {
  /** Who waits: the timeout's HeldError says so. */
  operation: 'acquire' | 'wait';
  /** When the caller started waiting (local monotonic ms), for progress and the timeout message. */
  startedMono?: number;
  /** Whether a modified lock should end the wait. Default: any modification. */
  wakeOn?: (lock: StoredLock) => boolean;
}

/**
 * Resolves with the lock's new state when it is deleted (undefined), modified (see wakeOn) or expired on the
 * server's clock. Rejects with HeldError at deadlineMono ("timed out after …") and with the cancellation error
 * when `signal` fires.
 */
export async function waitForChange(
  ctx: LockContext,
  name: string,
  seen: StoredLock,
  deadlineMono: number | undefined,
  signal: AbortSignal | undefined,
  options: WaitForChangeOptions,
): Promise<StoredLock | undefined> {
  const serverClock = ctx.serverClock ?? new ServerClock(ctx.clock);
  const follower = new LockFollower({ ...ctx, serverClock }, name, {
    operation: options.operation,
    startedMono: options.startedMono ?? ctx.clock.now(),
    ...(deadlineMono === undefined ? {} : { deadlineMono }),
    ...(signal === undefined ? {} : { signal }),
  });
  const wakeOn = options.wakeOn ?? (() => true);
  try {
    follower.start(seen);
    return await follower.next((lock) => {
      if (lock === undefined) return { wake: true };
      if (lock.resourceVersion !== seen.resourceVersion && wakeOn(lock)) return { wake: true };
      const delay = msUntilExpired(lock, serverClock, ctx.clock);
      if (delay === 0) return { wake: true };
      return delay === undefined ? { wake: false } : { wake: false, at: ctx.clock.now() + delay };
    });
  } finally {
    follower.close();
  }
}

/**
 * Whether the lock is free for a claim of this kind: nobody in line, and room beside its live holders (no holder
 * for an exclusive claim, no exclusive holder for a shared one, a slot of a semaphore). Else when to look again
 * (server epoch ms: the first lease to run out, the first waiter to go stale), or never by time alone.
 */
export function freeFor(
  lock: StoredLock,
  claim: { shared: boolean },
  nowMs: number,
): { free: true } | { free: false; recheckAt?: number } {
  const occ = occupantsOf(lock);
  const waiters = liveWaiters(occ, nowMs);
  const live = liveHolders(lock, occ, nowMs);
  if (waiters.length === 0 && fits(claim, live, occ.limit)) return { free: true };
  const ends = [
    ...waiters.map((w) => waiterStaleAt(w) + 1),
    ...live
      .map((h) => (occ.multi ? holderExpiry(h) : expiryOf(lock)))
      .filter((t): t is number => t !== undefined)
      .map((t) => t + EXPIRY_ALLOWANCE_MS + 1),
  ];
  const recheckAt = Math.min(...ends);
  return Number.isFinite(recheckAt) ? { free: false, recheckAt } : { free: false };
}

/**
 * `wait NAME`: resolves when the lock does not exist (undefined) or is free for the kind of claim (see freeFor;
 * its view). timeoutMs 0 checks once; at the timeout it throws HeldError.
 */
export async function waitUntilFree(ctx: LockContext, opts: WaitOptions): Promise<LockView | undefined> {
  validateLockName(opts.name);
  const startedMono = ctx.clock.now();
  const deadline = opts.timeoutMs > 0 ? startedMono + opts.timeoutMs : undefined;
  const op = new Operation(ctx, opts.signal, deadline);
  const claim = { shared: opts.shared === true };
  const first = await op.get(opts.name);
  if (first === undefined) return undefined;
  const now = () => op.serverClock.now();
  if (freeFor(first, claim, now()).free) return lockView(first, now());
  if (opts.timeoutMs === 0) throw new LockHeldError('wait', { lock: first, serverNowMs: now() });
  const follower = new LockFollower(op.context(), opts.name, {
    operation: 'wait',
    startedMono,
    ...(deadline === undefined ? {} : { deadlineMono: deadline }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  try {
    follower.start(first);
    const lock = await follower.next((current) => {
      if (current === undefined) return { wake: true };
      const verdict = freeFor(current, claim, now());
      if (verdict.free) return { wake: true };
      if (verdict.recheckAt === undefined || !op.serverClock.known()) return { wake: false };
      return { wake: false, at: op.serverClock.monoAt(verdict.recheckAt) };
    });
    return lock === undefined ? undefined : lockView(lock, now());
  } finally {
    follower.close();
  }
}
