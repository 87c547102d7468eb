// The types of the lock API the commands call; implemented in src/lock/protocol.ts and src/lock/wait.ts.

import type { ServerClock } from './server-clock.ts';
import type { LockEvent, LockStore, OwnerReference, StoredLock } from './store.ts';
import type { LocalTimes } from './time-jumps.ts';

/** Local monotonic time and timers, injected so unit tests never sleep for real. */
export interface Clock {
  /** Monotonic milliseconds (performance.now() in production). */
  now(): number;
  /** Resolves after ms, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Random number in [0, 1) for jitter; injected so tests are deterministic. */
  random(): number;
}

/** Who is taking the lock. Built by the command layer from flags, env and the server's SelfSubjectReview. */
export interface Holder {
  /** Stable per user and host (or the identity the user gives); per process for `run`. */
  identity: string;
  /** Authenticated Kubernetes user, when the server tells it. */
  user?: string;
  host: string;
}

export interface LockContext {
  store: LockStore;
  clock: Clock;
  holder: Holder;
  /** Progress for humans (stderr). Never data. */
  progress?: (status: WaitStatus) => void;
  /**
   * What this process knows of the API server's clock. Share one across calls on the same store (e.g. `run`'s
   * acquire and renewals); when absent, each call starts its own and learns the time from its first response.
   */
  serverClock?: ServerClock;
  /**
   * The wall and boot clocks, to notice a machine suspend or a stall while waiting: the server's clock is then
   * re-learnt and the lock re-read, so that no status line or expiry timer runs on time that passed unseen.
   */
  times?: LocalTimes;
}

/** 'Held' until the lease runs out on the server's clock, then 'Expired' (anyone may take it over). */
export type LockStatus = 'Held' | 'Expired';

/** One lock as users see it (`-o json|yaml` prints exactly these fields; the library returns them). */
export interface LockView {
  /** The lock's name: the ConfigMap's. */
  name: string;
  /** The ConfigMap's namespace. */
  namespace: string;
  /** The holder's identity; '' when unknown (a lock written by the Go library). */
  holder: string;
  /** The authenticated Kubernetes user of the holder, when the server told it; else ''. */
  user: string;
  /** The holder's host name. */
  host: string;
  /** RFC 3339 on the server's clock; a lock written by the Go library: its creationTimestamp; '' when unknown. */
  acquireTime: string;
  /** RFC 3339 on the server's clock: the last renewal (the acquisition at first). */
  renewTime: string;
  /** 0 = never expires. */
  leaseDurationSeconds: number;
  /** RFC 3339, '' when the lock never expires. */
  expiresAt: string;
  /** Held or Expired, judged on the server's clock when the lock was read or written. */
  status: LockStatus;
  /** Why it is held, as its holder said. */
  reason: string;
  /** Decimal string; strictly increases across acquisitions of the same name. */
  fence: string;
  /** `pod/NAME` when an owner reference ties the lock to a Pod, else ''. */
  owner: string;
  /** The ConfigMap's labels, `app.kubernetes.io/managed-by` included. */
  labels: Record<string, string>;
  /** Server-set creation time of the ConfigMap (RFC 3339). */
  creationTimestamp: string;
  /** True when the ConfigMap carries no cmlock record (written by the Go lock library). */
  foreign: boolean;
  /**
   * Only for shared locks and semaphores: every holder (the fields above then summarise them, or, in what
   * acquire and renew print, describe the caller's own hold).
   */
  holders?: HolderView[];
  /** Only for a semaphore: how many may hold it at once. */
  limit?: number;
  /** Only while someone waits: the queue, first in line first. */
  waiters?: WaiterView[];
}

/** One holder of a shared lock or semaphore (the fields as in LockView, for this hold). */
export interface HolderView {
  /** The holder's identity. */
  holder: string;
  /** Its authenticated Kubernetes user, when the server told it; else ''. */
  user: string;
  /** Its host name. */
  host: string;
  /** RFC 3339 on the server's clock. */
  acquireTime: string;
  /** RFC 3339 on the server's clock: its last renewal. */
  renewTime: string;
  /** 0 = never expires. */
  leaseDurationSeconds: number;
  /** RFC 3339, '' when it never expires. */
  expiresAt: string;
  /** Held or Expired (its own lease), judged on the server's clock. */
  status: LockStatus;
  /** Why it holds the lock. */
  reason: string;
  /** Its fencing token: greater than every token handed out for this name before it. */
  fence: string;
  /** A shared hold (`--shared`); false for an exclusive one or a semaphore's slot. */
  shared: boolean;
}

