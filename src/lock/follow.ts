// Following one lock while a call waits on it: one watch on that one object, kept open across the call's own
// writes (a waiter joins the queue, beats its heartbeat, confirms an offer, without re-opening it), re-opened by
// watch-loop.ts when the stream ends or fails. The caller's decision says, for each state the watch brings, whether
// to act now or when to look again (a lease that runs out, a waiter ahead that does not act, a heartbeat due):
// time produces no event, so that moment has its own timer. The API load does not grow with the wait.

import { HeldError } from '../errors.ts';
import { LinkedAbort } from './abort.ts';
import { formatDuration } from './duration.ts';
import { LockHeldError } from './errors.ts';
import { cancelledError } from './operation.ts';
import { toLockView } from './record.ts';
import type { ServerClock } from './server-clock.ts';
import type { StoredLock } from './store.ts';
import type { LockContext, WaitStatus } from './types.ts';
import { queuePosition } from './view.ts';
import { keepWatching, type WatchLoop } from './watch-loop.ts';

const PROGRESS_INTERVAL_MS = 1000;

/** What to do with the lock as now seen: act (wake the caller), or keep waiting, looking again at `at` (local mono). */
export type Verdict = { readonly wake: true } | { readonly wake: false; readonly at?: number };

export interface FollowOptions {
  /** Who waits: the timeout's HeldError says so. */
  operation: 'acquire' | 'wait';
  /** When the caller started waiting (local monotonic ms), for progress and the timeout message. */
  startedMono: number;
  /** Local monotonic ms past which no more waiting: next() rejects with HeldError ("timed out after …"). */
  deadlineMono?: number;
  signal?: AbortSignal;
  /** This call's acquisition id, for its place in the queue on the status line. */
  mine?: string;
}

interface Pending {
  verdict: (lock: StoredLock | undefined) => Verdict;
  resolve: (lock: StoredLock | undefined) => void;
  reject: (error: unknown) => void;
}

export class LockFollower {
  readonly #ctx: LockContext;
  readonly #serverClock: ServerClock;
  readonly #name: string;
  readonly #options: FollowOptions;
  readonly #stop = new AbortController();
  #started = false;
  #ticking = false;
  #latest: StoredLock | undefined;
  /** The lock as last seen before it was deleted, while it is gone. */
  #gone: StoredLock | undefined;
  #pending: Pending | undefined;
  /** Ends the timer of the current verdict. */
  #timer = new AbortController();
  #failure: unknown;
  #listeners = new Set<() => void>();
  /** Time that passed while the machine was suspended: waited, though no local timer saw it. */
  #unseenMs = 0;

  constructor(ctx: LockContext & { serverClock: ServerClock }, name: string, options: FollowOptions) {
    this.#ctx = ctx;
    this.#serverClock = ctx.serverClock;
    this.#name = name;
    this.#options = options;
  }

  get latest(): StoredLock | undefined {
    return this.#latest;
  }

