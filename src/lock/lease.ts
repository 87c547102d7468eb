// Keeps a lease alive for whoever holds a lock over time (`run`'s supervisor, the library's hold and lease):
// renews every retryPeriod on the local monotonic clock, retries failures with capped, jittered backoff
// (backoff.ts), and declares the lock lost when a renewal says someone else has it or when no renewal has
// succeeded by the renew deadline. The deadline is watched by its own timer, so a renewal that hangs (and ignores
// its abort signal) cannot delay it. What the holder does about a loss (stop CMD, abort a function) is its own.

import { CmlockError, LockNotFoundError, NotHolderError } from '../errors.ts';
import { LinkedAbort } from './abort.ts';
import { Backoff } from './backoff.ts';
import type { Clock } from './types.ts';
import { RetryableError } from './store.ts';
import { formatDuration } from './duration.ts';

/**
 * How a holder keeps its lease (client-go's LeaseDuration, RenewDeadline, RetryPeriod): renew every
 * `retryPeriodMs`; with no successful renewal for `renewDeadlineMs`, the lock counts as lost, so that the holder
 * stops its work before the lease (`leaseMs`) can run out for anyone else.
 */
export interface LeaseTimings {
  /** 0 = the lock never expires: it is not renewed and cannot be lost by lapsing. */
  leaseMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * Timings derived from the lease and the grace its holder needs to stop once told the lock is lost (`run`'s
 * --kill-after; 0 for a function that stops on an AbortSignal). The renew deadline is two thirds of the lease,
 * shortened (down to a third) so that renewDeadline + grace leaves a sixth of the lease as headroom for the
 * stop, the exit and the last request in flight. The renew period is half the renew deadline (a third of the
 * lease unless shortened), so a renewal gets two tries before the deadline. A grace of more than half the lease
 * leaves no room: the deadline then stays at two thirds (run/timing.ts brokenTimingRule refuses such flags).
 */
export function leaseTimings(leaseMs: number, graceMs = 0): LeaseTimings {
  if (leaseMs <= 0) return { leaseMs, renewDeadlineMs: 0, retryPeriodMs: 0 };
  const twoThirds = Math.floor((leaseMs * 2) / 3);
  const withHeadroom = Math.floor(leaseMs - graceMs - leaseMs / 6);
  const renewDeadlineMs = withHeadroom >= Math.floor(leaseMs / 3) ? Math.min(twoThirds, withHeadroom) : twoThirds;
  return { leaseMs, renewDeadlineMs, retryPeriodMs: Math.floor(renewDeadlineMs / 2) };
}

/**
 * One renewal of the lock held (protocol.ts renewFrom, from the object the last write left): resolves once the
 * server has it, rejects with NotHolderError/LockNotFoundError when the lock is someone else's or gone.
 */
export type RenewFn = (signal: AbortSignal) => Promise<void>;

export interface LostLock {
  /** 'deadline': renewals failed until the renew deadline; 'taken': the lock is someone else's or gone. */
  kind: 'deadline' | 'taken';
  /** Why, for `lost lock "NAME": <why>`. */
  why: string;
  /** Monotonic time the lock counts as lost from: the renew deadline, or when it was seen taken. */
  at: number;
}

export interface LeaseKeeper {
  /** Resolves when the lock is lost; never resolves after stop(). */
  readonly lost: Promise<LostLock>;
  /** Monotonic start of the newest lease we know the server has. */
  leaseStart(): number;
  /** Monotonic renew deadline: past it, with no successful renewal, the lock counts as lost. */
  deadline(): number;
  /** Stops renewing and watching; resolves once no renewal is in flight (bounded by `waitMs`). */
  stop(waitMs?: number): Promise<void>;
}

export interface LeaseKeeperOptions {
  renew: RenewFn;
  clock: Clock;
  timings: LeaseTimings;
  /** AcquireResult.leaseStartMono, or the send time of the renewal that last proved the lock held. */
  leaseStartMono: number;
  /** Called after each successful renewal with the new lease's monotonic start (run re-arms its watchdog). */
  onRenewed?: (leaseStartMono: number) => void;
}

class RenewTimeout extends CmlockError {}

export function keepLease(o: LeaseKeeperOptions): LeaseKeeper {
  const { clock, timings } = o;
  if (timings.leaseMs === 0) {
    // A lease of 0 never expires: nothing to renew, nothing to lose.
    return {
      lost: new Promise<LostLock>(() => {}),
      leaseStart: () => o.leaseStartMono,
      deadline: () => Infinity,
      stop: async () => {},
    };
  }
  const stopper = new AbortController();
  let leaseStart = o.leaseStartMono;
  let lastError: unknown;
  let inFlight = false;
  let done = false;
  let declare: (lost: LostLock) => void = () => {};
  const lost = new Promise<LostLock>((resolve) => {
    declare = (l) => {
      if (done) return;
      done = true;
      stopper.abort(new CmlockError('lock lost'));
      resolve(l);
    };
  });

  const deadline = (): number => leaseStart + timings.renewDeadlineMs;

  async function watchdog(): Promise<void> {
    for (;;) {
      const wait = deadline() - clock.now();
      if (wait <= 0) break;
      // Wakes at the deadline as it was; a renewal since then has moved it, so look again.
      await clock.sleep(wait, stopper.signal);
    }
    if (done) return;
    const failing =
      lastError !== undefined
        ? `renewal failing: ${describe(lastError)}`
        : inFlight
          ? 'renewal got no answer'
          : 'no renewal attempted';
    declare({
      kind: 'deadline',
      why: `could not renew it for ${roughly(clock.now() - leaseStart)} (${failing})`,
      at: deadline(),
    });
  }

  async function renewLoop(): Promise<void> {
    const retries = new Backoff(
      { initialMs: Math.min(1000, timings.retryPeriodMs / 4), maxMs: timings.retryPeriodMs / 2 },
      () => clock.random(),
    );
    let nextAt = leaseStart + timings.retryPeriodMs;
    for (;;) {
      const wait = nextAt - clock.now();
      if (wait > 0) await clock.sleep(wait, stopper.signal);
      if (done) return;
      const sentAt = clock.now();
      // One attempt may not outlive the deadline nor a renew period. Woken past the deadline (this process was
      // stopped or stalled), there is no time left for one: the deadline timer declares the lock lost.
      const attemptMs = Math.min(deadline() - sentAt, timings.retryPeriodMs);
      if (attemptMs <= 0) return;
      const attempt = deadlineSignal(clock, attemptMs, stopper.signal);
      inFlight = true;
      try {
        await o.renew(attempt.signal);
        if (done) return;
        leaseStart = Math.max(leaseStart, sentAt);
        lastError = undefined;
        retries.reset();
        nextAt = leaseStart + timings.retryPeriodMs;
        o.onRenewed?.(leaseStart);
      } catch (err) {
        if (done) return;
        if (err instanceof NotHolderError || err instanceof LockNotFoundError) {
          const why = err instanceof NotHolderError ? describe(err) : 'it was deleted by someone else';
          declare({ kind: 'taken', why, at: clock.now() });
          return;
        }
        lastError = attempt.signal.aborted && !stopper.signal.aborted ? attempt.signal.reason : err;
        nextAt = clock.now() + retries.next(err instanceof RetryableError ? err.retryAfterMs : undefined);
      } finally {
        inFlight = false;
        attempt.dispose();
      }
    }
  }

  const settle = (p: Promise<void>): Promise<void> => p.catch(() => {});
  const loops = Promise.all([settle(watchdog()), settle(renewLoop())]);

  return {
    lost,
    leaseStart: () => leaseStart,
    deadline,
    async stop(waitMs = 1000) {
      done = true;
      stopper.abort(new CmlockError('stopped'));
      const bound = new AbortController();
      await Promise.race([loops, settle(clock.sleep(waitMs, bound.signal))]);
      bound.abort();
    },
  };
}

/**
 * A signal for one request: aborted by `parent`, or after `ms` on the injected clock with "no answer within …".
 * dispose() ends the timer.
 */
export function deadlineSignal(
  clock: Clock,
  ms: number,
  parent: AbortSignal,
): { signal: AbortSignal; dispose: () => void } {
  const link = new LinkedAbort(parent);
  clock.sleep(Math.max(0, ms), link.signal).then(
    () => link.abort(new RenewTimeout(`no answer within ${roughly(ms)}`)),
    () => {},
  );
  return { signal: link.signal, dispose: () => link.abort() };
}

/**
 * A duration for a message: whole seconds (sub-second precision is noise), or ms below a second; never negative,
 * whatever the clocks did (a stall or a suspend can put "now" past a deadline).
 */
export function roughly(ms: number): string {
  const clamped = Number.isFinite(ms) ? Math.max(0, ms) : 0;
  return formatDuration(clamped >= 1000 ? Math.round(clamped / 1000) * 1000 : Math.round(clamped));
}

export function describe(err: unknown): string {
  if (err instanceof CmlockError) return err.message;
  if (err instanceof Error && err.name === 'AbortError') return 'request aborted';
  if (err instanceof Error) return err.message;
  return String(err);
}
