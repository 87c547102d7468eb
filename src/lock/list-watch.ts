// `ls -w`: list the locks, then report every change until cancelled, the way client-go's reflector keeps a cache.
// One watch covers the whole selection, from the list's resourceVersion, kept open by watch-loop.ts: resumed from
// the last resourceVersion seen when it ends or breaks, and when that is too old (410 Gone), the locks are listed
// again and the difference is reported. A lease that runs out changes no object, so no event says so: a timer on
// the server's clock reports the lock as EXPIRED at the moment a waiter could take it. The Go library's locks
// carry no label to select them by, so the watch covers every ConfigMap of the selection and reports the locks
// among them (lock/listing.ts): one that stops being a lock is reported DELETED, one that becomes one ADDED.

import type { LockContext, LockView } from './types.ts';
import { LinkedAbort } from './abort.ts';
import { cancelledError, Operation } from './operation.ts';
import { isListed, isReplayed, listLocks } from './listing.ts';
import type { ListSelection, StoredLock } from './store.ts';
import { lockView } from './view.ts';
import { keepWatching, msUntilExpired, type WatchLoop } from './watch-loop.ts';

/** ADDED, MODIFIED and DELETED as the API server reports them; EXPIRED when a lease runs out (no API event). */
export type LockChangeType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'EXPIRED';

export interface LockChange {
  readonly type: LockChangeType;
  /** The lock now; for DELETED, as the server last had it. */
  readonly lock: LockView;
}

/** Receives the first list, then each change. `serverNow` (epoch ms) is what relative times are printed against. */
export interface LockWatcher {
  listed(locks: LockView[], serverNow: number): void;
  changed(change: LockChange, serverNow: number): void;
}

export interface WatchLocksOptions extends ListSelection {
  signal?: AbortSignal;
}

/**
 * A change users cannot see is no news: the update that makes a lock created outside a Pod its own owner
 * (lock/owners.ts) follows every such create and changes nothing a view shows. A waiter joining or leaving the
 * queue, or a holder coming or going beside others, does change the view (WAITING, HOLDERS): that is news.
 */
function looksTheSame(a: StoredLock, b: StoredLock, serverNow: number): boolean {
  return JSON.stringify(lockView(a, serverNow)) === JSON.stringify(lockView(b, serverNow));
}

/**
 * Lists, then watches until `options.signal` fires (rejects with the cancellation error) or the server refuses
 * something that will not heal by itself (a 403 on watch, say: rejects with that error). Never resolves.
 */
export async function watchLocks(ctx: LockContext, options: WatchLocksOptions, watcher: LockWatcher): Promise<never> {
  const { store, clock } = ctx;
  const op = new Operation(ctx, options.signal);
  const selection: ListSelection = {};
  if (options.labelSelector !== undefined) selection.labelSelector = options.labelSelector;
  if (options.allNamespaces !== undefined) selection.allNamespaces = options.allNamespaces;
  /** Ends the expiry timers and the watch when this function returns; a failing watcher aborts it too. */
  const done = new AbortController();
  const signal = new LinkedAbort(options.signal, done.signal).signal;
  const known = new Map<string, StoredLock>();
  const timers = new Map<string, LinkedAbort>();
  const keyOf = (lock: StoredLock): string => `${lock.namespace}/${lock.name}`;

  const report = (type: LockChangeType, lock: StoredLock): void => {
    const now = op.serverClock.now();
    watcher.changed({ type, lock: lockView(lock, now) }, now);
  };

  const forget = (key: string): void => {
    timers.get(key)?.abort();
    timers.delete(key);
    known.delete(key);
  };

  /** Remembers the lock and sets the timer that reports it EXPIRED (re-set by every change). */
  const remember = (lock: StoredLock): void => {
    const key = keyOf(lock);
    forget(key);
    known.set(key, lock);
    const delay = msUntilExpired(lock, op.serverClock, clock);
    if (delay === undefined || delay === 0) return; // never expires, or its status already says Expired
    const timer = new LinkedAbort(signal);
    timers.set(key, timer);
    clock.sleep(delay, timer.signal).then(
      () => {
        timer.release();
        timers.delete(key);
        if (known.get(key) !== lock) return;
        try {
          report('EXPIRED', lock);
        } catch (error) {
          done.abort(error);
        }
      },
      () => {},
    );
  };

  /** Set after a machine suspend: the EXPIRED timers ran on a clock that missed time; set them again. */
  let rearm = false;

  /** Lists again after a 410 (or a suspend) and reports what changed meanwhile; returns the list's resourceVersion. */
  const relist = async (): Promise<string> => {
    const result = await listLocks(store, selection, { signal });
    op.serverClock.observe(result.time);
    const seen = new Set<string>();
    const again = rearm;
    rearm = false;
    for (const lock of result.value) {
      const key = keyOf(lock);
      seen.add(key);
      const before = known.get(key);
      if (before !== undefined && before.resourceVersion === lock.resourceVersion) {
        if (!again) continue;
        // Unchanged, but its lease may have run out while the machine slept: time it again, or say so now.
        const pending = timers.has(key);
        remember(lock);
        if (pending && !timers.has(key) && msUntilExpired(lock, op.serverClock, clock) === 0) report('EXPIRED', lock);
        continue;
      }
      remember(lock);
      report(before === undefined ? 'ADDED' : 'MODIFIED', lock);
    }
    for (const [key, lock] of [...known]) {
      if (seen.has(key)) continue;
      forget(key);
      report('DELETED', lock);
    }
    return result.resourceVersion ?? '';
  };

  try {
    const first = await op.request(async (s) => {
      const result = await listLocks(store, selection, s);
      return { value: result, time: result.time };
    });
    const locks = first.value;
    for (const lock of locks) remember(lock);
    const now = op.serverClock.now();
    watcher.listed(
      locks.map((lock) => lockView(lock, now)),
      now,
    );

    // One watch over the whole selection, resumed from the last resourceVersion seen; listed again after a 410.
    const loop: WatchLoop = {
      open: (from, stop) => store.watchList(selection, from, stop),
      changed: (event) => {
        if (event.type === 'BOOKMARK') return;
        const key = keyOf(event.lock);
        const before = known.get(key);
        if (event.type === 'DELETED') {
          // Only the object known: a ConfigMap that was no lock, or an older one of that name, is not news.
          if (before?.uid !== event.lock.uid) return;
          forget(key);
          report('DELETED', event.lock);
        } else if (!isListed(event.lock)) {
          // No lock any more (its shape changed); a ConfigMap that never was one is none of our business.
          if (before === undefined) return;
          forget(key);
          report('DELETED', before);
        } else if (!isReplayed(event.lock, before)) {
          // (Replayed: the watch starts from the older of the two lists' versions, so what they showed comes again.)
          const news = before === undefined || !looksTheSame(before, event.lock, op.serverClock.now());
          remember(event.lock);
          if (news) report(before === undefined ? 'ADDED' : 'MODIFIED', event.lock);
        }
      },
      resync: relist,
      resyncAfter: 'gone',
      suspended: () => {
        op.serverClock.forget();
        rearm = true;
      },
    };
    await keepWatching(clock, loop, first.resourceVersion ?? '', signal, ctx.times);
    if (op.cancelled) throw cancelledError(options.signal);
    throw done.signal.reason;
  } finally {
    done.abort();
  }
}
