// What the lock protocol refuses, as data: the lock as it was seen, on the server's clock, and by whom. Each
// message states the facts (who holds the lock and until when; strings from the cluster escaped); what the
// user can do about it, a flag, is for the command to add (src/cli/hints.ts), so nothing here names a flag.

import { CmlockError, ExitCode, HeldError, LockNotFoundError, NotHolderError, UsageError } from '../errors.ts';
import { formatDuration, humanDuration } from './duration.ts';
import { liveWaiters, occupantsOf, type Claim } from './queue.ts';
import { expiryOf, toLockView } from './record.ts';
import type { StoredLock } from './store.ts';
import { printable, quote } from './text.ts';
import { formatTime, parseTime } from './time.ts';
import type { LockView } from './types.ts';

/** What the refused call was: the command's words depend on it. */
export interface Refusal {
  readonly lock: StoredLock;
  /** ServerClock.now() when it was judged; -Infinity while the server's clock is unknown. */
  readonly serverNowMs: number;
  /** The refused call's own acquisition id: not counted among those waiting. */
  readonly mine?: string;
}

/** Someone else holds the lock: a try-once (timeout 0) found it held, or a wait ran out. Exit 3. */
export class LockHeldError extends HeldError {
  /** What was refused: an acquire (the library's acquire, hold and lease), or a wait. */
  readonly operation: 'acquire' | 'wait';
  /** The lock as it was last seen. */
  readonly holder: LockView;
  /** How long the caller waited when its timeout ran out; undefined for a try-once. */
  readonly timedOutAfterMs: number | undefined;

  /** @internal Made by the protocol. */
  constructor(operation: 'acquire' | 'wait', refusal: Refusal, timedOutAfterMs?: number) {
    const { lock, serverNowMs, mine } = refusal;
    const name = quote(lock.name);
    super(
      timedOutAfterMs === undefined
        ? `lock ${name} is held by ${describeHolder(lock, serverNowMs, mine)}`
        : `timed out after ${formatDuration(timedOutAfterMs)} waiting for lock ${name} ` +
            `(held by ${describeHolder(lock, serverNowMs, mine)})`,
    );
    this.operation = operation;
    this.holder = toLockView(lock, serverNowMs);
    this.timedOutAfterMs = timedOutAfterMs;
  }
}

/** renew or release of a lock that someone else holds. Exit 4. */
export class NotYourLockError extends NotHolderError {
  /** What was refused. */
  readonly operation: 'renew' | 'release';
  /** The lock as it was seen, held by someone else. */
  readonly holder: LockView;
  /** Who we are (Holder.identity). */
  readonly identity: string;
  /** The lock changed hands while a release was resolving a refused or lost delete; it was left untouched. */
  readonly changedHands: boolean;

  /** @internal Made by the protocol. */
  constructor(operation: 'renew' | 'release', refusal: Refusal, identity: string, changedHands = false) {
    const { lock, serverNowMs } = refusal;
    super(
      `lock ${quote(lock.name)} is held by ${describeHolder(lock, serverNowMs)}, not by you (${printable(identity)})` +
        (changedHands ? '; it changed hands while being released and was left untouched' : ''),
    );
    this.operation = operation;
    this.holder = toLockView(lock, serverNowMs);
    this.identity = identity;
    this.changedHands = changedHands;
  }
}

/** The lock does not exist. Exit 5. */
export class LockMissingError extends LockNotFoundError {
  /** The lock's name. */
  readonly lockName: string;
  /** Where it was looked for. */
  readonly namespace: string;

  /** @internal Made by the protocol. */
  constructor(lockName: string, namespace: string) {
    super(`lock ${quote(lockName)} not found in namespace ${quote(namespace)}`);
    this.lockName = lockName;
    this.namespace = namespace;
  }
}

/**
 * A lock held over time (the library's hold and lease; lease.ts keepLease) was lost: no renewal succeeded by the
 * renew deadline ('deadline'), or someone else took or deleted it ('taken'). Exit 6.
 */
