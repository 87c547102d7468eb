// The library's Lock: the seed's New/Acquire/Release/WithLabels/GetName/GetTimeout/GetCMData over the one protocol
// (lock/protocol.ts), as the command line calls it, and hold/lease, the library's `run`: the lock is renewed
// in the background by the same lease keeper (lock/lease.ts) and an AbortSignal fires when it is lost.
// A Lock connects on its first call (the Kubernetes client is loaded then) and keeps that connection.

import { UsageError } from '../errors.ts';
import { LockLostError, LockMissingError, NotYourLockError } from '../lock/errors.ts';
import { holderIdentity, processIdentity, resolveOwner, thisPod } from '../lock/holder.ts';
import { describe, leaseTimings } from '../lock/lease.ts';
import { acquire, release, renew, renewFrom } from '../lock/protocol.ts';
import { ServerClock } from '../lock/server-clock.ts';
import type { OwnerReference, StoredLock } from '../lock/store.ts';
import type { AcquireResult, Holder, LockContext, LockView } from '../lock/types.ts';
import { Lease, type LeaseControl } from './lease.ts';
import {
  checkOptions,
  checkTimeout,
  checkTtl,
  type AcquiredLock,
  type AcquireOptions,
  type Checked,
  type LockOptions,
  type ReleaseOptions,
  type RenewOptions,
} from './options.ts';
import { nodeSystem, type LibSession, type System } from './system.ts';

/** The connection a Lock opened on its first call. */
interface Connected {
  session: LibSession;
  ctx: LockContext;
  namespace: string;
  /** The owner reference, resolved on the first acquire. */
  owner?: Promise<OwnerReference | undefined>;
}

/**
 * A lock stored as a ConfigMap, the same lock `kubectl cmlock` and the Go library take. Making one sends
 * nothing; each method is one protocol operation. A Lock holds at most one acquisition at a time.
 *
 * ```ts
 * const lock = new Lock('db-migrate', { kubeConfig, namespace: 'ops', ttl: 30_000 });
 * await lock.hold(async (signal) => migrate({ signal }));
 * ```
 */
export class Lock implements AsyncDisposable {
  readonly #options: Checked;
  readonly #system: System;
  readonly #kubeConfig: LockOptions['kubeConfig'];
  #connected: Promise<Connected> | undefined;
  #identity: string | undefined;
  #namespace: string | undefined;
  /** The object our last acquire or renewal left: where the next renewal starts. */
  #held: StoredLock | undefined;
  #lease: Lease | undefined;

  /** Checks the name and options (a UsageError when one is bad); sends nothing. */
  constructor(name: string, options?: LockOptions);
  /** @internal Tests run a Lock over a fake store and clock. */
  constructor(name: string, options: LockOptions | undefined, system: System);
  constructor(name: string, options: LockOptions = {}, system: System = nodeSystem) {
    this.#options = checkOptions(name, options);
    this.#system = system;
    this.#kubeConfig = options.kubeConfig;
    this.#identity = this.#options.identity;
    this.#namespace = this.#options.namespace;
  }

  /** The lock's name: the ConfigMap's (the seed's GetName). */
  get name(): string {
    return this.#options.name;
  }

  /** The namespace: the option, else known once the first call has resolved the kubeconfig. */
  get namespace(): string | undefined {
    return this.#namespace;
  }

  /** Who holds the lock through this object: the option, else known once the first call has connected. */
  get identity(): string | undefined {
    return this.#identity;
  }

  /** The lease length acquire writes, in ms; 0 = never expires (the seed's GetTimeout). */
  get ttl(): number {
    return this.#options.ttlMs;
  }

