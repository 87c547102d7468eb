// The Kubernetes API calls cmlock makes, under the names and parameter types of client-node's generated
// CoreV1Api and AuthenticationV1Api (`…WithHttpInfo`), so that the store reads as client-node code does. Each is
// one request sent through the Attempt that KubeClient.call hands it; objects travel as the API server's JSON
// (kube/transport.ts says why the generated classes are not used; convert.ts reads timestamps either way).

import type {
  AuthenticationV1ApiCreateSelfSubjectReviewRequest,
  CoreV1ApiCreateNamespacedConfigMapRequest,
  CoreV1ApiCreateNamespacedEventRequest,
  CoreV1ApiDeleteNamespacedConfigMapRequest,
  CoreV1ApiListConfigMapForAllNamespacesRequest,
  CoreV1ApiListNamespacedConfigMapRequest,
  CoreV1ApiListNamespacedEventRequest,
  CoreV1ApiListNamespaceRequest,
  CoreV1ApiReadNamespacedConfigMapRequest,
  CoreV1ApiReadNamespacedPodRequest,
  CoreV1ApiReplaceNamespacedConfigMapRequest,
  CoreV1Event,
  CoreV1EventList,
  V1ConfigMap,
  V1ConfigMapList,
  V1NamespaceList,
  V1Pod,
  V1SelfSubjectReview,
  V1Status,
} from '@kubernetes/client-node';

/** One request: path below the server URL, query, and a body sent as JSON. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** The Accept header, when not plain JSON (e.g. the metadata-only form of a list). */
  accept?: string;
}

/** One try of a call (KubeClient.call): sends the request, resolves with its parsed JSON answer. */
export interface Attempt {
  exchange(request: ApiRequest): Promise<unknown>;
}

/** What a call resolves with: the answer's object, as the generated client's HttpInfo.data. */
export interface Answer<T> {
  data: T;
}

type Params = object;

/** Every parameter but the path's and the body goes to the query, as the generated client sends them. */
function queryOf(params: Params): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || key === 'name' || key === 'namespace' || key === 'body') continue;
    query[key === '_continue' ? 'continue' : key] = String(value);
  }
  return query;
}

async function send<T>(attempt: Attempt, request: ApiRequest): Promise<Answer<T>> {
  return { data: (await attempt.exchange(request)) as T };
}

/** A list, with its continue token where the generated model keeps it (`metadata._continue`). */
async function sendList<T>(attempt: Attempt, request: ApiRequest): Promise<Answer<T>> {
  const list = (await attempt.exchange(request)) as { metadata?: { continue?: string; _continue?: string } };
  if (list?.metadata?.continue !== undefined) {
    const { continue: token, ...rest } = list.metadata;
    list.metadata = { ...rest, _continue: token };
  }
  return { data: list as T };
}

const namespaced = (namespace: string, resource: string, name?: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

export class CoreApi {
  readNamespacedConfigMapWithHttpInfo(
    p: CoreV1ApiReadNamespacedConfigMapRequest,
    attempt: Attempt,
  ): Promise<Answer<V1ConfigMap>> {
    return send(attempt, { method: 'GET', path: namespaced(p.namespace, 'configmaps', p.name), query: queryOf(p) });
  }

  createNamespacedConfigMapWithHttpInfo(
    p: CoreV1ApiCreateNamespacedConfigMapRequest,
    attempt: Attempt,
  ): Promise<Answer<V1ConfigMap>> {
    const path = namespaced(p.namespace, 'configmaps');
    return send(attempt, { method: 'POST', path, query: queryOf(p), body: p.body });
  }

  replaceNamespacedConfigMapWithHttpInfo(
    p: CoreV1ApiReplaceNamespacedConfigMapRequest,
    attempt: Attempt,
  ): Promise<Answer<V1ConfigMap>> {
    const path = namespaced(p.namespace, 'configmaps', p.name);
    return send(attempt, { method: 'PUT', path, query: queryOf(p), body: p.body });
  }

  deleteNamespacedConfigMapWithHttpInfo(
    p: CoreV1ApiDeleteNamespacedConfigMapRequest,
    attempt: Attempt,
  ): Promise<Answer<V1Status>> {
    const path = namespaced(p.namespace, 'configmaps', p.name);
    return send(attempt, { method: 'DELETE', path, query: queryOf(p), body: p.body });
  }

  listNamespacedConfigMapWithHttpInfo(
    p: CoreV1ApiListNamespacedConfigMapRequest,
    attempt: Attempt,
  ): Promise<Answer<V1ConfigMapList>> {
    return sendList(attempt, { method: 'GET', path: namespaced(p.namespace, 'configmaps'), query: queryOf(p) });
  }

  listConfigMapForAllNamespacesWithHttpInfo(
    p: CoreV1ApiListConfigMapForAllNamespacesRequest,
    attempt: Attempt,
  ): Promise<Answer<V1ConfigMapList>> {
    return sendList(attempt, { method: 'GET', path: '/api/v1/configmaps', query: queryOf(p) });
  }

  listNamespacedEventWithHttpInfo(
    p: CoreV1ApiListNamespacedEventRequest,
    attempt: Attempt,
  ): Promise<Answer<CoreV1EventList>> {
    return sendList(attempt, { method: 'GET', path: namespaced(p.namespace, 'events'), query: queryOf(p) });
  }

  createNamespacedEventWithHttpInfo(
    p: CoreV1ApiCreateNamespacedEventRequest,
    attempt: Attempt,
  ): Promise<Answer<CoreV1Event>> {
    return send(attempt, { method: 'POST', path: namespaced(p.namespace, 'events'), query: queryOf(p), body: p.body });
  }

  readNamespacedPodWithHttpInfo(p: CoreV1ApiReadNamespacedPodRequest, attempt: Attempt): Promise<Answer<V1Pod>> {
    return send(attempt, { method: 'GET', path: namespaced(p.namespace, 'pods', p.name), query: queryOf(p) });
  }

  listNamespaceWithHttpInfo(p: CoreV1ApiListNamespaceRequest, attempt: Attempt): Promise<Answer<V1NamespaceList>> {
    return sendList(attempt, { method: 'GET', path: '/api/v1/namespaces', query: queryOf(p) });
  }
}

export class AuthenticationApi {
  createSelfSubjectReviewWithHttpInfo(
    p: AuthenticationV1ApiCreateSelfSubjectReviewRequest,
    attempt: Attempt,
  ): Promise<Answer<V1SelfSubjectReview>> {
    const path = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
    return send(attempt, { method: 'POST', path, query: queryOf(p), body: p.body });
  }
}
