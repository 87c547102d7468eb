// The storage adapter the lock protocol runs over. src/kube/configmap-store.ts implements it with
// ConfigMaps; test/unit uses a scripted fake. Nothing here knows about the Kubernetes client.

import { CmlockError, ExitCode } from '../errors.ts';

/** The parts of a ConfigMap the protocol reads. */
export interface StoredLock {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  /** Server-set creation time (RFC 3339), if known. */
  creationTimestamp?: string;
  labels: Record<string, string>;
  data: Record<string, string>;
  ownerReferences: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  /** Read, never written: the Go library marks its Pod as the controller of its lock. */
  controller?: boolean;
}

/** What the protocol asks the store to write: a whole lock object (labels, data, owners). */
export interface LockWrite {
  name: string;
  labels: Record<string, string>;
  data: Record<string, string>;
  ownerReferences: OwnerReference[];
}

/**
 * Every store call reports the server's clock: the `Date` header of the response (one-second resolution),
 * with the local monotonic times (ms, performance.now()-like) just before sending and just after receiving.
 * The protocol feeds these to ServerClock so expiry is judged on the server's clock, never the local one.
 */
export interface ServerTimeSample {
  /** Date header, ms since the epoch (whole seconds). */
  serverDateMs: number;
  sentAtMono: number;
  receivedAtMono: number;
}

export interface Result<T> {
  value: T;
  time?: ServerTimeSample;
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED'; lock: StoredLock }
  | { type: 'DELETED'; lock: StoredLock }
  /** The resourceVersion we watched from is too old (410 Gone inside the stream): re-read and re-watch. */
  | { type: 'GONE' }
  /** Progress notification; carries the current resourceVersion. */
  | { type: 'BOOKMARK'; resourceVersion: string };

/** Which locks `list` and `watchList` cover. */
export interface ListSelection {
  labelSelector?: string;
  allNamespaces?: boolean;
}

/**
 * What one request may carry besides its arguments. The store owns transport retries (a request the server
 * certainly did not apply: 429, a refused connection, a read that failed); these options bound them.
 */
export interface RequestOptions {
  /** Cancels the request and any wait between its retries (rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * Local monotonic ms (the Clock's, performance.now() in production) past which no retry may wait: the error
   * is reported instead, with its Retry-After for the caller's own schedule.
   */
  deadline?: number;
}

export interface LockStore {
  readonly namespace: string;
  /** Consistent read (no resourceVersion). Resolves value undefined when the lock does not exist. */
  get(name: string, options?: RequestOptions): Promise<Result<StoredLock | undefined>>;
  /** Throws AlreadyExistsError when the name is taken. */
  create(lock: LockWrite, options?: RequestOptions): Promise<Result<StoredLock>>;
  /** Update carrying `resourceVersion`; throws ConflictError when it is stale, StoreNotFoundError when gone. */
  update(lock: LockWrite, resourceVersion: string, options?: RequestOptions): Promise<Result<StoredLock>>;
  /** Delete with uid and resourceVersion preconditions; ConflictError when they fail, StoreNotFoundError when gone. */
  delete(
    name: string,
    preconditions: { uid: string; resourceVersion: string },
    options?: RequestOptions,
  ): Promise<Result<void>>;
  /**
   * List locks (label selector always includes the managed-by label). `resourceVersion` is the list's: a
   * `watchList` of the same selection from it sees every later change.
   */
  list(options: ListSelection, request?: RequestOptions): Promise<Result<StoredLock[]> & { resourceVersion?: string }>;
  /**
   * The ConfigMaps of the selection without the managed-by label, where the Go library's locks are (it writes no
   * label of its own): listed as metadata only (labels and owners, no data), then those `pick` chooses read in
   * full, one GET each (one gone meanwhile is left out). `resourceVersion` is the metadata list's.
   */
  listUnmanaged(
    options: ListSelection,
    pick: (metadata: StoredLock) => boolean,
    request?: RequestOptions,
  ): Promise<Result<StoredLock[]> & { resourceVersion?: string }>;
  /**
   * Watch one lock by name from `resourceVersion`. The iterator ends when the server closes the stream or
   * when it has been silent for longer than the store's watch timeout; it throws on transport errors.
   */
  watch(name: string, resourceVersion: string, signal?: AbortSignal): AsyncIterable<WatchEvent>;
  /**
   * Watch every ConfigMap of the selection (`ls -w`), the managed-by label not required (the Go library's locks
   * carry none): the caller tells the locks from the rest (lock/listing.ts). Ends and fails like `watch`.
   */
  watchList(options: ListSelection, resourceVersion: string, signal?: AbortSignal): AsyncIterable<WatchEvent>;
  /** Events recorded on this lock, oldest first (for `describe`). Empty when RBAC forbids reading them. */
  events(lock: StoredLock, options?: RequestOptions): Promise<LockEvent[]>;
  /** Best effort: records a Kubernetes Event on the lock; never throws. */
  recordEvent(lock: StoredLock, event: { reason: string; message: string; type?: 'Normal' | 'Warning' }): Promise<void>;
}

export interface LockEvent {
  type: string;
  reason: string;
  message: string;
  /** RFC 3339; the newest of lastTimestamp / eventTime / creationTimestamp. */
  time?: string;
  count: number;
}

/** Store-level failures the protocol decides on. Other failures surface as CmlockError (exit 1). */
export class AlreadyExistsError extends CmlockError {
  constructor(name: string) {
    super(`lock "${name}" already exists`, ExitCode.error);
  }
}
export class ConflictError extends CmlockError {
  constructor(name: string) {
    super(`lock "${name}" was changed by someone else`, ExitCode.error);
  }
}
export class StoreNotFoundError extends CmlockError {
  constructor(name: string) {
    super(`lock "${name}" not found`, ExitCode.notFound);
  }
}
/**
 * The request may or may not have been applied (connection reset or timeout after sending, 5xx on a write).
 * A write that fails this way is resolved by reading back our acquisition id, never by a blind retry.
 */
export class AmbiguousWriteError extends CmlockError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.error, options);
  }
}
/**
 * The request certainly was not applied (429, 503 before processing, connect refused). The store has already
 * retried it as far as its retry budget and the request's deadline allow: nobody retries it again (nested retries
 * multiply). `retryAfterMs` is the server's Retry-After, for callers that schedule their own next attempt.
 */
export class RetryableError extends CmlockError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, ExitCode.error, options);
    this.retryAfterMs = retryAfterMs;
  }
}
