// The timings of `run`, checked as client-go's NewLeaderElector checks its own: one exact message per rule.
//
//   lease        how long the lock lives without renewal (--ttl)
//   retryPeriod  how often `run` renews
//   renewDeadline how long `run` may go without a successful renewal before it declares the lock lost and
//                sends CMD SIGTERM
//   killAfter    how long CMD then has before SIGKILL (--kill-after)
//
// CMD must be gone before anyone else may take the lock, so lease > renewDeadline + killAfter, counted from the
// instant before the last successful renewal was sent (the holder's clock never runs ahead of its lease).

import { UsageError } from '../errors.ts';

/** As client-go's: a renewal may come up to 1.2 retry periods apart (wait.JitterUntil). */
export const JITTER_FACTOR = 1.2;

export const TTL_NEGATIVE = '--ttl must not be negative';
export const KILL_AFTER_NEGATIVE = '--kill-after must not be negative';
export const RETRY_PERIOD_NOT_POSITIVE = 'the renew period must be greater than zero';
export const RENEW_DEADLINE_TOO_SHORT = `the renew deadline must be greater than ${JITTER_FACTOR} times the renew period`;
export const LEASE_TOO_SHORT =
  '--ttl must be greater than the renew deadline plus --kill-after, so that CMD is stopped before the lock can expire';

export interface RunTimings {
  /** 0 = the lock never expires and `run` does not renew it. */
  leaseMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  killAfterMs: number;
}

/** Throws UsageError with one of the messages above for the first rule that is broken. */
export function validateRunTimings(t: RunTimings): void {
  if (t.leaseMs < 0) throw new UsageError(TTL_NEGATIVE);
  if (t.killAfterMs < 0) throw new UsageError(KILL_AFTER_NEGATIVE);
  if (t.leaseMs === 0) return;
  if (!(t.retryPeriodMs > 0)) throw new UsageError(RETRY_PERIOD_NOT_POSITIVE);
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs)) throw new UsageError(RENEW_DEADLINE_TOO_SHORT);
  if (!(t.leaseMs > t.renewDeadlineMs + t.killAfterMs)) throw new UsageError(LEASE_TOO_SHORT);
}

/**
 * Timings derived from --ttl and --kill-after. The renew deadline is two thirds of the lease, shortened (down to
 * a third) so that renewDeadline + killAfter leaves a sixth of the lease as headroom for signal delivery, exit and
 * the last request in flight. The renew period is half the renew deadline (a third of the lease unless shortened),
 * so a renewal gets two tries before the deadline. A --kill-after of more than half the lease leaves no room: the
 * deadline then stays at two thirds and validateRunTimings reports LEASE_TOO_SHORT.
 */
export function defaultRunTimings(leaseMs: number, killAfterMs: number): RunTimings {
  if (leaseMs <= 0) return { leaseMs, renewDeadlineMs: 0, retryPeriodMs: 0, killAfterMs };
  const twoThirds = Math.floor((leaseMs * 2) / 3);
  const withHeadroom = Math.floor(leaseMs - killAfterMs - leaseMs / 6);
  const renewDeadlineMs = withHeadroom >= Math.floor(leaseMs / 3) ? Math.min(twoThirds, withHeadroom) : twoThirds;
  return { leaseMs, renewDeadlineMs, retryPeriodMs: Math.floor(renewDeadlineMs / 2), killAfterMs };
}
