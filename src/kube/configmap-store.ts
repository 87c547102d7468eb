// LockStore over ConfigMaps in one namespace. It only moves objects: every decision (who holds, expiry,
// takeover, what to do on a conflict) belongs to src/lock/. Errors are mapped by errors.ts through the client.

import { randomBytes } from 'node:crypto';
import type { CoreV1Event, V1ConfigMap, V1ConfigMapList } from '@kubernetes/client-node';
import type {
  ListSelection,
  LockEvent,
  LockStore,
  LockWrite,
  RequestOptions,
  Result,
  StoredLock,
  WatchEvent,
} from '../lock/store.ts';
import type { Attempt } from './api.ts';
import type { CallOptions, KubeClient, Timed } from './client.ts';
import { MANAGED_BY_LABEL, UNMANAGED_SELECTOR } from '../lock/names.ts';
import { toConfigMap, toLockEvent, toStoredLock } from './convert.ts';
import { CmlockError } from '../errors.ts';
import { ForbiddenError, type RequestSpec, type Verb } from './errors.ts';
import { watchConfigMap, watchConfigMaps } from './watch.ts';

const LIST_PAGE_SIZE = 500;
/**
 * Pages of the metadata-only list: an item is about 500 bytes, so one page of ConfigMaps that are not locks is
 * about 2.5 MB, and a namespace of a few thousand is one request (scripts/list-cost.ts: 3,000 of them in pages of
 * 500 took twice as long as in one). Only the candidates of each page are kept.
 */
const METADATA_PAGE_SIZE = 5000;
/** How many candidates listUnmanaged reads at once. */
const READ_CONCURRENCY = 8;
/** The API server's metadata-only form of a list: labels and owners without data (PartialObjectMetadataList). */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const EVENT_COMPONENT = 'kubectl-cmlock';
const EVENT_TIMEOUT_MS = 5_000;

export class ConfigMapStore implements LockStore {
  readonly namespace: string;
  readonly #client: KubeClient;

  constructor(client: KubeClient, namespace: string) {
    this.#client = client;
    this.namespace = namespace;
  }

  get(name: string, request: RequestOptions = {}): Promise<Result<StoredLock | undefined>> {
    return this.#read(this.namespace, name, request);
  }

