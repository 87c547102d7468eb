// Keeps a `run` lease alive: renews every retryPeriod on the local monotonic clock, retries failures with
// capped, jittered backoff, and declares the lock lost when a renewal says someone else has it or when no
// renewal has succeeded by the renew deadline. The deadline is watched by its own timer, so a renewal that hangs
// (and ignores its abort signal) cannot delay it.

import { CmlockError, LockNotFoundError, NotHolderError } from '../errors.ts';
import type { Clock, LockContext, LockView, RenewOptions } from '../lock/types.ts';
import { RetryableError } from '../lock/store.ts';
import { formatDuration } from '../lock/duration.ts';
import type { RunTimings } from './timing.ts';

export type RenewFn = (ctx: LockContext, opts: RenewOptions) => Promise<LockView>;

export interface LostLock {
  /** 'deadline': renewals failed until the renew deadline; 'taken': the lock is someone else's or gone. */
  kind: 'deadline' | 'taken';
  /** Why, for `error: lost lock "NAME": <why>; stopped CMD`. */
  why: string;
  /** Monotonic time by which SIGKILL must have been sent. */
  killBy: number;
}

export interface LeaseKeeper {
  /** Resolves when the lock is lost; never resolves after stop(). */
  readonly lost: Promise<LostLock>;
  /** Monotonic start of the newest lease we know the server has. */
  leaseStart(): number;
  /** Stops renewing and watching; resolves once no renewal is in flight (bounded by `waitMs`). */
  stop(waitMs?: number): Promise<void>;
}

export interface LeaseKeeperOptions {
  renew: RenewFn;
  ctx: LockContext;
  clock: Clock;
  name: string;
  timings: RunTimings;
  /** AcquireResult.leaseStartMono. */
  leaseStartMono: number;
}

class RenewTimeout extends CmlockError {}

export function keepLease(o: LeaseKeeperOptions): LeaseKeeper {
  const { clock, timings } = o;
  if (timings.leaseMs === 0) {
    // A lease of 0 never expires: nothing to renew, nothing to lose.
    return { lost: new Promise<LostLock>(() => {}), leaseStart: () => o.leaseStartMono, stop: async () => {} };
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
      killBy: deadline() + timings.killAfterMs,
    });
  }

  async function renewLoop(): Promise<void> {
    let failures = 0;
    let nextAt = leaseStart + timings.retryPeriodMs;
    for (;;) {
      const wait = nextAt - clock.now();
      if (wait > 0) await clock.sleep(wait, stopper.signal);
      if (done) return;
      const sentAt = clock.now();
      // One attempt may not outlive the deadline nor a renew period.
      const attemptMs = Math.min(deadline() - sentAt, timings.retryPeriodMs);
      const attempt = new AbortController();
      const signal = AbortSignal.any([stopper.signal, attempt.signal]);
      clock.sleep(Math.max(0, attemptMs), signal).then(
        () => attempt.abort(new RenewTimeout(`no answer within ${formatDuration(Math.round(attemptMs))}`)),
        () => {},
      );
      inFlight = true;
      try {
        await o.renew(o.ctx, { name: o.name, ttlMs: timings.leaseMs, signal });
        if (done) return;
        leaseStart = Math.max(leaseStart, sentAt);
        lastError = undefined;
        failures = 0;
        nextAt = leaseStart + timings.retryPeriodMs;
      } catch (err) {
        if (done) return;
        if (err instanceof NotHolderError || err instanceof LockNotFoundError) {
          const why = err instanceof NotHolderError ? describe(err) : 'it was deleted by someone else';
          declare({ kind: 'taken', why, killBy: clock.now() + timings.killAfterMs });
          return;
        }
        lastError = attempt.signal.aborted ? attempt.signal.reason : err;
        failures++;
        nextAt = clock.now() + backoff(failures, err);
      } finally {
        inFlight = false;
        attempt.abort();
      }
    }
  }

  function backoff(failures: number, err: unknown): number {
    const base = Math.min(1000, timings.retryPeriodMs / 4);
    const capped = Math.min(timings.retryPeriodMs / 2, base * 2 ** (failures - 1));
    const jittered = capped / 2 + (clock.random() * capped) / 2;
    const retryAfter = err instanceof RetryableError ? (err.retryAfterMs ?? 0) : 0;
    return Math.max(jittered, retryAfter);
  }

  const settle = (p: Promise<void>): Promise<void> => p.catch(() => {});
  const loops = Promise.all([settle(watchdog()), settle(renewLoop())]);

  return {
    lost,
    leaseStart: () => leaseStart,
    async stop(waitMs = 1000) {
      done = true;
      stopper.abort(new CmlockError('stopped'));
      const bound = new AbortController();
      await Promise.race([loops, settle(clock.sleep(waitMs, bound.signal))]);
      bound.abort();
    },
  };
}

/** Whole seconds (sub-second precision is noise in a message), or ms below a second. */
function roughly(ms: number): string {
  return formatDuration(ms >= 1000 ? Math.round(ms / 1000) * 1000 : Math.round(ms));
}

export function describe(err: unknown): string {
  if (err instanceof CmlockError) return err.message;
  if (err instanceof Error && err.name === 'AbortError') return 'request aborted';
  if (err instanceof Error) return err.message;
  return String(err);
}
