// `ls -w`: list the locks, then report every change until cancelled, the way client-go's reflector keeps a cache.
// One watch covers the whole selection, from the list's resourceVersion. When the stream ends (server timeout,
// silence) or breaks, it is opened again from the last resourceVersion seen, after a capped, jittered backoff
// (never a tight loop); when that resourceVersion is too old (410 Gone), the locks are listed again and the
// difference is reported. A lease that runs out changes no object, so no event says so: a timer on the server's
// clock reports the lock as EXPIRED at the moment a waiter could take it.

import type { LockContext, LockView } from './types.ts';
import { EXPIRY_ALLOWANCE_MS, expiryOf, isExpired, toLockView } from './record.ts';
import { Backoff } from './backoff.ts';
import { cancelledError, Operation, PROTOCOL_BACKOFF } from './operation.ts';
import { AmbiguousWriteError, RetryableError, type ListSelection, type StoredLock } from './store.ts';
import { CmlockError } from '../errors.ts';

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
  const signal = options.signal === undefined ? done.signal : AbortSignal.any([options.signal, done.signal]);
  const known = new Map<string, StoredLock>();
  const timers = new Map<string, AbortController>();
  const keyOf = (lock: StoredLock): string => `${lock.namespace}/${lock.name}`;

  const report = (type: LockChangeType, lock: StoredLock): void => {
    const now = op.serverClock.now();
    watcher.changed({ type, lock: toLockView(lock, now) }, now);
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
    const expiry = expiryOf(lock);
    if (expiry === undefined || !op.serverClock.known() || isExpired(lock, op.serverClock.now())) return;
    const timer = new AbortController();
    timers.set(key, timer);
    // The first whole millisecond at which the lock counts as expired (see isExpired).
    const delay = Math.floor(op.serverClock.monoAt(expiry + EXPIRY_ALLOWANCE_MS) - clock.now()) + 1;
    clock.sleep(Math.max(0, delay), AbortSignal.any([signal, timer.signal])).then(
      () => {
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

  /** Lists again after a 410 and reports what changed meanwhile; returns the list's resourceVersion. */
  const relist = async (): Promise<string> => {
    const result = await store.list(selection, { signal });
    op.serverClock.observe(result.time);
    const seen = new Set<string>();
    for (const lock of sorted(result.value)) {
      const key = keyOf(lock);
      seen.add(key);
      const before = known.get(key);
      if (before !== undefined && before.resourceVersion === lock.resourceVersion) continue;
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
      const result = await store.list(selection, s);
      return { value: result, time: result.time };
    });
    const locks = sorted(first.value);
    for (const lock of locks) remember(lock);
    const now = op.serverClock.now();
    watcher.listed(
      locks.map((lock) => toLockView(lock, now)),
      now,
    );

    let resourceVersion = first.resourceVersion ?? '';
    let mustList = false;
    const backoff = new Backoff(PROTOCOL_BACKOFF, () => clock.random());
    for (;;) {
      const openedAt = clock.now();
      try {
        if (mustList) {
          resourceVersion = await relist();
          mustList = false;
        }
        for await (const event of store.watchList(selection, resourceVersion, signal)) {
          if (event.type === 'GONE') {
            mustList = true;
            break;
          }
          backoff.reset();
          if (event.type === 'BOOKMARK') {
            resourceVersion = event.resourceVersion || resourceVersion;
            continue;
          }
          resourceVersion = event.lock.resourceVersion || resourceVersion;
          const key = keyOf(event.lock);
          if (event.type === 'DELETED') {
            forget(key);
            report('DELETED', event.lock);
          } else {
            const isNew = !known.has(key);
            remember(event.lock);
            report(isNew ? 'ADDED' : 'MODIFIED', event.lock);
          }
        }
      } catch (error) {
        if (done.signal.aborted || op.cancelled) break;
        if (!isTransient(error)) throw error;
      }
      if (done.signal.aborted || op.cancelled) break;
      // A stream that lasted is a normal end (the server's timeout): open the next one promptly.
      if (clock.now() - openedAt >= PROTOCOL_BACKOFF.maxMs) backoff.reset();
      try {
        await clock.sleep(backoff.next(), signal);
      } catch {
        break;
      }
    }
    if (op.cancelled) throw cancelledError(options.signal);
    throw done.signal.reason;
  } finally {
    done.abort();
  }
}

function sorted(locks: readonly StoredLock[]): StoredLock[] {
  const text = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...locks].sort((a, b) => text(a.namespace, b.namespace) || text(a.name, b.name));
}

/** Transport failures a watch rides out; any other CmlockError (403, 401, …) ends it: it will not heal. */
function isTransient(error: unknown): boolean {
  return error instanceof RetryableError || error instanceof AmbiguousWriteError || !(error instanceof CmlockError);
}
