// The timings of `run`, checked as client-go's NewLeaderElector checks its own: one rule at a time, each with
// its exact message (the words are the run command's, src/cli/commands/run.ts, since they name its flags).
//
//   lease         how long the lock lives without renewal
//   retryPeriod   how often `run` renews
//   renewDeadline how long `run` may go without a successful renewal before it declares the lock lost and
//                 sends CMD SIGTERM
//   killAfter     how long CMD then has before SIGKILL
//
// CMD must be gone before anyone else may take the lock, so lease > renewDeadline + killAfter, counted from the
// instant before the last successful renewal was sent (the holder's clock never runs ahead of its lease).

import { leaseTimings, type LeaseTimings } from '../lock/lease.ts';

/** As client-go's: a renewal may come up to 1.2 retry periods apart (wait.JitterUntil). */
const JITTER_FACTOR = 1.2;

/** The lease keeper's timings (lease 0: the lock never expires and `run` does not renew it), and CMD's grace. */
export interface RunTimings extends LeaseTimings {
  killAfterMs: number;
}

/** The rules, in the order they are checked. */
export type TimingRule =
  'leaseNegative' | 'killAfterNegative' | 'retryPeriodNotPositive' | 'renewDeadlineTooShort' | 'leaseTooShort';

/** The first rule `t` breaks; undefined when the timings are sound. */
export function brokenTimingRule(t: RunTimings): TimingRule | undefined {
  if (t.leaseMs < 0) return 'leaseNegative';
  if (t.killAfterMs < 0) return 'killAfterNegative';
  if (t.leaseMs === 0) return undefined;
  if (!(t.retryPeriodMs > 0)) return 'retryPeriodNotPositive';
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs)) return 'renewDeadlineTooShort';
  if (!(t.leaseMs > t.renewDeadlineMs + t.killAfterMs)) return 'leaseTooShort';
  return undefined;
}

/** Timings derived from the lease and the kill-after grace (lock/lease.ts leaseTimings, with the grace). */
export function defaultRunTimings(leaseMs: number, killAfterMs: number): RunTimings {
  return { ...leaseTimings(leaseMs, killAfterMs), killAfterMs };
}

/** The watchdog's margin is at most this: it acts only once cmlock has clearly missed its own deadline. */
const WATCHDOG_MARGIN_MAX_MS = 1000;

/**
 * How long after `run`'s own renew deadline the watchdog stops CMD when it has heard nothing: half the headroom
 * (lease − renew deadline − killAfter), at most a second. cmlock, when alive, acts at the deadline itself and
 * tells the watchdog; the watchdog's SIGKILL still comes half the headroom before the lease ends.
 */
export function watchdogMarginMs(t: RunTimings): number {
  const headroom = t.leaseMs - t.renewDeadlineMs - t.killAfterMs;
  return Math.max(0, Math.min(WATCHDOG_MARGIN_MAX_MS, Math.floor(headroom / 2)));
}