  async #read(namespace: string, name: string, request: RequestOptions): Promise<Result<StoredLock | undefined>> {
    // No resourceVersion: a consistent read from etcd, never a possibly stale cache.
    const { value, time } = await this.#client.call(
      this.#spec('get', 'GET', name, namespace),
      (o) => this.#client.core.readNamespacedConfigMapWithHttpInfo({ name, namespace }, o),
      request.signal,
      { ...callOptions(request), notFoundOk: true },
    );
    return { value: value ? toStoredLock(value, namespace) : undefined, time };
  }

  async create(lock: LockWrite, request: RequestOptions = {}): Promise<Result<StoredLock>> {
    const { namespace } = this;
    const result = await this.#client.call(
      this.#spec('create', 'POST', lock.name),
      (o) =>
        this.#client.core.createNamespacedConfigMapWithHttpInfo({ namespace, body: toConfigMap(lock, namespace) }, o),
      request.signal,
      callOptions(request),
    );
    return this.#written(result, lock.name);
  }

  async update(lock: LockWrite, resourceVersion: string, request: RequestOptions = {}): Promise<Result<StoredLock>> {
    const { namespace } = this;
    const result = await this.#client.call(
      this.#spec('update', 'PUT', lock.name),
      (o) =>
        this.#client.core.replaceNamespacedConfigMapWithHttpInfo(
          { name: lock.name, namespace, body: toConfigMap(lock, namespace, resourceVersion) },
          o,
        ),
      request.signal,
      callOptions(request),
    );
    return this.#written(result, lock.name);
  }

  async delete(
    name: string,
    preconditions: { uid: string; resourceVersion: string },
    request: RequestOptions = {},
  ): Promise<Result<void>> {
    const { namespace } = this;
    const { time } = await this.#client.call(
      this.#spec('delete', 'DELETE', name),
      (o) =>
        this.#client.core.deleteNamespacedConfigMapWithHttpInfo(
          {
            name,
            namespace,
            body: {
              apiVersion: 'v1',
              kind: 'DeleteOptions',
              preconditions: { uid: preconditions.uid, resourceVersion: preconditions.resourceVersion },
            },
          },
          o,
        ),
      request.signal,
      callOptions(request),
    );
    return { value: undefined, time };
  }

  list(
    options: ListSelection,
    request: RequestOptions = {},
  ): Promise<Result<StoredLock[]> & { resourceVersion?: string }> {
    return this.#list(options, withSelector(MANAGED_BY_LABEL, options.labelSelector), {}, request);
  }

  async listUnmanaged(
    options: ListSelection,
    pick: (metadata: StoredLock) => boolean,
    request: RequestOptions = {},
  ): Promise<Result<StoredLock[]> & { resourceVersion?: string }> {
    const selector = withSelector(UNMANAGED_SELECTOR, options.labelSelector);
    const listed = await this.#list(options, selector, { metadataOnly: true, keep: pick }, request);
    const picked = listed.value;
    const locks: StoredLock[] = [];
    // A few at a time: a namespace full of candidates must not open hundreds of requests at once.
    for (let i = 0; i < picked.length; i += READ_CONCURRENCY) {
      const read = await Promise.all(
        picked.slice(i, i + READ_CONCURRENCY).map((m) => this.#read(m.namespace, m.name, request)),
      );
      for (const { value } of read) if (value !== undefined) locks.push(value);
    }
    return { ...listed, value: locks };
  }

  /** Every page of one list, what `keep` keeps of it; `metadataOnly`: labels and owners, no data. */
  async #list(
    options: ListSelection,
    labelSelector: string,
    how: { metadataOnly?: boolean; keep?: (lock: StoredLock) => boolean },
    request: RequestOptions,
  ): Promise<Result<StoredLock[]> & { resourceVersion?: string }> {
    const all = options.allNamespaces === true || this.namespace === '';
    const metadataOnly = how.metadataOnly === true;
    const limit = metadataOnly ? METADATA_PAGE_SIZE : LIST_PAGE_SIZE;
    const accept = (a: Attempt): Attempt => (metadataOnly ? acceptMetadataOnly(a) : a);
    const { namespace } = this;
    const spec: RequestSpec = all
      ? { verb: 'list', resource: 'configmaps', allNamespaces: true, method: 'GET', path: '/api/v1/configmaps' }
      : this.#spec('list', 'GET');
    const locks: StoredLock[] = [];
    let time: Result<unknown>['time'];
    // Every page of a paginated list is served from the first page's snapshot: its resourceVersion is the list's.
    let resourceVersion: string | undefined;
    let token: string | undefined;
    do {
      const page: Timed<V1ConfigMapList | undefined> = await this.#client.call(
        spec,
        (o) =>
          all
            ? this.#client.core.listConfigMapForAllNamespacesWithHttpInfo(
                { labelSelector, limit, _continue: token },
                accept(o),
              )
            : this.#client.core.listNamespacedConfigMapWithHttpInfo(
                { namespace, labelSelector, limit, _continue: token },
                accept(o),
              ),
        request.signal,
        callOptions(request),
      );
      time ??= page.time;
      resourceVersion ??= page.value?.metadata?.resourceVersion || undefined;
      for (const item of page.value?.items ?? []) {
        const lock = toStoredLock(item, namespace);
        if (how.keep === undefined || how.keep(lock)) locks.push(lock);
      }
      token = page.value?.metadata?._continue || undefined;
    } while (token);
    return { value: locks, time, ...(resourceVersion !== undefined ? { resourceVersion } : {}) };
  }

  watch(name: string, resourceVersion: string, signal?: AbortSignal): AsyncIterable<WatchEvent> {
    return watchConfigMap(this.#client, this.namespace, name, resourceVersion, signal);
  }

  watchList(options: ListSelection, resourceVersion: string, signal?: AbortSignal): AsyncIterable<WatchEvent> {
    const all = options.allNamespaces === true || this.namespace === '';
    const scope = { namespace: all ? '' : this.namespace, labelSelector: options.labelSelector?.trim() ?? '' };
    return watchConfigMaps(this.#client, scope, resourceVersion, signal);
  }

  async events(lock: StoredLock, request: RequestOptions = {}): Promise<LockEvent[]> {
    const namespace = lock.namespace;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    try {
      const { value } = await this.#client.call(
        { verb: 'list', resource: 'events', namespace, method: 'GET', path },
        (o) =>
          this.#client.core.listNamespacedEventWithHttpInfo(
            { namespace, fieldSelector: `involvedObject.uid=${lock.uid}` },
            o,
          ),
        request.signal,
        callOptions(request),
      );
      const events = (value?.items ?? []).map(toLockEvent);
      return events.sort((a, b) => (a.time ? Date.parse(a.time) : 0) - (b.time ? Date.parse(b.time) : 0));
    } catch (err) {
      // Reading events is a nicety of `describe`: RBAC that forbids it costs the section, not the command.
      if (err instanceof ForbiddenError) return [];
      throw err;
    }
  }

  async recordEvent(
    lock: StoredLock,
    event: { reason: string; message: string; type?: 'Normal' | 'Warning' },
  ): Promise<void> {
    try {
      const namespace = lock.namespace;
      const now = new Date();
      const body: CoreV1Event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: eventName(lock.name), namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: lock.name,
          namespace,
          uid: lock.uid,
          resourceVersion: lock.resourceVersion,
        },
        reason: event.reason,
        message: event.message.slice(0, 1024),
        type: event.type ?? 'Normal',
        source: { component: EVENT_COMPONENT },
        reportingComponent: EVENT_COMPONENT,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
      await this.#client.call(
        { verb: 'create', resource: 'events', namespace, method: 'POST', path },
        (o) => this.#client.core.createNamespacedEventWithHttpInfo({ namespace, body }, o),
        undefined,
        // Best effort must not hold the command: one short try.
        { maxAttempts: 1, timeoutMs: EVENT_TIMEOUT_MS },
      );
    } catch (err) {
      // Best effort by contract: the lock operation it records has already happened.
      this.#client.log(`event ${event.reason} on configmap "${lock.name}" not recorded: ${messageOf(err)}`);
    }
  }

  #spec(verb: Verb, method: string, name?: string, namespace = this.namespace): RequestSpec {
    const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
    return {
      verb,
      resource: 'configmaps',
      namespace,
      name,
      method,
      path: name !== undefined && verb !== 'create' ? `${base}/${encodeURIComponent(name)}` : base,
    };
  }

  #written(result: Timed<V1ConfigMap | undefined>, name: string): Result<StoredLock> {
    if (!result.value) throw new CmlockError(`the API server returned no object for configmap "${name}"`);
    return { value: toStoredLock(result.value, this.namespace), time: result.time };
  }
}

/** The retry bound a request carries down to the client. */
function callOptions(request: RequestOptions): CallOptions {
  return request.deadline === undefined ? {} : { deadline: request.deadline };
}

/** Ours (the managed-by label, or its absence), and the user's selector when given. */
function withSelector(ours: string, user: string | undefined): string {
  const extra = user?.trim();
  return extra ? `${ours},${extra}` : ours;
}

/** The request asks for the list's metadata-only form: a ConfigMapList without data (labels and owners only). */
function acceptMetadataOnly(attempt: Attempt): Attempt {
  return { exchange: (request) => attempt.exchange({ ...request, accept: METADATA_ONLY }) };
}

/** Event names follow client-go (`<object>.<hex>`), kept within the 253-character limit. */
function eventName(lockName: string): string {
  const suffix = randomBytes(8).toString('hex');
  const prefix = lockName.slice(0, 253 - suffix.length - 1).replace(/[.-]+$/, '');
  return `${prefix}.${suffix}`;
}

function messageOf(err: unknown): string {
  return err instanceof CmlockError ? err.message : 'unexpected error';
}