export class LockLostError extends CmlockError {
  /** The lock's name. */
  readonly lockName: string;
  /** Its namespace. */
  readonly namespace: string;
  /** 'deadline': renewals failed until the renew deadline; 'taken': someone else took or deleted it. */
  readonly kind: 'deadline' | 'taken';

  /** @internal Made by the lease keeper's verdict. */
  constructor(lockName: string, namespace: string, kind: 'deadline' | 'taken', why: string) {
    super(`lost lock ${quote(lockName)} in namespace ${quote(namespace)}: ${why}`, ExitCode.lost);
    this.lockName = lockName;
    this.namespace = namespace;
    this.kind = kind;
  }
}

/**
 * Who holds a lock and until when:
 * `alice@host1 (user alice) since 2026-11-26T06:30:00Z, reason "migrating", expires 2026-11-26T07:00:00Z (in 29m)`.
 * The "(in …)" part is left out while the server's clock is unknown.
 */
function describeHolder(lock: StoredLock, serverNowMs: number, mine?: string): string {
  const view = toLockView(lock, serverNowMs);
  let text = view.holder === '' ? 'an unknown holder' : printable(view.holder);
  if (view.user !== '') text += ` (user ${printable(view.user)})`;
  const since = view.acquireTime || view.creationTimestamp;
  if (since !== '') text += ` since ${formatStoredTime(since)}`;
  if (view.reason !== '') text += `, reason ${quote(view.reason)}`;
  const expiry = expiryOf(lock);
  if (expiry === undefined) text += ', never expires';
  else {
    text += `, expires ${formatTime(expiry)}`;
    if (Number.isFinite(serverNowMs)) text += ` (in ${humanDuration(Math.max(0, expiry - serverNowMs))})`;
  }
  const waiting = liveWaiters(occupantsOf(lock), serverNowMs).filter((w) => w.acquisitionId !== mine).length;
  return waiting === 0 ? text : `${text}; ${waiting} waiting`;
}

/** A semaphore's limit is the lock's: another is a usage error (exit 2). */
export class LimitMismatchError extends UsageError {
  readonly lockName: string;
  /** The lock's limit (1: not a semaphore). */
  readonly stored: number;
  readonly claim: Claim;

  constructor(lockName: string, stored: number, claim: Claim) {
    const name = quote(lockName);
    super(
      stored === 1
        ? `lock ${name} is not a semaphore (one holder at a time, or shared holders), so it cannot be one of ${claim.limit}`
        : claim.shared
          ? `lock ${name} is a semaphore of ${stored}; it cannot be held shared`
          : claim.limit === 1
            ? `lock ${name} is a semaphore of ${stored}; it cannot be held alone`
            : `lock ${name} is a semaphore of ${stored}, not of ${claim.limit}`,
    );
    this.lockName = lockName;
    this.stored = stored;
    this.claim = claim;
  }
}

/** The queue is full: held by someone else, and too many wait already. Exit 3. */
export class QueueFullError extends HeldError {
  constructor(lockName: string, waiting: number) {
    super(`lock ${quote(lockName)} is held and ${waiting} already wait for it, the most one lock queues`);
  }
}

/** A forced release of a lock with several holders must say whose hold ends (or all). Exit 2. */
export class ChooseHolderError extends UsageError {
  /** The holder named, when no holder has that identity. */
  readonly named: string | undefined;

  constructor(lock: StoredLock, named?: string) {
    const holders = occupantsOf(lock).holders.map((h) => printable(h.identity));
    const name = quote(lock.name);
    super(
      named === undefined
        ? `lock ${name} has ${holders.length} holders (${holders.join(', ')})`
        : `lock ${name} has no holder ${quote(named)} (holders: ${holders.join(', ')})`,
    );
    this.named = named;
  }
}

function formatStoredTime(text: string): string {
  const ms = parseTime(text);
  return ms === undefined ? printable(text) : formatTime(ms);
}
