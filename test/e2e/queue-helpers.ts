// Helpers for the queue, semaphore and shared-lock end-to-end tests: the lock's queue as the API server has it,
// waiting until a waiter has joined it (arrival order is the order of the joining writes, not of process starts:
// on a loaded machine a process started 200 ms later may join first), and a watch of the lock's every version,
// from which the order of admissions and the order of arrivals are read.

import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { eventually, sealedEnv } from './harness.ts';
import { getConfigMap } from './lock-helpers.ts';

export interface QueueEntry {
  acquisitionId: string;
  identity: string;
}

/** The waiters recorded in the lock, in order (none when the lock is gone or nobody waits). */
export async function queueOf(ns: string, name: string): Promise<QueueEntry[]> {
  const cm = await getConfigMap(ns, name);
  const text = cm?.data?.['waiters'];
  return text === undefined ? [] : (JSON.parse(text) as QueueEntry[]);
}

/** Resolves once a waiter whose identity starts with `prefix` is in the lock's queue. */
export async function inQueue(ns: string, name: string, prefix: string, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => (await queueOf(ns, name)).some((w) => w.identity.startsWith(prefix)),
    timeoutMs,
    `${prefix} is in the queue of ${name}`,
  );
}

/** One version of the lock as the watch delivered it. */
export interface LockVersion {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resourceVersion: string;
  acquisitionId: string;
  holder: string;
  offered: boolean;
  waiters: QueueEntry[];
  holders: QueueEntry[];
}

/**
 * Every version of one lock from now on, as `kubectl get configmaps -w` delivers them (each change, in order).
 * Stopped after the test.
 */
export function watchLock(t: TestContext, ns: string, name: string): { versions: () => LockVersion[] } {
  const args = [
    'get',
    'configmaps',
    '-n',
    ns,
    '--field-selector',
    `metadata.name=${name}`,
    '-w',
    '--output-watch-events',
    '-o',
    'json',
  ];
  const child: ChildProcess = spawn('kubectl', args, { env: sealedEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void child.kill('SIGTERM'));
  const versions: LockVersion[] = [];
  let buffer = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    for (;;) {
      const end = objectEnd(buffer);
      if (end < 0) break;
      const text = buffer.slice(0, end).trim();
      buffer = buffer.slice(end);
      if (text !== '') versions.push(toVersion(JSON.parse(text) as RawEvent));
    }
  });
  return { versions: () => [...versions] };
}

interface RawEvent {
  type: LockVersion['type'];
  object: { metadata: { resourceVersion: string }; data?: Record<string, string> };
}

function toVersion(event: RawEvent): LockVersion {
  const data = event.object.data ?? {};
  const list = (key: string): QueueEntry[] => (data[key] === undefined ? [] : (JSON.parse(data[key]) as QueueEntry[]));
  return {
    type: event.type,
    resourceVersion: event.object.metadata.resourceVersion,
    acquisitionId: data['acquisitionId'] ?? '',
    holder: data['holderIdentity'] ?? '',
    offered: data['handoff'] === 'offered',
    waiters: list('waiters'),
    holders: list('holders'),
  };
}

/** The end of the first complete JSON value in `text` (kubectl prints pretty objects one after another); -1 if none. */
function objectEnd(text: string): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      depth++;
      started = true;
    } else if (c === '}') {
      depth--;
      if (started && depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * Admissions of an exclusive lock that did not go to the first in line: each new holder (a version whose
 * acquisition differs from the one before) must be the head of the queue the version before recorded, or that
 * queue must have been empty (a free lock taken by whoever came). Empty: served in strict arrival order.
 */
export function outOfOrder(versions: readonly LockVersion[]): string[] {
  const problems: string[] = [];
  let before: LockVersion | undefined;
  for (const v of versions) {
    const previous = before?.type === 'DELETED' ? undefined : before;
    if (v.type !== 'DELETED' && v.acquisitionId !== (previous?.acquisitionId ?? '')) {
      const head = previous?.waiters[0];
      if (head !== undefined && head.acquisitionId !== v.acquisitionId) {
        problems.push(`${v.holder} (rv ${v.resourceVersion}) went ahead of ${head.identity}, first in line`);
      }
    }
    before = v;
  }
  return problems;
}

/** The identities in the order they were first recorded in the queue (their arrival). */
export function arrivals(versions: readonly LockVersion[]): string[] {
  const seen: string[] = [];
  for (const v of versions) for (const w of v.waiters) if (!seen.includes(w.identity)) seen.push(w.identity);
  return seen;
}