  /** The lock as last seen before it was deleted, while it is gone (its queue, for the waiters to rebuild). */
  get gone(): StoredLock | undefined {
    return this.#latest === undefined ? this.#gone : undefined;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Opens the watch from `from` (read first when unknown). Idempotent. */
  start(from: StoredLock | undefined): void {
    if (this.#started) return;
    this.#started = true;
    this.#latest = from;
    const { clock, store } = this.#ctx;
    const signal = this.#options.signal;
    const stop = signal === undefined ? this.#stop.signal : new LinkedAbort(signal, this.#stop.signal).signal;
    this.#options.signal?.addEventListener('abort', () => this.#fail(cancelledError(this.#options.signal)), {
      once: true,
      signal: this.#stop.signal,
    });
    const loop: WatchLoop = {
      open: (rv, signal) => store.watch(this.#name, rv, signal),
      changed: (event) => {
        if (event.type === 'DELETED') this.#deleted(event.lock);
        else if (event.type !== 'BOOKMARK') this.saw(event.lock);
      },
      resync: async (signal) => {
        const result = await store.get(this.#name, { signal });
        this.#serverClock.observe(result.time);
        if (result.value === undefined) this.#deleted(this.#latest);
        else this.saw(result.value);
        this.#notify(); // the server's time may be known again (after a suspend): time the verdict on it
        return result.value?.resourceVersion ?? this.#gone?.resourceVersion ?? '';
      },
      resyncAfter: 'always',
      suspended: (jump) => {
        this.#unseenMs += jump.ms;
        this.#serverClock.forget();
        this.#timer.abort();
      },
    };
    const first = from?.resourceVersion ?? '';
    keepWatching(clock, loop, first, stop, this.#ctx.times, first === '').catch((error: unknown) => this.#fail(error));
    // The status line: at the first wait (after a join, it can say the place in line), or in a second at the latest.
    if (this.#ctx.progress !== undefined) {
      clock.sleep(PROGRESS_INTERVAL_MS, this.#stop.signal).then(
        () => this.#startTicking(),
        () => {},
      );
    }
  }

  /** A newer state of the lock (an event, a read, or what one of our own writes left). Older ones are ignored. */
  saw(lock: StoredLock): void {
    const latest = this.#latest;
    if (latest !== undefined && !isNewer(lock.resourceVersion, latest.resourceVersion)) return;
    if (
      latest === undefined &&
      this.#gone !== undefined &&
      !isNewer(lock.resourceVersion, this.#gone.resourceVersion)
    ) {
      return;
    }
    this.#latest = lock;
    this.#gone = undefined;
    this.#notify();
  }

  #deleted(last: StoredLock | undefined): void {
    if (this.#latest === undefined && this.#gone !== undefined) return;
    this.#gone = last ?? this.#latest;
    this.#latest = undefined;
    this.#notify();
  }

  /**
   * Resolves with the lock (undefined: gone) as soon as `verdict` says to act on it: now, on a change, or at the
   * time it names. Rejects with HeldError at the deadline and with the cancellation error when the signal fires.
   */
  next(verdict: (lock: StoredLock | undefined) => Verdict): Promise<StoredLock | undefined> {
    return new Promise<StoredLock | undefined>((resolve, reject) => {
      if (this.#failure !== undefined) return reject(this.#failure);
      const deadline = this.#options.deadlineMono;
      if (deadline !== undefined && this.#ctx.clock.now() >= deadline) return reject(this.#timedOut());
      this.#pending = { verdict, resolve, reject };
      this.#startTicking();
      this.#evaluate();
    });
  }

  /**
   * After a write of ours was refused: the state that beat it, as the watch brings it (a newer resourceVersion
   * than `resourceVersion`), or after `maxMs` a read.
   */
  async newerThan(resourceVersion: string, maxMs: number): Promise<StoredLock | undefined> {
    const isNewerNow = () =>
      this.#latest === undefined ? this.#gone !== undefined : isNewer(this.#latest.resourceVersion, resourceVersion);
    if (!isNewerNow()) {
      const { clock } = this.#ctx;
      const timer = new LinkedAbort(this.#stop.signal);
      const stop = timer.signal;
      let listener = () => {};
      const changed = new Promise<boolean>((resolve) => {
        listener = () => {
          if (isNewerNow() || this.#failure !== undefined) resolve(true);
        };
        this.#listeners.add(listener);
      });
      const late = clock.sleep(maxMs, stop).then(
        () => false,
        () => true,
      );
      const seen = await Promise.race([changed, late]);
      timer.abort();
      this.#listeners.delete(listener);
      if (this.#failure !== undefined) throw this.#failure;
      if (!seen) {
        const result = await this.#ctx.store.get(this.#name, this.#requestOptions());
        this.#serverClock.observe(result.time);
        if (result.value === undefined) this.#deleted(this.#latest);
        else this.saw(result.value);
      }
    }
    return this.#latest;
  }

  close(): void {
    this.#stop.abort();
    this.#timer.abort();
  }

  #requestOptions(): { signal?: AbortSignal; deadline?: number } {
    const options: { signal?: AbortSignal; deadline?: number } = {};
    if (this.#options.signal !== undefined) options.signal = this.#options.signal;
    if (this.#options.deadlineMono !== undefined) options.deadline = this.#options.deadlineMono;
    return options;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
    this.#evaluate();
  }

  /** Asks the pending verdict about the latest state: wakes the caller, or sets the timer it names. */
  #evaluate(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#timer.abort();
    let verdict: Verdict;
    try {
      verdict = pending.verdict(this.#latest);
    } catch (error) {
      this.#pending = undefined;
      pending.reject(error);
      return;
    }
    if (verdict.wake) {
      this.#pending = undefined;
      pending.resolve(this.#latest);
      return;
    }
    const { clock } = this.#ctx;
    this.#timer = new LinkedAbort(this.#stop.signal);
    const stop = this.#timer.signal;
    const deadline = this.#options.deadlineMono;
    // One timer: the verdict's moment or the deadline, whichever comes first.
    const at = Math.min(verdict.at ?? Infinity, deadline ?? Infinity);
    if (at === Infinity) return;
    clock.sleep(Math.max(0, at - clock.now()), stop).then(
      () => {
        if (deadline !== undefined && clock.now() >= deadline && this.#pending === pending) {
          this.#pending = undefined;
          pending.reject(this.#timedOut());
        } else this.#evaluate();
      },
      () => {},
    );
  }

  #timedOut(): HeldError {
    const lock = this.#latest ?? this.#gone;
    // Monotonic times are fractional; their difference is the whole-millisecond timeout give or take 1e-12.
    const timeoutMs = Math.round((this.#options.deadlineMono ?? 0) - this.#options.startedMono);
    if (lock === undefined) {
      return new HeldError(`timed out after ${formatDuration(timeoutMs)} waiting for lock "${this.#name}"`);
    }
    const refusal = {
      lock,
      serverNowMs: this.#serverClock.now(),
      ...(this.#options.mine === undefined ? {} : { mine: this.#options.mine }),
    };
    return new LockHeldError(this.#options.operation, refusal, timeoutMs);
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#stop.abort();
    this.#timer.abort();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
    for (const listener of [...this.#listeners]) listener();
  }

  #startTicking(): void {
    if (this.#ticking || this.#ctx.progress === undefined || this.#stop.signal.aborted) return;
    this.#ticking = true;
    this.#tick(this.#ctx.progress);
  }

  #tick(report: (status: WaitStatus) => void): void {
    const { clock } = this.#ctx;
    const tick = () => {
      const lock = this.#latest ?? this.#gone;
      try {
        if (lock !== undefined) report(this.#status(lock));
      } catch {
        // progress is for people; a failing status line must not end the wait
      }
      clock.sleep(PROGRESS_INTERVAL_MS, this.#stop.signal).then(tick, () => {});
    };
    tick();
  }

  #status(lock: StoredLock): WaitStatus {
    const now = this.#serverClock.now();
    const view = toLockView(lock, now);
    const status: WaitStatus = {
      name: view.name,
      namespace: view.namespace,
      holder: view.holder,
      acquireTime: view.acquireTime || view.creationTimestamp,
      expiresAt: view.expiresAt,
      waitedMs: this.#ctx.clock.now() - this.#options.startedMono + this.#unseenMs,
    };
    const mine = this.#options.mine;
    const place = mine === undefined ? undefined : queuePosition(lock, now, mine);
    if (place !== undefined) {
      status.position = place.position;
      status.waiting = place.waiting;
    }
    return status;
  }
}

/** resourceVersions are etcd revisions: decimal, compared as numbers (an opaque one counts as newer). */
function isNewer(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return a !== b;
  return BigInt(a) > BigInt(b);
}
