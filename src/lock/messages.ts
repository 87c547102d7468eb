// The sentences of lock errors: who holds a lock and until when. Strings from the cluster are escaped (text.ts).

import { formatDuration, humanDuration } from './duration.ts';
import { expiryOf, toLockView } from './record.ts';
import type { StoredLock } from './store.ts';
import { formatTime, printable, quote } from './text.ts';

function formatStoredTime(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? printable(text) : formatTime(ms);
}

/**
 * Who holds a lock and until when, for error messages:
 * `alice@host1 (user alice) since 2026-11-26T06:30:00Z, reason "migrating", expires 2026-11-26T07:00:00Z (in 29m)`.
 * serverNowMs is -Infinity while the server's clock is unknown; the "(in …)" part is left out then.
 */
export function describeHolder(lock: StoredLock, serverNowMs: number): string {
  const view = toLockView(lock, serverNowMs);
  let text = view.holder === '' ? 'an unknown holder' : printable(view.holder);
  if (view.user !== '') text += ` (user ${printable(view.user)})`;
  const since = view.acquireTime || view.creationTimestamp;
  if (since !== '') text += ` since ${formatStoredTime(since)}`;
  if (view.reason !== '') text += `, reason ${quote(view.reason)}`;
  const expiry = expiryOf(lock);
  if (expiry === undefined) return `${text}, never expires`;
  text += `, expires ${formatTime(expiry)}`;
  if (Number.isFinite(serverNowMs)) text += ` (in ${humanDuration(Math.max(0, expiry - serverNowMs))})`;
  return text;
}

/** Try-once acquire of a held lock. */
export function heldMessage(name: string, lock: StoredLock, serverNowMs: number, hint = ''): string {
  return `lock ${quote(name)} is held by ${describeHolder(lock, serverNowMs)}${hint}`;
}

/** acquire --timeout or wait --timeout ran out. */
export function timedOutMessage(name: string, timeoutMs: number, lock: StoredLock, serverNowMs: number): string {
  return (
    `timed out after ${formatDuration(timeoutMs)} waiting for lock ${quote(name)} ` +
    `(held by ${describeHolder(lock, serverNowMs)})`
  );
}

/** release/renew by someone who is not the holder. */
export function notHolderMessage(name: string, lock: StoredLock, serverNowMs: number, identity: string): string {
  return `lock ${quote(name)} is held by ${describeHolder(lock, serverNowMs)}, not by you (${printable(identity)})`;
}

export function notFoundMessage(name: string, namespace: string): string {
  return `lock ${quote(name)} not found in namespace ${quote(namespace)}`;
}
