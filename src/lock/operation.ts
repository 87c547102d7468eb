// How the protocol talks to the store: every response teaches the server clock; a request that certainly was
// not applied (RetryableError: 429, connection refused) is sent again after Retry-After or a capped, jittered
// backoff; every wait honours cancellation and the overall deadline. Ambiguous writes are NOT retried here: the
// protocol resolves them by reading back.

import { CancelledError, CmlockError } from '../errors.ts';
import type { Clock, LockContext } from './types.ts';
import { ServerClock } from './server-clock.ts';
import { RetryableError, type LockStore, type Result, type StoredLock } from './store.ts';

export const BACKOFF_INITIAL_MS = 250;
export const BACKOFF_MAX_MS = 8000;
/** Tries of one request before its RetryableError is reported (about 15–30 s of backoff in all). */
export const MAX_ATTEMPTS = 8;

/**
 * Exponential backoff, 250 ms doubling to 8 s, with "equal jitter": a delay is drawn from [base/2, base). Full
 * jitter ([0, base)) can draw almost 0, which makes a tight loop; half of the base is always kept.
 */
export class Backoff {
  readonly #clock: Clock;
  #failures = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  next(): number {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** this.#failures);
    this.#failures = Math.min(this.#failures + 1, 30);
    return base / 2 + (this.#clock.random() * base) / 2;
  }

  reset(): void {
    this.#failures = 0;
  }
}

/** The error to throw once `signal` has fired: its reason when that is one of ours (e.g. a signal), else "cancelled". */
export function cancelledError(signal: AbortSignal | undefined): CmlockError {
  const reason: unknown = signal?.reason;
  return reason instanceof CmlockError ? reason : new CancelledError();
}

/** One protocol call (acquire, release, …): its store, clocks, cancellation and deadline. */
export class Operation {
  readonly store: LockStore;
  readonly clock: Clock;
  readonly serverClock: ServerClock;
  readonly signal: AbortSignal | undefined;
  /** Local monotonic ms after which no more waiting is allowed; undefined = no limit. */
  readonly deadline: number | undefined;

  constructor(ctx: LockContext, signal?: AbortSignal, deadline?: number) {
    this.store = ctx.store;
    this.clock = ctx.clock;
    this.serverClock = ctx.serverClock ?? new ServerClock(ctx.clock);
    this.signal = signal;
    this.deadline = deadline;
  }

  get cancelled(): boolean {
    return this.signal?.aborted === true;
  }

  throwIfCancelled(): void {
    if (this.cancelled) throw cancelledError(this.signal);
  }

  /**
   * Sends one request; RetryableError is retried (at most MAX_ATTEMPTS, never past the deadline), unless the
   * store has already retried it (RetryableError.retried).
   */
  async request<T>(send: (signal?: AbortSignal) => Promise<Result<T>>): Promise<T> {
    const backoff = new Backoff(this.clock);
    for (let attempt = 1; ; attempt++) {
      this.throwIfCancelled();
      try {
        const result = await send(this.signal);
        this.serverClock.observe(result.time);
        return result.value;
      } catch (error) {
        this.throwIfCancelled();
        if (!(error instanceof RetryableError) || error.retried || attempt >= MAX_ATTEMPTS) throw error;
        const delay = (error.retryAfterMs ?? 0) + backoff.next();
        if (this.deadline !== undefined && this.clock.now() + delay > this.deadline) throw error;
        await this.pause(delay);
      }
    }
  }

  /** Consistent read of one lock; undefined when it does not exist. */
  get(name: string): Promise<StoredLock | undefined> {
    return this.request((signal) => this.store.get(name, signal));
  }

  /** Sleeps on the injected clock; throws the cancellation error when the signal fires. */
  async pause(ms: number): Promise<void> {
    try {
      await this.clock.sleep(ms, this.signal);
    } catch (error) {
      this.throwIfCancelled();
      throw error;
    }
  }

  /** The context for helpers (wait.ts) that must share this operation's server clock. */
  context(ctx: LockContext): LockContext {
    return { ...ctx, serverClock: this.serverClock };
  }

  /** A signal for best-effort cleanup after cancellation: fires after `ms` so cleanup cannot hang an exit. */
  cleanupSignal(ms: number): { signal: AbortSignal; dispose: () => void } {
    const cleanup = new AbortController();
    const timer = new AbortController();
    this.clock.sleep(ms, timer.signal).then(
      () => cleanup.abort(new CancelledError()),
      () => {},
    );
    return { signal: cleanup.signal, dispose: () => timer.abort() };
  }
}
