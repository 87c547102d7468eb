// What users see of a lock with its holders and queue: record.ts toLockView (the ten keys), plus the holders of a
// shared lock or semaphore, its limit and the queue, each only where it applies, so that a plain lock looks (and
// prints as JSON) exactly as before the queue existed.

import { liveHolders, liveWaiters, occupantsOf, holderExpiry, holderFence, type HolderEntry } from './queue.ts';
import { toLockView } from './record.ts';
import type { StoredLock } from './store.ts';
import { rfc3339 } from './time.ts';
import type { HolderView, LockView, WaiterView } from './types.ts';

/**
 * The lock at serverNowMs. `mine` (an acquisition id): for a shared lock or semaphore, the top-level fields then
 * describe that hold rather than the summary (what acquire and renew print: your own fence and expiry).
 */
export function lockView(lock: StoredLock, serverNowMs: number, mine?: string): LockView {
  const view = toLockView(lock, serverNowMs);
  const occ = occupantsOf(lock);
  if (occ.multi) {
    const live = new Set(liveHolders(lock, occ, serverNowMs));
    view.holders = occ.holders.map((h) => holderView(lock, h, live.has(h)));
    if (occ.limit > 1) view.limit = occ.limit;
    const own = mine === undefined ? undefined : occ.holders.find((h) => h.acquisitionId === mine);
    if (own !== undefined) Object.assign(view, ownFields(holderView(lock, own, live.has(own))));
  }
  const waiting = liveWaiters(occ, serverNowMs);
  if (waiting.length > 0) {
    view.waiters = waiting.map((w): WaiterView => ({
      identity: w.identity,
      user: w.user,
      host: w.host,
      since: w.since,
      reason: w.reason,
      shared: w.shared === true,
    }));
  }
  return view;
}

function holderView(lock: StoredLock, h: HolderEntry, live: boolean): HolderView {
  const end = holderExpiry(h);
  return {
    holder: h.identity,
    user: h.user,
    host: h.host,
    acquireTime: h.acquireTime,
    renewTime: h.renewTime,
    leaseDurationSeconds: h.leaseDurationSeconds,
    expiresAt: end === undefined ? '' : rfc3339(end),
    status: live ? 'Held' : 'Expired',
    reason: h.reason,
    fence: holderFence(lock, h),
    shared: h.shared === true,
  };
}

/** The top-level fields a hold replaces (all but `shared`, which the view has no field for). */
function ownFields(h: HolderView): Partial<LockView> {
  const fields: Partial<LockView> & { shared?: boolean } = { ...h };
  delete fields.shared;
  return fields;
}

/** Where `mine` stands in the queue: 1-based position and the queue's length; undefined when not in it. */
export function queuePosition(
  lock: StoredLock,
  serverNowMs: number,
  mine: string,
): { position: number; waiting: number } | undefined {
  const queue = liveWaiters(occupantsOf(lock), serverNowMs, mine);
  const index = queue.findIndex((w) => w.acquisitionId === mine);
  return index < 0 ? undefined : { position: index + 1, waiting: queue.length };
}
