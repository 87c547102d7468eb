// The library's options and results, checked once when a Lock is made: a bad value is a UsageError before
// anything is sent, with the option named as the caller wrote it. Durations are milliseconds, as in Node's own
// APIs (setTimeout, AbortSignal.timeout).

import { UsageError } from '../errors.ts';
import type { OwnerChoice } from '../lock/holder.ts';
import {
  isDns1123Subdomain,
  lockLabels,
  validateIdentity,
  validateLabel,
  validateLockName,
  validateNamespace,
} from '../lock/names.ts';
import { isLimit, MAX_LIMIT } from '../lock/queue.ts';
import type { AcquireOutcome, LockView } from '../lock/types.ts';
import type { KubeConfig } from '../kube/index.ts';

/** How a Lock connects and what it writes. Every field is optional; later versions only add optional fields. */
export interface LockOptions {
  /**
   * The cluster, user and namespace to use: a client-node KubeConfig, its current context. Default: resolved as
   * kubectl does (KUBECONFIG, ~/.kube/config, else the in-cluster service account).
   */
  kubeConfig?: KubeConfig;
  /** Where the lock lives. Default: the context's namespace, else the Pod's (in-cluster), else "default". */
  namespace?: string;
  /**
   * Lease length in ms: how long the lock lives without renewal (hold and lease renew it every third of it).
   * At least 1000, or 0 for a lock that never expires. Default: 60000.
   */
  ttl?: number;
  /** Labels added to the ConfigMap (the seed's WithLabels); `app.kubernetes.io/managed-by` is always set. */
  labels?: Readonly<Record<string, string>>;
  /** Why the lock is held, shown by `kubectl cmlock ls` and `describe`. */
  reason?: string;
  /**
   * Who holds the lock, as others see it. Default: unique to this Lock object (`USER@HOST/lib-PID-XXXX`, or
   * `pod/NAMESPACE/NAME/lib-…` in a Pod, `$CMLOCK_IDENTITY/lib-…` when set), so that two Lock objects exclude each
   * other even in one process. Given: used as it is, so another process with the same identity may renew or
   * release the lock, and an acquire by it succeeds at once ("already held").
   */
  identity?: string;
  /**
   * The Pod whose deletion frees the lock (an ownerReference, for the garbage collector). 'auto' (default): this
   * process's Pod when it runs in one ($POD_NAME/$POD_NAMESPACE, or the in-cluster hostname), best effort;
   * 'none': no Pod; or a Pod of the lock's namespace, which must exist. A lock with no Pod owns itself, so that it
   * always has exactly one ownerReference (what the Go lock library needs to break it once expired).
   */
  owner?: 'auto' | 'none' | OwnerPod;
  /**
   * A shared hold (`--shared`): shared holders hold the lock together while nobody holds it exclusively; an
   * exclusive hold (the default) waits for all of them, and a waiting exclusive one goes before later shared ones.
   */
  shared?: boolean;
  /**
   * A semaphore (`--limit N`): up to this many hold the lock at once, 1 to 256 (1, the default, is an ordinary
   * lock). The lock stores it: acquiring with another limit rejects with a UsageError while anyone holds or waits
   * for it. Not together with `shared`.
   */
  limit?: number;
}

/** A Pod of the lock's namespace, named as the lock's owner. */
export interface OwnerPod {
  /** The Pod's name. */
  readonly pod: string;
}

/** How acquire, lease and hold wait. */
export interface AcquireOptions {
  /**
   * How long to wait while someone else holds the lock, in ms: 0 tries once; a negative number or Infinity waits
   * without limit (the default). Past it, acquire rejects with LockHeldError.
   */
  timeout?: number;
  /** Stops waiting: acquire rejects with the signal's reason, and leaves no lock behind. */
  signal?: AbortSignal;
}

