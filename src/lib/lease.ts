// A lock held over time (Lock.lease, Lock.hold): the lease keeper of lock/lease.ts renews it, and `signal` fires
// when the keeper declares it lost. Releasing stops the keeper, then deletes the lock with the protocol's
// preconditions, within what is left of the lease; a lock that proved someone else's is left alone.

import { LockMissingError, LockLostError, NotYourLockError } from '../lock/errors.ts';
import {
  deadlineSignal,
  describe,
  keepLease,
  type LeaseKeeper,
  type LeaseTimings,
  type RenewFn,
} from '../lock/lease.ts';
import type { Clock } from '../lock/types.ts';
import type { AcquiredLock } from './options.ts';

/** How long a release may take at most, and at least (when the lease has run out already). */
const RELEASE_MAX_MS = 10_000;
const RELEASE_MIN_MS = 1000;
/** After renewals failed: the server is probably unreachable, so a release is tried only briefly. */
const RELEASE_AFTER_LOSS_MS = 2000;

/** What a Lease needs of its Lock (lib/lock.ts builds it). */
export interface LeaseControl {
  name: string;
  namespace: string;
  clock: Clock;
  timings: LeaseTimings;
  leaseStartMono: number;
  /** One renewal from the object the last write left. */
  renew: RenewFn;
  /** Deletes the lock (protocol release); the Lock forgets what it held either way. */
  release(signal: AbortSignal): Promise<void>;
  /** The lease is over: the Lock holds nothing through it any more. */
  forget(): void;
}

/** A held lock that is being renewed in the background. Made by Lock.lease and Lock.hold. */
export class Lease implements AsyncDisposable {
  /** The lock as acquire took it: `fence` is the fencing token to hand to the system the lock protects. */
  readonly lock: AcquiredLock;
  readonly #control: LeaseControl;
  readonly #keeper: LeaseKeeper;
  readonly #lost = new AbortController();
  #released: Promise<void> | undefined;

  /** @internal Made by Lock.lease. */
  constructor(lock: AcquiredLock, control: LeaseControl) {
    this.lock = lock;
    this.#control = control;
    this.#keeper = keepLease({
      renew: control.renew,
      clock: control.clock,
      timings: control.timings,
      leaseStartMono: control.leaseStartMono,
    });
    void this.#keeper.lost.then(({ kind, why }) => {
      this.#lost.abort(new LockLostError(control.name, control.namespace, kind, why));
    });
  }

  /**
   * Fires the moment the lock is lost (or when release finds it someone else's); its reason is the LockLostError.
   */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** The LockLostError once the lock is lost, else undefined. */
  get lost(): LockLostError | undefined {
    const reason: unknown = this.#lost.signal.reason;
    return reason instanceof LockLostError ? reason : undefined;
  }

  /**
   * Stops renewing and releases the lock. Rejects with LockLostError when the lock was lost (it is then left to
   * whoever has it), with the API error when the release failed (the lock lapses after its ttl). Once only: later
   * calls resolve with the first one.
   */
  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  /** `await using lease = await lock.lease()`: release() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** @internal Stops renewing without releasing (Lock.release deletes the lock itself). */
  async stop(): Promise<void> {
    this.#released ??= this.#keeper.stop().finally(() => this.#control.forget());
    await this.#released.catch(() => {});
  }

  async #release(): Promise<void> {
    const { clock, timings } = this.#control;
    try {
      await this.#keeper.stop();
      const lost = this.lost;
      if (lost !== undefined) {
        // Renewals failed, but the lock may still be ours (a renewal applied whose answer was lost): give it
        // back, briefly. Someone else's lock is left alone.
        if (lost.kind === 'deadline') await this.#delete(RELEASE_AFTER_LOSS_MS).catch(() => {});
        throw lost;
      }
      const leaseLeft = timings.leaseMs === 0 ? Infinity : this.#keeper.leaseStart() + timings.leaseMs - clock.now();
      await this.#delete(Math.max(RELEASE_MIN_MS, Math.min(leaseLeft, RELEASE_MAX_MS)));
    } catch (err) {
      if (err instanceof NotYourLockError || err instanceof LockMissingError) {
        const lost = new LockLostError(this.#control.name, this.#control.namespace, 'taken', describe(err));
        this.#lost.abort(lost);
        throw lost;
      }
      throw err;
    } finally {
      this.#control.forget();
    }
  }

  /** The protocol's release, bounded in time. */
  async #delete(boundMs: number): Promise<void> {
    const bound = deadlineSignal(this.#control.clock, boundMs, new AbortController().signal);
    try {
      await this.#control.release(bound.signal);
    } catch (err) {
      throw bound.signal.aborted ? bound.signal.reason : err;
    } finally {
      bound.dispose();
    }
  }
}
