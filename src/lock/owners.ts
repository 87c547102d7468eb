// Who owns a lock's ConfigMap. Every lock cmlock writes carries exactly one ownerReference, because the Go lock
// library logs a stale lock's first owner as it breaks it and crashes on a lock without one (issue 12). In a Pod,
// the owner is the Pod (the garbage collector frees the lock with it). Otherwise it is the lock's own ConfigMap:
// it exists exactly as long as the lock does, needs no RBAC beyond the lock's own, and the garbage collector
// never collects an object whose owner is itself (it always exists while the object does).
// blockOwnerDeletion stays false (kube/convert.ts): a self-reference that blocks makes a foreground delete hang.

import type { OwnerReference, StoredLock } from './store.ts';

/** The lock as its own owner. Its uid is known only once it exists: after the create, or from the read. */
export function selfOwner(lock: Pick<StoredLock, 'name' | 'uid'>): OwnerReference {
  return { apiVersion: 'v1', kind: 'ConfigMap', name: lock.name, uid: lock.uid };
}

/**
 * The owners a later write of the same acquisition (renew, acquire again) keeps: the lock's own, or the lock
 * itself when it has none (written by an older cmlock), which costs nothing since that write is made anyway.
 */
export function ownersKept(lock: StoredLock): OwnerReference[] {
  return lock.ownerReferences.length > 0 ? lock.ownerReferences : [selfOwner(lock)];
}
