// The Kubernetes Events the protocol records on a lock (acquired, taken over, released, broken), for `describe`
// and `kubectl get events`. Best effort: RBAC may forbid them, and no lock operation fails for an Event.

import { formatDuration } from './duration.ts';
import { expiryOf, fenceOf, toLockView } from './record.ts';
import type { StoredLock } from './store.ts';
import { printable, quote } from './text.ts';
import { formatTime } from './time.ts';
import type { AcquireOptions, AcquireOutcome, Holder, LockContext } from './types.ts';

/** `alice@host1 (user alice)`: who did it, as the Event says. */
function who(holder: Holder): string {
  return holder.user ? `${printable(holder.identity)} (user ${printable(holder.user)})` : printable(holder.identity);
}

/** Acquired or TookOver (an acquire by the holder itself records nothing). */
export async function recordAcquisition(
  ctx: LockContext,
  opts: AcquireOptions,
  acquired: { lock: StoredLock; outcome: AcquireOutcome; previous?: StoredLock | undefined; fence?: string },
): Promise<void> {
  const lease = opts.ttlMs === 0 ? 'never expires' : `lease ${formatDuration(opts.ttlMs)}`;
  const reason = opts.reason === '' ? '' : `, reason ${quote(opts.reason)}`;
  const fence = acquired.fence ?? fenceOf(acquired.lock);
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

/** Before a forced delete: the Event's object goes with it, so it is recorded first. */
export function recordForcedRelease(ctx: LockContext, lock: StoredLock): Promise<void> {
  const holder = toLockView(lock, -Infinity).holder;
  return recordEvent(
    ctx,
    lock,
    'ForceReleased',
    `${who(ctx.holder)} force-released the lock held by ${printable(holder) || 'an unknown holder'}`,
    'Warning',
  );
}

/** `handedTo`: the waiters the release offered the lock to (first in line). */
export function recordRelease(ctx: LockContext, lock: StoredLock, handedTo: readonly string[] = []): Promise<void> {
  const handed = handedTo.length === 0 ? '' : `; handed it to ${handedTo.map((h) => printable(h)).join(', ')}`;
  return recordEvent(ctx, lock, 'Released', `${who(ctx.holder)} released the lock${handed}`);
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
