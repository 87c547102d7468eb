// What `ls`, `ls -w` and lock-name completion list: cmlock's locks, found by their managed-by label, and the Go
// library's, found by their shape (lock/go-library.ts) among the ConfigMaps without that label. Those are listed
// as metadata only and only the candidates are read in full, so the data of unrelated ConfigMaps is never
// downloaded. A namespace without Go locks costs one metadata list more, on the same connection.

import { isGoLock, looksLikeGoLock } from './go-library.ts';
import { isManaged } from './names.ts';
import { compareFences, compareLocks } from './record.ts';
import type { ListSelection, LockStore, RequestOptions, Result, StoredLock } from './store.ts';

/** Every lock of the selection, sorted by namespace, then name; `resourceVersion`: where a watch starts. */
export async function listLocks(
  store: LockStore,
  selection: ListSelection,
  request?: RequestOptions,
): Promise<Result<StoredLock[]> & { resourceVersion?: string }> {
  // One after the other: over HTTP/1.1 a second request at once opens a second connection, whose TCP and TLS
  // handshakes cost more than waiting for the first answer on the one connection (npm run bench, ls).
  const managed = await store.list(selection, request);
  const unmanaged = await store.listUnmanaged(selection, looksLikeGoLock, request);
  const locks = newest([...managed.value, ...unmanaged.value.filter(isGoLock)]).sort(compareLocks);
  const resourceVersion = older(managed.resourceVersion, unmanaged.resourceVersion);
  const time = managed.time ?? unmanaged.time;
  return {
    value: locks,
    ...(time !== undefined ? { time } : {}),
    ...(resourceVersion !== undefined ? { resourceVersion } : {}),
  };
}

/** Whether a ConfigMap a watch of the selection reports is a lock (`ls -w` watches them all). */
export function isListed(lock: StoredLock): boolean {
  return isManaged(lock.labels) || isGoLock(lock);
}

/**
 * An event a watch from the older of the two lists' resourceVersions replays: `known` (listed, or reported) is
 * the same object at this version or a later one.
 */
export function isReplayed(event: StoredLock, known: StoredLock | undefined): boolean {
  return known !== undefined && known.uid === event.uid && !isNewer(event.resourceVersion, known.resourceVersion);
}

/**
 * One lock per name, its newest version: the two lists are two snapshots, and a lock that changed between them
 * can be in both (a Go lock taken over by cmlock gains the label).
 */
function newest(locks: StoredLock[]): StoredLock[] {
  const byName = new Map<string, StoredLock>();
  for (const lock of locks) {
    const key = `${lock.namespace}/${lock.name}`;
    const other = byName.get(key);
    if (other === undefined || isNewer(lock.resourceVersion, other.resourceVersion)) byName.set(key, lock);
  }
  return [...byName.values()];
}

/**
 * The two lists are two snapshots: a watch from the older one misses no change to either (what it replays,
 * isReplayed skips). resourceVersions compare as decimal etcd revisions, as fences do.
 */
function older(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return isNewer(a, b) ? b : a;
}

/** resourceVersions compare as decimal etcd revisions, as fences do; any other text is never newer. */
function isNewer(a: string, b: string): boolean {
  const decimal = /^\d+$/;
  return a !== b && decimal.test(a) && decimal.test(b) && compareFences(a, b) > 0;
}
