// Locks as users see them: the `ls` table, and the machine formats (-o json|yaml|name) of one lock or a list.
// The holders of a shared lock or semaphore, its limit and its queue appear only where they apply: a plain lock
// prints exactly the fields and cells it always did (plus the WAITING count every table has).

import type { LockView } from '../lock/types.ts';
import { toJson, toYaml } from './format.ts';
import { renderTable } from './table.ts';
import { formatAge, formatExpires, formatTimestamp } from './time.ts';

/** Every LockView field, in the order -o json|yaml prints them (the Record makes the compiler check the list). */
const FIELDS: Readonly<Record<keyof LockView, true>> = {
  name: true,
  namespace: true,
  holder: true,
  user: true,
  host: true,
  acquireTime: true,
  renewTime: true,
  leaseDurationSeconds: true,
  expiresAt: true,
  status: true,
  reason: true,
  fence: true,
  owner: true,
  labels: true,
  creationTimestamp: true,
  foreign: true,
  holders: true,
  limit: true,
  waiters: true,
};
const FIELD_ORDER = Object.keys(FIELDS) as (keyof LockView)[];

/**
 * A copy with exactly the LockView fields, so a DescribedLock (uid, events, ...) prints the same as a LockView.
 * The optional ones (holders, limit, waiters) only when present.
 */
export function toLockObject(lock: LockView): LockView {
  const out: Partial<Record<keyof LockView, unknown>> = {};
  for (const key of FIELD_ORDER) {
    const value = lock[key];
    if (value === undefined) continue;
    out[key] =
      key === 'labels' ? { ...lock.labels } : Array.isArray(value) ? value.map((v: object) => ({ ...v })) : value;
  }
  return out as LockView;
}

export type ObjectFormat = 'json' | 'yaml' | 'name';

/** `-o json|yaml|name` of one lock. */
export function renderLock(lock: LockView, format: ObjectFormat): string {
  switch (format) {
    case 'json':
      return toJson(toLockObject(lock));
    case 'yaml':
      return toYaml(toLockObject(lock));
    case 'name':
      return `cmlock/${lock.name}\n`;
  }
}

/** `ls -o json|yaml|name`: `{"items": [...]}` of the same objects, or one name a line. */
export function renderLockList(locks: readonly LockView[], format: ObjectFormat): string {
  switch (format) {
    case 'json':
      return toJson({ items: locks.map(toLockObject) });
    case 'yaml':
      return toYaml({ items: locks.map(toLockObject) });
    case 'name':
      return locks.map((lock) => `cmlock/${lock.name}\n`).join('');
  }
}

export interface LockTableOptions {
  /** Server time, ms since the epoch: AGE and EXPIRES are relative to it. */
  now: number;
  /** NAMESPACE first (`-A`). */
  allNamespaces?: boolean;
  /** `-o wide`: adds USER, HOST, FENCE, OWNER, ACQUIRED, NEXT (the first in line), and every holder's identity. */
  wide?: boolean;
  noHeaders?: boolean;
  /** A HOLDERS column ("2/3", "shared 4"): only when a listed lock is shared or a semaphore (see hasHolders). */
  holders?: boolean;
}

function orNone(value: string): string {
  return value === '' ? '<none>' : value;
}

/** Whether a HOLDERS column applies: some lock is shared or a semaphore. */
export function hasHolders(locks: readonly LockView[]): boolean {
  return locks.some((lock) => lock.holders !== undefined);
}
/** The REASON of a lock the Go library wrote, which records none: how a table tells its locks apart. */
const GO_LIBRARY = '<Go library>';

/** The `ls` table's header row. */
export function lockTableHead(options: Omit<LockTableOptions, 'now'>): string[] {
  const head = ['NAME', 'HOLDER', 'STATUS', 'AGE', 'EXPIRES'];
  if (options.holders === true) head.push('HOLDERS');
  head.push('WAITING', 'REASON');
  if (options.wide === true) head.push('USER', 'HOST', 'FENCE', 'OWNER', 'ACQUIRED', 'NEXT');
  if (options.allNamespaces === true) head.unshift('NAMESPACE');
  return head;
}

/** The HOLDERS cell: live holders of a semaphore out of its limit, "shared N", or 1 for a plain lock. */
function holdersCell(lock: LockView): string {
  if (lock.holders === undefined) return lock.status === 'Held' ? '1' : '0';
  const live = lock.holders.filter((h) => h.status === 'Held').length;
  if (lock.limit !== undefined) return `${live}/${lock.limit}`;
  return lock.holders.every((h) => h.shared) ? `shared ${live}` : String(live);
}

/** One `ls` row (cells not yet escaped). `status` replaces the STATUS cell (`ls -w` shows a deleted lock as Released). */
export function lockTableRow(lock: LockView, options: LockTableOptions, status: string = lock.status): string[] {
  const since = lock.acquireTime !== '' ? lock.acquireTime : lock.creationTimestamp;
  const holder =
    options.wide === true && lock.holders !== undefined ? lock.holders.map((h) => h.holder).join(',') : lock.holder;
  const row = [
    lock.name,
    orNone(holder),
    status,
    formatAge(since, options.now),
    formatExpires(lock.expiresAt, options.now),
  ];
  if (options.holders === true) row.push(holdersCell(lock));
  row.push(String(lock.waiters?.length ?? 0), lock.foreign ? GO_LIBRARY : orNone(lock.reason));
  if (options.wide === true) {
    row.push(orNone(lock.user), orNone(lock.host), orNone(lock.fence), orNone(lock.owner));
    row.push(lock.acquireTime === '' ? '<unknown>' : formatTimestamp(lock.acquireTime));
    row.push(orNone(lock.waiters?.[0]?.identity ?? ''));
  }
  if (options.allNamespaces === true) row.unshift(lock.namespace);
  return row;
}

/** The `ls` table. AGE is the age of the current hold (acquireTime; creation time for foreign locks). */
export function renderLockTable(locks: readonly LockView[], options: LockTableOptions): string {
  const all = { ...options, holders: options.holders ?? hasHolders(locks) };
  const rows = locks.map((lock) => lockTableRow(lock, all));
  return renderTable(lockTableHead(all), rows, { noHeaders: options.noHeaders === true });
}
