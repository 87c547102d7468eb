// ConfigMap and Event objects to and from the store's plain types. Objects come either deserialized by
// client-node (timestamps as Date) or straight from a watch stream (timestamps as strings): both are accepted.

import type { CoreV1Event, V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import type { LockEvent, LockWrite, OwnerReference, StoredLock } from '../lock/store.ts';
import { formatTime, parseTime, rfc3339 } from '../lock/time.ts';

type Time = Date | string | undefined | null;

export interface RawConfigMap {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: Time;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[];
  };
  data?: Record<string, string>;
}

export function toStoredLock(cm: RawConfigMap, fallbackNamespace: string): StoredLock {
  const meta = cm.metadata ?? {};
  const created = normalized(meta.creationTimestamp);
  return {
    name: meta.name ?? '',
    namespace: meta.namespace ?? fallbackNamespace,
    uid: meta.uid ?? '',
    resourceVersion: meta.resourceVersion ?? '',
    ...(created ? { creationTimestamp: created } : {}),
    labels: { ...meta.labels },
    data: { ...cm.data },
    ownerReferences: (meta.ownerReferences ?? []).map((o) => ({
      apiVersion: o.apiVersion ?? '',
      kind: o.kind ?? '',
      name: o.name ?? '',
      uid: o.uid ?? '',
      // Only when set: the Go library's mark on its lock (lock/go-library.ts); cmlock never writes it.
      ...(o.controller === true ? { controller: true } : {}),
    })),
  };
}

/** The full object for create and update (update is a replace: what is not here is removed). */
export function toConfigMap(lock: LockWrite, namespace: string, resourceVersion?: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: lock.name,
      namespace,
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      // The protocol writes the managed-by label (lock/names.ts lockLabels); the store only moves it.
      labels: { ...lock.labels },
      ownerReferences: lock.ownerReferences.map(toOwnerReference),
    },
    data: { ...lock.data },
  };
}

function toOwnerReference(owner: OwnerReference): V1OwnerReference {
  // blockOwnerDeletion needs delete rights on the owner; the lock must never keep its Pod alive anyway.
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    blockOwnerDeletion: false,
  };
}

export function toLockEvent(event: CoreV1Event): LockEvent {
  const times = [event.lastTimestamp, event.eventTime as Time, event.metadata?.creationTimestamp]
    .map((t) => normalized(t))
    .filter((t): t is string => t !== undefined);
  const newest = times.sort((a, b) => (parseTime(b) ?? 0) - (parseTime(a) ?? 0))[0];
  return {
    type: event.type ?? '',
    reason: event.reason ?? '',
    message: event.message ?? '',
    ...(newest ? { time: newest } : {}),
    count: event.series?.count ?? event.count ?? 1,
  };
}

/** RFC 3339 in UTC, whole seconds unless the source had a fraction; text that is no time is kept as it is. */
function normalized(time: Time): string | undefined {
  if (time === undefined || time === null || time === '') return undefined;
  const ms = time instanceof Date ? time.getTime() : (parseTime(time) ?? NaN);
  if (Number.isNaN(ms)) return typeof time === 'string' ? time : undefined;
  return ms % 1000 === 0 ? formatTime(ms) : rfc3339(ms);
}