/** One waiter in a lock's queue. */
export interface WaiterView {
  /** The waiter's identity. */
  identity: string;
  /** Its authenticated Kubernetes user, when the server told it; else ''. */
  user: string;
  /** Its host name. */
  host: string;
  /** RFC 3339, server clock: when it joined the queue. */
  since: string;
  /** Why it wants the lock. */
  reason: string;
  /** It waits for a shared hold. */
  shared: boolean;
}

export interface DescribedLock extends LockView {
  uid: string;
  resourceVersion: string;
  events: LockEvent[];
}

export interface AcquireOptions {
  name: string;
  /** Lease length in ms; 0 = never expires. */
  ttlMs: number;
  /** 0 = try once; < 0 = wait without limit; > 0 = wait at most this long. */
  timeoutMs: number;
  reason: string;
  labels: Record<string, string>;
  owner?: OwnerReference;
  /** A shared hold: shared holders coexist; an exclusive one (the default) excludes everyone. */
  shared?: boolean;
  /** A semaphore: up to this many holders at once (default 1). Must agree with the lock's, unless it is free. */
  limit?: number;
  signal?: AbortSignal;
}

/** 'acquired': it was free; 'tookOver': an expired holder's lock was replaced; 'alreadyHeld': this identity held it. */
export type AcquireOutcome = 'acquired' | 'alreadyHeld' | 'tookOver';

export interface AcquireResult {
  lock: LockView;
  outcome: AcquireOutcome;
  /** The holder whose expired lock was taken over. */
  previous?: LockView;
  /** Local monotonic time (Clock.now) just before the acquiring write was sent: the lease runs from here. */
  leaseStartMono: number;
  /** The object as acquire left it (after the update that made it its own owner, if any): renewFrom starts here. */
  stored: StoredLock;
}

export interface ReleaseOptions {
  name: string;
  force: boolean;
  ignoreNotFound: boolean;
  /** With force, on a lock with several holders: break this holder's hold (its identity). */
  holder?: string;
  /** With force: break every holder's hold. */
  all?: boolean;
  signal?: AbortSignal;
}

export interface ReleaseResult {
  /** The hold that was released (as it was); undefined when the lock was already gone and ignoreNotFound was set. */
  released?: LockView;
  forced: boolean;
  /** Who the lock was handed to: the waiters first in line, offered it by the release. */
  handedTo?: string[];
}

export interface RenewOptions {
  name: string;
  /** New lease length in ms; undefined keeps the current one. */
  ttlMs?: number;
  signal?: AbortSignal;
}

export interface RenewFromOptions {
  /** The object the last acquire or renewal of ours left (AcquireResult.stored, RenewedLock.stored). */
  from: StoredLock;
  /** New lease length in ms; undefined keeps the current one. */
  ttlMs?: number;
  signal?: AbortSignal;
}

/** A renewal's result: the lock as users see it, and the object to renew from next time. */
export interface RenewedLock {
  lock: LockView;
  stored: StoredLock;
}

export interface WaitOptions {
  name: string;
  /** 0 = check once; < 0 = no limit. */
  timeoutMs: number;
  /** Free for a shared hold (no exclusive holder), rather than for an exclusive one (no holder at all). */
  shared?: boolean;
  signal?: AbortSignal;
}

/** What a waiter reports while it waits (the command layer renders it as a status line). */
export interface WaitStatus {
  name: string;
  namespace: string;
  holder: string;
  acquireTime: string;
  expiresAt: string;
  waitedMs: number;
  /** In the queue: 1 = first in line; absent while not queued. */
  position?: number;
  /** How many wait in the queue. */
  waiting?: number;
}

export type { LockEvent, LockStore, OwnerReference, StoredLock };
