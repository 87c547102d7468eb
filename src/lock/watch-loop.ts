// The one engine that keeps a watch open for as long as someone waits on a lock (wait.ts: one lock; list-watch.ts:
// `ls -w`, a selection). A stream that ends (the server's timeout, silence) or fails with a transport error is
// opened again after the shared backoff, never in a tight loop; when the resourceVersion is too old (410 Gone),
// or after every end for a caller that asks so, the state is read again first (resync). A lease that runs out
// changes no object and produces no event, so callers also set a timer for it: msUntilExpired says when.
// After a machine suspend (time-jumps.ts) the current stream is ended and the state read again at once: the
// caller's expiry timers and its idea of the server's clock ran on a monotonic clock that missed that time.

import { CmlockError } from '../errors.ts';
import { LinkedAbort } from './abort.ts';
import { Backoff } from './backoff.ts';
import { PROTOCOL_BACKOFF } from './operation.ts';
import { EXPIRY_ALLOWANCE_MS, expiryOf, isExpired } from './record.ts';
import type { ServerClock } from './server-clock.ts';
import { AmbiguousWriteError, RetryableError, type StoredLock, type WatchEvent } from './store.ts';
import { watchTimeJumps, type LocalTimes, type TimeJump } from './time-jumps.ts';
import type { Clock } from './types.ts';

/** A change the watch reports: everything but GONE, which the loop handles itself. */
export type WatchChange = Exclude<WatchEvent, { type: 'GONE' }>;

export interface WatchLoop {
  /** Opens one stream from `resourceVersion` (LockStore.watch or watchList). */
  open(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent>;
  /** One change, in order. */
  changed(event: WatchChange): void;
  /** Reads the state again and reports what changed; resolves with the resourceVersion to watch from. */
  resync(signal: AbortSignal): Promise<string>;
  /** 'gone': only when the stream says its resourceVersion is too old; 'always': after every end or failure. */
  readonly resyncAfter: 'gone' | 'always';
  /**
   * The machine was suspended: what the caller knows of the server's clock is wrong (forget it) and its timers
   * are late. The loop then resyncs at once. Called only when keepWatching is given the local clocks.
   */
  suspended?(jump: TimeJump): void;
}

/**
 * Watches from `resourceVersion` until `stop` fires (resolves) or an error that will not heal by itself (a 403 on
 * watch, say) is thrown by the store or by the loop's callbacks (rejects with it). `resyncFirst`: the state is not
 * known yet (no resourceVersion to watch from): read it before the first watch.
 */
export async function keepWatching(
  clock: Clock,
  loop: WatchLoop,
  resourceVersion: string,
  stop: AbortSignal,
  times?: LocalTimes,
  resyncFirst = false,
): Promise<void> {
  const backoff = new Backoff(PROTOCOL_BACKOFF, () => clock.random());
  let from = resourceVersion;
  let mustResync = resyncFirst;
  /** The current stream's signal: `stop`, or an early end after a suspend. */
  let stream = new LinkedAbort(stop);
  let suspended = false;
  if (times !== undefined && loop.suspended !== undefined) {
    const onSuspend = loop.suspended.bind(loop);
    watchTimeJumps(
      clock,
      times,
      (jump) => {
        if (jump.kind !== 'suspend') return; // a stall loses no time: timers fire late, on a clock still right
        onSuspend(jump);
        suspended = true;
        mustResync = true;
        stream.abort();
      },
      stop,
    );
  }
  try {
    while (!stop.aborted) {
      const openedAt = clock.now();
      stream.release();
      stream = new LinkedAbort(stop);
      try {
        if (mustResync) {
          suspended = false;
          from = await loop.resync(stop);
          mustResync = false;
          if (stop.aborted) return;
        }
        for await (const event of loop.open(from, stream.signal)) {
          if (stop.aborted) return;
          if (stream.signal.aborted) break;
          if (event.type === 'GONE') {
            mustResync = true;
            break;
          }
          backoff.reset();
          const next = event.type === 'BOOKMARK' ? event.resourceVersion : event.lock.resourceVersion;
          from = next || from;
          loop.changed(event);
          if (stop.aborted) return;
        }
      } catch (error) {
        if (stop.aborted) return;
        if (!stream.signal.aborted && !isTransient(error)) throw error;
      }
      if (stop.aborted) return;
      if (suspended) continue; // read again at once: nothing failed, time passed unseen
      if (loop.resyncAfter === 'always') mustResync = true;
      // A stream that lasted is a normal end (the server's timeout): open the next one promptly.
      if (clock.now() - openedAt >= PROTOCOL_BACKOFF.maxMs) backoff.reset();
      try {
        await clock.sleep(backoff.next(), stop);
      } catch {
        return;
      }
    }
  } finally {
    stream.release();
  }
}

/**
 * Transport failures a watch rides out (thrown by the transport as plain errors, or mapped to RetryableError /
 * AmbiguousWriteError). Any other CmlockError (403, 401, …) ends it: it will not heal by itself.
 */
function isTransient(error: unknown): boolean {
  return error instanceof RetryableError || error instanceof AmbiguousWriteError || !(error instanceof CmlockError);
}

/**
 * Local ms until `lock` counts as expired on the server's clock (isExpired: the first whole millisecond past the
 * expiry and its allowance), at least 1; 0 when it already does; undefined when it never will, or while the server's clock is
 * unknown (nothing is judged expired on no evidence).
 */
export function msUntilExpired(lock: StoredLock, serverClock: ServerClock, clock: Clock): number | undefined {
  const expiry = expiryOf(lock);
  if (expiry === undefined || !serverClock.known()) return undefined;
  if (isExpired(lock, serverClock.now())) return 0;
  return Math.max(1, Math.floor(serverClock.monoAt(expiry + EXPIRY_ALLOWANCE_MS) - clock.now()) + 1);
}