  /** The labels the ConfigMap is written with, `app.kubernetes.io/managed-by` included. */
  get labels(): Readonly<Record<string, string>> {
    return { ...this.#options.labels };
  }

  /**
   * The ConfigMap data as this object's last acquire or renewal wrote it (the seed's GetCMData: `holderIdentity`,
   * `expiresAt`, …); undefined while it holds nothing.
   */
  get data(): Readonly<Record<string, string>> | undefined {
    return this.#held === undefined ? undefined : { ...this.#held.data };
  }

  /**
   * Takes the lock, waiting while someone else holds it (see AcquireOptions.timeout). Resolves with the lock as
   * taken, its fencing token included. Rejects with LockHeldError at the timeout, with the signal's reason when
   * aborted (nothing is left behind), UsageError/ConfigError before anything is sent, CmlockError for API
   * failures. The lock is not renewed: it lapses after `ttl` unless renewed, released, or taken through lease().
   */
  async acquire(options: AcquireOptions = {}): Promise<AcquiredLock> {
    return view(await this.#acquire(options));
  }

  async #acquire(options: AcquireOptions): Promise<AcquireResult> {
    const timeoutMs = checkTimeout(options.timeout);
    const { signal } = options;
    return this.#call(signal, async () => {
      const conn = await this.#connect();
      await this.#knowUser(conn, signal);
      conn.owner ??= this.#resolveOwner(conn, signal);
      const owner = await conn.owner.catch((err: unknown) => {
        conn.owner = undefined; // a transient failure is tried again next time
        throw err;
      });
      const o = this.#options;
      const result = await acquire(conn.ctx, {
        name: o.name,
        ttlMs: o.ttlMs,
        timeoutMs,
        reason: o.reason,
        labels: o.labels,
        owner,
        ...(o.shared ? { shared: true } : {}),
        ...(o.limit > 1 ? { limit: o.limit } : {}),
        signal,
      });
      this.#held = result.stored;
      return result;
    });
  }

  /**
   * Extends the lease (`ttl` to change it). After this object's acquire, one update from the object it wrote;
   * otherwise (the lock taken by another process with the same identity) a read, then the update. Rejects with
   * NotYourLockError when someone else holds it, LockMissingError when it is gone.
   */
  async renew(options: RenewOptions = {}): Promise<LockView> {
    const ttlMs = options.ttl === undefined ? undefined : checkTtl(options.ttl, 'ttl');
    const { signal } = options;
    return this.#call(signal, async () => {
      const { ctx } = await this.#connect();
      if (this.#held === undefined) return renew(ctx, { name: this.name, ttlMs, signal });
      try {
        const renewed = await renewFrom(ctx, { from: this.#held, ttlMs, signal });
        this.#held = renewed.stored;
        return renewed.lock;
      } catch (err) {
        this.#forgetIfLost(err);
        throw err;
      }
    });
  }

  /**
   * Releases the lock this identity holds: deletes exactly the ConfigMap it inspected. Stops a lease of this
   * object. Rejects with NotYourLockError when someone else holds it, LockMissingError when it is gone.
   */
  async release(options: ReleaseOptions = {}): Promise<void> {
    await this.#lease?.stop();
    this.#lease = undefined;
    const { signal } = options;
    await this.#call(signal, async () => {
      const { ctx } = await this.#connect();
      try {
        await release(ctx, { name: this.name, force: false, ignoreNotFound: false, signal });
        this.#held = undefined;
      } catch (err) {
        this.#forgetIfLost(err);
        throw err;
      }
    });
  }

  /**
   * Takes the lock and keeps it: renewed every third of `ttl` in the background until released. `lease.signal`
   * fires (reason: LockLostError) the moment the lock is lost: no renewal succeeded for two thirds of `ttl`, or
   * someone else took or deleted it; a third of `ttl` is then left before anyone else may take it. Release it with
   * `await lease.release()` or `await using lease = await lock.lease()`. A ttl of 0 is never renewed nor lost.
   */
  async lease(options: AcquireOptions = {}): Promise<Lease> {
    if (this.#lease !== undefined) throw new UsageError(`lock "${this.name}" is already leased by this object`);
    const acquired = await this.#acquire(options);
    const { ctx, namespace } = await this.#connect();
    const control: LeaseControl = {
      name: this.name,
      namespace,
      clock: ctx.clock,
      timings: leaseTimings(this.ttl),
      leaseStartMono: acquired.leaseStartMono,
      renew: async (signal) => {
        if (this.#held === undefined) throw new LockMissingError(this.name, namespace);
        this.#held = (await renewFrom(ctx, { from: this.#held, ttlMs: this.ttl, signal })).stored;
      },
      release: async (signal) => {
        try {
          await release(ctx, { name: this.name, force: false, ignoreNotFound: false, signal });
        } finally {
          this.#held = undefined;
        }
      },
      forget: () => {
        this.#held = undefined;
        if (this.#lease === lease) this.#lease = undefined;
      },
    };
    const lease = new Lease(view(acquired), control);
    this.#lease = lease;
    return lease;
  }

  /**
   * Runs `fn` while holding the lock: takes it (waiting as acquire does), renews it in the background, and
   * releases it when `fn` settles. `fn` gets an AbortSignal that fires the moment the lock is lost, and the lease
   * (its fencing token in `lease.lock.fence`). Resolves with what `fn` resolved with. Rejects with LockLostError
   * when the lock was lost before `fn` settled (whatever `fn` did), else with `fn`'s error, else with the
   * release's error (the lock then lapses after `ttl`).
   */
  async hold<T>(fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    const lease = await this.lease(options);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn(lease.signal, lease) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    try {
      await lease.release();
    } catch (releaseError) {
      // A lost lock outweighs fn's own outcome; a failed release does not outweigh fn's error.
      if (releaseError instanceof LockLostError || outcome.ok) throw releaseError;
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * `await using lock = new Lock(…)`: at the end of the scope, a lease of this object is released, or a lock
   * it acquired and still holds; nothing is done otherwise. Rejects with LockLostError when that lock turns out
   * to be someone else's or gone.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#lease !== undefined) return this.#lease.release();
    if (this.#held === undefined) return;
    try {
      await this.release();
    } catch (err) {
      if (err instanceof NotYourLockError || err instanceof LockMissingError) {
        throw new LockLostError(
          this.name,
          err instanceof LockMissingError ? err.namespace : err.holder.namespace,
          'taken',
          describe(err),
        );
      }
      throw err;
    }
  }

  /** Runs one operation; once `signal` has fired, rejects with its reason (as fetch does), whatever was thrown. */
  async #call<T>(signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    try {
      return await op();
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      throw err;
    }
  }

  /** Someone else's or gone: this object holds nothing any more. */
  #forgetIfLost(err: unknown): void {
    if (err instanceof NotYourLockError || err instanceof LockMissingError) this.#held = undefined;
  }

  #connect(): Promise<Connected> {
    this.#connected ??= this.#open().catch((err: unknown) => {
      this.#connected = undefined; // a bad kubeconfig may be fixed; try again next call
      throw err;
    });
    return this.#connected;
  }

  async #open(): Promise<Connected> {
    const { clock, facts, pid } = this.#system;
    const session = await this.#system.connect(this.#kubeConfig, this.#options.namespace);
    const namespace = session.namespace;
    const base = holderIdentity(undefined, facts, thisPod(facts, session));
    const identity = this.#options.identity ?? processIdentity(base, 'lib', pid, () => clock.random());
    const holder: Holder = { identity, host: facts.hostname() };
    this.#identity = identity;
    this.#namespace = namespace;
    const ctx: LockContext = {
      store: session.store(namespace),
      clock,
      holder,
      serverClock: new ServerClock(clock),
      times: { wall: () => this.#system.wallNow(), boot: () => undefined },
    };
    return { session, ctx, namespace };
  }

  /** The authenticated user goes into the record (SelfSubjectReview, asked once per connection). */
  async #knowUser(conn: Connected, signal: AbortSignal | undefined): Promise<void> {
    if (conn.ctx.holder.user !== undefined) return;
    const user = await conn.session.whoAmI(signal);
    if (user !== undefined) conn.ctx.holder.user = user;
  }

  #resolveOwner(conn: Connected, signal: AbortSignal | undefined): Promise<OwnerReference | undefined> {
    const { facts } = this.#system;
    return resolveOwner(this.#options.owner, {
      namespace: conn.namespace,
      pod: thisPod(facts, conn.session),
      getPodUid: (namespace, name, s) => conn.session.getPodUid(namespace, name, s),
      ...(signal === undefined ? {} : { signal }),
      source: 'owner',
      // Best effort, as the command line's automatic owner; a library writes nothing to stderr.
      warn: () => {},
    });
  }
}

function view(result: AcquireResult): AcquiredLock {
  const acquired: AcquiredLock = { ...result.lock, outcome: result.outcome };
  if (result.previous !== undefined) acquired.previous = result.previous;
  return acquired;
}
