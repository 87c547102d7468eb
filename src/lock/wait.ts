// Waiting for a held lock without polling: one watch on that one object, plus a timer for the moment it expires
// on the server's clock (a dead holder produces no event). The API load does not grow with the wait: the watch
// is re-opened only when its stream ends or fails, after a re-read and a capped, jittered backoff. After a
// machine suspend the server's clock is forgotten and the lock re-read at once (watch-loop.ts).

import { LinkedAbort } from './abort.ts';
import { LockHeldError } from './errors.ts';
import type { LockContext, LockView, WaitOptions, WaitStatus } from './types.ts';
import { validateLockName } from './names.ts';
import { cancelledError, Operation } from './operation.ts';
import { isExpired, toLockView } from './record.ts';
import { ServerClock } from './server-clock.ts';
import type { StoredLock } from './store.ts';
import { keepWatching, msUntilExpired, type WatchLoop } from './watch-loop.ts';

const PROGRESS_INTERVAL_MS = 1000;

export interface WaitForChangeOptions {
  /** Who waits: the timeout's HeldError says so. */
  operation: 'acquire' | 'wait';
  /** When the caller started waiting (local monotonic ms), for progress and the timeout message. */
  startedMono?: number;
  /**
   * Whether a modified lock should end the wait. Default: any modification. acquire passes "no longer held by
   * someone else", so a holder's renewals only move the expiry timer and keep the same watch open.
   */
  wakeOn?: (lock: StoredLock) => boolean;
}

/**
 * Resolves with the lock's new state when it is deleted (undefined), modified (see wakeOn) or expired on the
 * server's clock. Rejects with HeldError at deadlineMono ("timed out after …") and with the cancellation error
 * when `signal` fires.
 */
export function waitForChange(
  ctx: LockContext,
  name: string,
  seen: StoredLock,
  deadlineMono: number | undefined,
  signal: AbortSignal | undefined,
  options: WaitForChangeOptions,
): Promise<StoredLock | undefined> {
  const { clock, store } = ctx;
  const serverClock = ctx.serverClock ?? new ServerClock(clock);
  const startedMono = options.startedMono ?? clock.now();
  const wakeOn = options.wakeOn ?? (() => true);
  const done = new AbortController();
  /** Ends with the wait, or with the caller's signal. */
  const stop = new LinkedAbort(signal, done.signal).signal;
  let latest = seen;
  /** Time that passed while the machine was suspended: waited, though no local timer saw it. */
  let unseenMs = 0;

  return new Promise<StoredLock | undefined>((resolve, reject) => {
    const settle = (finish: () => void) => {
      if (done.signal.aborted) return;
      done.abort(); // ends the watch stream and every timer below
      finish();
    };
    const wake = (lock: StoredLock | undefined) => settle(() => resolve(lock));
    const fail = (error: unknown) => settle(() => reject(error));

    /** Runs `then` after `ms` on the injected clock unless the wait ends (or `cancel` fires) first. */
    const after = (ms: number, then: () => void, cancel?: AbortSignal) => {
      const until = cancel === undefined ? undefined : new LinkedAbort(stop, cancel);
      clock
        .sleep(Math.max(0, ms), until?.signal ?? stop)
        .finally(() => until?.release())
        .then(then, () => {})
        .catch(fail);
    };

    // The expiry timer, re-armed whenever the lock we know of changes.
    let expiryTimer = new AbortController();
    const armExpiry = () => {
      expiryTimer.abort();
      expiryTimer = new AbortController();
      const delay = msUntilExpired(latest, serverClock, clock);
      if (delay === 0) return wake(latest);
      if (delay !== undefined) after(delay, armExpiry, expiryTimer.signal);
    };
    const changed = (lock: StoredLock) => {
      if (wakeOn(lock)) return wake(lock);
      latest = lock;
      armExpiry();
    };

    if (signal?.aborted) return fail(cancelledError(signal));
    signal?.addEventListener('abort', () => fail(cancelledError(signal)), { once: true, signal: done.signal });
    if (deadlineMono !== undefined) {
      // Monotonic times are fractional; their difference is the whole-millisecond timeout give or take 1e-12.
      const timeoutMs = Math.round(deadlineMono - startedMono);
      const timedOut = () =>
        fail(new LockHeldError(options.operation, { lock: latest, serverNowMs: serverClock.now() }, timeoutMs));
      if (clock.now() >= deadlineMono) return timedOut();
      after(deadlineMono - clock.now(), timedOut);
    }
    armExpiry();
    if (ctx.progress !== undefined) {
      const report = ctx.progress;
      const tick = () => {
        try {
          report(waitStatus(latest, serverClock.now(), clock.now() - startedMono + unseenMs));
        } catch {
          // progress is for people; a failing status line must not end the wait
        }
        after(PROGRESS_INTERVAL_MS, tick);
      };
      tick();
    }

    // One watch on this one lock; after every end or failure, a re-read (the lock may have changed unseen).
    const loop: WatchLoop = {
      open: (from, stop) => store.watch(name, from, stop),
      changed: (event) => {
        if (event.type === 'DELETED') wake(undefined);
        else if (event.type !== 'BOOKMARK') changed(event.lock);
      },
      resync: async (stop) => {
        const result = await store.get(name, { signal: stop });
        serverClock.observe(result.time);
        const current = result.value;
        if (current === undefined) wake(undefined);
        else if (current.resourceVersion !== latest.resourceVersion) changed(current);
        else armExpiry(); // the server's time may be known again (after a suspend): time the expiry on it
        return current?.resourceVersion ?? latest.resourceVersion;
      },
      resyncAfter: 'always',
      suspended: (jump) => {
        unseenMs += jump.ms;
        serverClock.forget();
        expiryTimer.abort();
      },
    };
    keepWatching(clock, loop, latest.resourceVersion, stop, ctx.times).catch(fail);
  });
}

function waitStatus(lock: StoredLock, serverNowMs: number, waitedMs: number): WaitStatus {
  const view = toLockView(lock, serverNowMs);
  return {
    name: view.name,
    namespace: view.namespace,
    holder: view.holder,
    acquireTime: view.acquireTime || view.creationTimestamp,
    expiresAt: view.expiresAt,
    waitedMs,
  };
}

/**
 * `wait NAME`: resolves when the lock does not exist (undefined) or has expired (its view). timeoutMs 0 checks
 * once; at the timeout it throws HeldError.
 */
export async function waitUntilFree(ctx: LockContext, opts: WaitOptions): Promise<LockView | undefined> {
  validateLockName(opts.name);
  const startedMono = ctx.clock.now();
  const deadline = opts.timeoutMs > 0 ? startedMono + opts.timeoutMs : undefined;
  const op = new Operation(ctx, opts.signal, deadline);
  const expired = (lock: StoredLock) => isExpired(lock, op.serverClock.now());
  let lock = await op.get(opts.name);
  for (;;) {
    if (lock === undefined) return undefined;
    if (expired(lock)) return toLockView(lock, op.serverClock.now());
    if (opts.timeoutMs === 0) throw new LockHeldError('wait', { lock, serverNowMs: op.serverClock.now() });
    lock = await waitForChange(op.context(), opts.name, lock, deadline, opts.signal, {
      operation: 'wait',
      startedMono,
      wakeOn: expired,
    });
  }
}
