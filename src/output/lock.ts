// Locks as users see them: the `ls` table, and the machine formats (-o json|yaml|name) of one lock or a list.

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
};
const FIELD_ORDER = Object.keys(FIELDS) as (keyof LockView)[];

/** A copy with exactly the LockView fields, so a DescribedLock (uid, events, ...) prints the same as a LockView. */
export function toLockObject(lock: LockView): LockView {
  const out: Partial<Record<keyof LockView, unknown>> = {};
  for (const key of FIELD_ORDER) out[key] = key === 'labels' ? { ...lock.labels } : lock[key];
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
  /** `-o wide`: adds USER, HOST, FENCE, OWNER, ACQUIRED. */
  wide?: boolean;
  noHeaders?: boolean;
}

function orNone(value: string): string {
  return value === '' ? '<none>' : value;
}

/** The REASON of a lock the Go library wrote, which records none: how a table tells its locks apart. */
const GO_LIBRARY = '<Go library>';

/** The `ls` table's header row. */
export function lockTableHead(options: Omit<LockTableOptions, 'now'>): string[] {
  const head = ['NAME', 'HOLDER', 'STATUS', 'AGE', 'EXPIRES', 'REASON'];
  if (options.wide === true) head.push('USER', 'HOST', 'FENCE', 'OWNER', 'ACQUIRED');
  if (options.allNamespaces === true) head.unshift('NAMESPACE');
  return head;
}

/** One `ls` row (cells not yet escaped). `status` replaces the STATUS cell (`ls -w` shows a deleted lock as Released). */
export function lockTableRow(lock: LockView, options: LockTableOptions, status: string = lock.status): string[] {
  const since = lock.acquireTime !== '' ? lock.acquireTime : lock.creationTimestamp;
  const row = [
    lock.name,
    orNone(lock.holder),
    status,
    formatAge(since, options.now),
    formatExpires(lock.expiresAt, options.now),
    lock.foreign ? GO_LIBRARY : orNone(lock.reason),
  ];
  if (options.wide === true) {
    row.push(orNone(lock.user), orNone(lock.host), orNone(lock.fence), orNone(lock.owner));
    row.push(lock.acquireTime === '' ? '<unknown>' : formatTimestamp(lock.acquireTime));
  }
  if (options.allNamespaces === true) row.unshift(lock.namespace);
  return row;
}

/** The `ls` table. AGE is the age of the current hold (acquireTime; creation time for foreign locks). */
export function renderLockTable(locks: readonly LockView[], options: LockTableOptions): string {
  const rows = locks.map((lock) => lockTableRow(lock, options));
  return renderTable(lockTableHead(options), rows, { noHeaders: options.noHeaders === true });
}