/** How renew extends the lease. */
export interface RenewOptions {
  /** A new lease length in ms (at least 1000, or 0: never expires); default: the lock's current one. */
  ttl?: number;
  /** Cancels the renewal: renew rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** How release gives the lock back. */
export interface ReleaseOptions {
  /** Cancels the release: release rejects with the signal's reason (the lock may or may not be gone). */
  signal?: AbortSignal;
}

/** What acquire took: the lock as `kubectl cmlock acquire -o json` prints it, and how it was taken. */
export interface AcquiredLock extends LockView {
  /** 'acquired': it was free; 'tookOver': an expired holder's lock was replaced; 'alreadyHeld': this identity held it. */
  outcome: AcquireOutcome;
  /** With 'tookOver': the expired lock it replaced. */
  previous?: LockView;
}

/** The options as a Lock uses them, checked. */
export interface Checked {
  name: string;
  namespace: string | undefined;
  ttlMs: number;
  labels: Record<string, string>;
  reason: string;
  identity: string | undefined;
  owner: OwnerChoice;
  shared: boolean;
  /** 1 = an ordinary lock. */
  limit: number;
}

export const DEFAULT_TTL_MS = 60_000;

export function checkOptions(name: string, options: LockOptions): Checked {
  if (typeof name !== 'string') throw new UsageError('the lock name must be a string');
  validateLockName(name);
  if (options.namespace !== undefined) validateNamespace(options.namespace);
  const labels = { ...options.labels };
  for (const [key, value] of Object.entries(labels)) validateLabel(key, value);
  if (options.reason !== undefined && typeof options.reason !== 'string') {
    throw new UsageError('reason must be a string');
  }
  return {
    name,
    namespace: options.namespace,
    ttlMs: options.ttl === undefined ? DEFAULT_TTL_MS : checkTtl(options.ttl, 'ttl'),
    labels: lockLabels(labels),
    reason: options.reason ?? '',
    identity: options.identity === undefined ? undefined : validateIdentity(options.identity, 'identity'),
    owner: checkOwner(options.owner),
    ...checkHoldKind(options.shared, options.limit),
  };
}

/** shared and limit, as `--shared` and `--limit` (cli/validate.ts holdKind): one or the other. */
function checkHoldKind(shared: unknown, limit: unknown): { shared: boolean; limit: number } {
  if (shared !== undefined && typeof shared !== 'boolean') throw new UsageError('shared must be a boolean');
  if (limit === undefined) return { shared: shared === true, limit: 1 };
  if (typeof limit !== 'number' || !isLimit(limit)) {
    throw new UsageError(`limit must be a whole number from 1 to ${MAX_LIMIT} (got ${String(limit)})`);
  }
  if (shared === true && limit > 1) {
    throw new UsageError(
      'shared and limit cannot be combined: a lock takes shared and exclusive holds, or is a semaphore',
    );
  }
  return { shared: shared === true, limit };
}

/** A lease length in ms: 0 (never expires) or at least a second, as `--ttl`. */
export function checkTtl(ttl: number, what: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new UsageError(`${what} must be a finite number of milliseconds, 0 or more (got ${String(ttl)})`);
  }
  if (ttl > 0 && ttl < 1000) throw new UsageError(`${what} must be 0 or at least 1000 ms (got ${ttl})`);
  return Math.round(ttl);
}

/** acquire's timeout as the protocol takes it: 0 = try once, < 0 = no limit. */
export function checkTimeout(timeout: number | undefined): number {
  if (timeout === undefined || timeout === Infinity) return -1;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw new UsageError(`timeout must be a number of milliseconds (got ${String(timeout)})`);
  }
  return timeout < 0 ? -1 : Math.ceil(timeout);
}

function checkOwner(owner: LockOptions['owner']): OwnerChoice {
  if (owner === undefined || owner === 'auto') return { kind: 'auto' };
  if (owner === 'none') return { kind: 'none' };
  if (typeof owner === 'object' && owner !== null && typeof owner.pod === 'string') {
    if (!isDns1123Subdomain(owner.pod)) {
      throw new UsageError(
        `invalid owner pod "${owner.pod}": must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")`,
      );
    }
    return { kind: 'pod', name: owner.pod };
  }
  throw new UsageError(`owner must be 'auto', 'none' or { pod: NAME }`);
}
