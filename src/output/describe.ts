// `kubectl cmlock describe NAME`: kubectl-describe-like "Key:  value" lines, the holders of a shared lock or
// semaphore and the queue in order (each only when there is one), then the lock's Events.

import { bornExpired } from '../lock/go-library.ts';
import type { DescribedLock, HolderView, LockEvent, WaiterView } from '../lock/types.ts';
import { printable } from '../lock/text.ts';
import { renderTable } from './table.ts';
import { formatDuration } from '../lock/duration.ts';
import { formatAge, formatExpires, formatRelative, formatTimestamp } from './time.ts';

function orNone(value: string): string {
  return value === '' ? '<none>' : value;
}

function timeWithRelative(time: string, now: number): string {
  return time === '' ? '<unknown>' : `${formatTimestamp(time)} (${formatRelative(time, now)})`;
}

function leaseDuration(seconds: number, expiresAt: string): string {
  if (seconds !== 0) return formatDuration(seconds * 1000);
  // No lease recorded but an expiry (a Go library lock: only `expiresAt`): the lease is unknown, not endless.
  return expiresAt === '' ? '0 (never expires)' : '<unknown>';
}

function holderRows(holders: readonly HolderView[], now: number): string[][] {
  return holders.map((h) => [
    orNone(h.holder),
    orNone(h.user),
    orNone(h.host),
    h.shared ? 'shared' : 'exclusive',
    h.acquireTime === '' ? '<unknown>' : `${formatTimestamp(h.acquireTime)} (${formatRelative(h.acquireTime, now)})`,
    formatExpires(h.expiresAt, now),
    orNone(h.fence),
    orNone(h.reason),
  ]);
}

function waiterRows(waiters: readonly WaiterView[], now: number): string[][] {
  return waiters.map((w, i) => [
    String(i + 1),
    orNone(w.identity),
    orNone(w.user),
    orNone(w.host),
    w.shared ? 'shared' : 'exclusive',
    w.since === '' ? '<unknown>' : `${formatTimestamp(w.since)} (${formatRelative(w.since, now)})`,
    orNone(w.reason),
  ]);
}

/**
 * A kubectl-describe sub-table: Title-case headers underlined with as many dashes (four under "Age", as kubectl
 * does), two spaces between columns.
 */
function section(head: string[], rows: string[][]): string {
  return renderTable(head, [head.map((h) => (h === 'Age' ? '----' : '-'.repeat(h.length))), ...rows], {
    separator: '  ',
    indent: '  ',
    keepHeaderCase: true,
  });
}

function eventRows(events: readonly LockEvent[], now: number): string[][] {
  return events.map((e) => {
    const age = e.time === undefined ? '<unknown>' : formatAge(e.time, now);
    return [e.type, e.reason, e.count > 1 ? `${age} (x${e.count})` : age, e.message];
  });
}

/** The describe block; `now` is the server's time (ms since the epoch). Cluster strings are escaped. */
export function renderDescribe(lock: DescribedLock, now: number): string {
  const labels = Object.entries(lock.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  const fields: [string, string | string[]][] = [
    ['Name', lock.name],
    ['Namespace', lock.namespace],
    ['Holder', orNone(lock.holder)],
    ['User', orNone(lock.user)],
    ['Host', orNone(lock.host)],
    ['Status', lock.status],
    ['Reason', orNone(lock.reason)],
    ['Acquired', timeWithRelative(lock.acquireTime, now)],
    ['Renewed', timeWithRelative(lock.renewTime, now)],
    ['Lease Duration', leaseDuration(lock.leaseDurationSeconds, lock.expiresAt)],
    ['Expires', lock.expiresAt === '' ? 'never' : timeWithRelative(lock.expiresAt, now)],
    ['Fence', orNone(lock.fence)],
    ['Owner', orNone(lock.owner)],
    ['Labels', labels.length === 0 ? '<none>' : labels],
  ];
  if (lock.foreign) fields.push(['Written By', 'the Go lock library (no cmlock record)']);
  if (lock.limit !== undefined) fields.push(['Limit', `${lock.limit} holders at once (a semaphore)`]);
  if (bornExpired(lock)) {
    fields.push(['Warning', 'expired before it was created: the Go program that took it may still think it holds it']);
  }
  const width = Math.max(...fields.map(([key]) => key.length)) + 3;
  const lines: string[] = [];
  for (const [key, value] of fields) {
    const values = typeof value === 'string' ? [value] : value;
    values.forEach((v, i) => lines.push(`${(i === 0 ? `${key}:` : '').padEnd(width)}${printable(v)}`));
  }
  let text = `${lines.join('\n')}\n`;
  if (lock.holders !== undefined) {
    const head = ['Holder', 'User', 'Host', 'Kind', 'Acquired', 'Expires', 'Fence', 'Reason'];
    text += `Holders:\n${section(head, holderRows(lock.holders, now))}`;
  }
  if (lock.waiters !== undefined) {
    const head = ['#', 'Identity', 'User', 'Host', 'Kind', 'Since', 'Reason'];
    text += `Waiting:\n${section(head, waiterRows(lock.waiters, now))}`;
  }
  if (lock.events.length === 0) return `${text}${'Events:'.padEnd(width)}<none>\n`;
  // kubectl's event table, the same way.
  return `${text}Events:\n${section(['Type', 'Reason', 'Age', 'Message'], eventRows(lock.events, now))}`;
}
