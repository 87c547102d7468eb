// `kubectl cmlock describe NAME`: kubectl-describe-like "Key:  value" lines, then the lock's Events.

import { bornExpired } from '../lock/go-library.ts';
import type { DescribedLock, LockEvent } from '../lock/types.ts';
import { printable } from '../lock/text.ts';
import { renderTable } from './table.ts';
import { formatDuration } from '../lock/duration.ts';
import { formatAge, formatRelative, formatTimestamp } from './time.ts';

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
  if (bornExpired(lock)) {
    fields.push(['Warning', 'expired before it was created: the Go program that took it may still think it holds it']);
  }
  const width = Math.max(...fields.map(([key]) => key.length)) + 3;
  const lines: string[] = [];
  for (const [key, value] of fields) {
    const values = typeof value === 'string' ? [value] : value;
    values.forEach((v, i) => lines.push(`${(i === 0 ? `${key}:` : '').padEnd(width)}${printable(v)}`));
  }
  if (lock.events.length === 0) {
    lines.push('Events:'.padEnd(width) + '<none>');
    return `${lines.join('\n')}\n`;
  }
  // kubectl's event table: Title-case headers underlined with dashes, two spaces between columns.
  const events = renderTable(
    ['Type', 'Reason', 'Age', 'Message'],
    [['----', '------', '----', '-------'], ...eventRows(lock.events, now)],
    { separator: '  ', indent: '  ', keepHeaderCase: true },
  );
  return `${lines.join('\n')}\nEvents:\n${events}`;
}
