// How the protocol talks to the store. Each request is sent once: transport retries (429 with Retry-After, a
// refused connection, a read that timed out) belong to the store (kube/client.ts), which gets this operation's
// cancellation signal and deadline so that none of its waits outlives the operation. Every response teaches the
// server clock. Ambiguous writes are not retried at all: the protocol resolves them by reading back.

import { CancelledError, CmlockError } from '../errors.ts';
import type { BackoffPolicy } from './backoff.ts';
import { ServerClock } from './server-clock.ts';
import type { LockStore, RequestOptions, Result, StoredLock } from './store.ts';
import type { Clock, LockContext } from './types.ts';

/** The protocol's own pauses: before a read-back, and before a watch is opened again. */
export const PROTOCOL_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 8000 };

/** The error to throw once `signal` has fired: its reason when that is one of ours (e.g. a signal), else "cancelled". */
export function cancelledError(signal: AbortSignal | undefined): CmlockError {
  const reason: unknown = signal?.reason;
  return reason instanceof CmlockError ? reason : new CancelledError();
}

/** One protocol call (acquire, release, …): its store, clocks, cancellation and deadline. */
export class Operation {
  readonly ctx: LockContext;
  readonly store: LockStore;
  readonly clock: Clock;
  readonly serverClock: ServerClock;
  readonly signal: AbortSignal | undefined;
  /** Local monotonic ms after which no more waiting is allowed; undefined = no limit. */
  readonly deadline: number | undefined;

  constructor(ctx: LockContext, signal?: AbortSignal, deadline?: number) {
    this.ctx = ctx;
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

  /** What every store request of this operation carries: its cancellation and its deadline. */
  get requestOptions(): RequestOptions {
    const options: RequestOptions = {};
    if (this.signal !== undefined) options.signal = this.signal;
    if (this.deadline !== undefined) options.deadline = this.deadline;
    return options;
  }

  /** Sends one request and learns the server's time from its answer. */
  async request<T>(send: (options: RequestOptions) => Promise<Result<T>>): Promise<T> {
    this.throwIfCancelled();
    try {
      const result = await send(this.requestOptions);
      this.serverClock.observe(result.time);
      return result.value;
    } catch (error) {
      this.throwIfCancelled();
      throw error;
    }
  }

  /** Consistent read of one lock; undefined when it does not exist. */
  get(name: string): Promise<StoredLock | undefined> {
    return this.request((options) => this.store.get(name, options));
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

  /** The context for helpers (follow.ts, wait.ts) that must share this operation's server clock. */
  context(): LockContext & { serverClock: ServerClock } {
    return { ...this.ctx, serverClock: this.serverClock };
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
