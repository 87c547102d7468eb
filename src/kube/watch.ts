// Watch ConfigMaps: one by name (waiters), or every one a label selector matches in one or all namespaces
// (`ls -w`, which tells the locks from the rest). The stream is read here rather than through client-node's Watch class, whose 2.0.1 version loses
// the error Status of a refused watch (no 403 message), cannot be cancelled before the response arrives, and
// ignores lines it cannot parse. A watch ends in one of four ways, each told apart: the server closes it
// (timeoutSeconds reached: the iterator ends), the resourceVersion is too old (an ERROR event with code 410:
// {type:'GONE'}), it goes silent past the server's own timeout plus a margin (a black hole: the iterator ends,
// so the caller re-reads and re-watches), or the caller aborts (rejects at once with the signal's reason).

import { LinkedAbort } from '../lock/abort.ts';
import type { WatchEvent } from '../lock/store.ts';
import { RetryableError } from '../lock/store.ts';
import type { KubeClient } from './client.ts';
import { toStoredLock, type RawConfigMap } from './convert.ts';
import { mapRequestError, mapStatus, type RequestSpec } from './errors.ts';
import { readText } from './transport.ts';

/** What a watch covers: one ConfigMap by name, or every one matching a label selector ('': all; namespace '': all). */
export type WatchScope =
  | { readonly namespace: string; readonly name: string }
  | { readonly namespace: string; readonly labelSelector: string };

export function watchConfigMap(
  client: KubeClient,
  namespace: string,
  name: string,
  resourceVersion: string,
  signal?: AbortSignal,
): AsyncGenerator<WatchEvent> {
  return watchConfigMaps(client, { namespace, name }, resourceVersion, signal);
}

export async function* watchConfigMaps(
  client: KubeClient,
  scope: WatchScope,
  resourceVersion: string,
  signal?: AbortSignal,
): AsyncGenerator<WatchEvent> {
  const { namespace } = scope;
  const timeoutSeconds = client.tuning.watchTimeoutSeconds();
  const silenceMs = client.tuning.watchSilenceMs(timeoutSeconds);
  const path =
    namespace === '' ? '/api/v1/configmaps' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  const spec: RequestSpec = {
    verb: 'watch',
    resource: 'configmaps',
    ...(namespace === '' ? { allNamespaces: true } : { namespace }),
    ...('name' in scope ? { name: scope.name } : {}),
    method: 'GET',
    path,
  };
  const selection: Record<string, string> =
    'name' in scope
      ? { fieldSelector: `metadata.name=${scope.name}` }
      : scope.labelSelector !== ''
        ? { labelSelector: scope.labelSelector }
        : {};
  const url = client.url(path, {
    watch: '1',
    ...selection,
    resourceVersion,
    allowWatchBookmarks: 'true',
    timeoutSeconds: String(timeoutSeconds),
  });
  const what =
    'name' in scope
      ? `watch of configmap "${scope.name}"`
      : `watch of configmaps${namespace === '' ? ' in all namespaces' : ` in namespace "${namespace}"`}`;

  // This stream's signal: the caller's, or silence. Not AbortSignal.any (lock/abort.ts).
  const controller = new LinkedAbort(signal);
  const streamSignal = controller.signal;
  let silent = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const disarm = (): void => clearTimeout(timer);
  const arm = (): void => {
    disarm();
    timer = setTimeout(() => {
      silent = true;
      controller.abort(new DOMException(`${what} silent`, 'TimeoutError'));
    }, silenceMs);
  };
  const started = performance.now();
  const elapsed = (): string => `${Math.round((performance.now() - started) / 1000)}s`;

  try {
    const opened = await client.openStream(spec, url, streamSignal);
    if (opened.status !== 200) {
      const text = await readText(opened.body).catch(() => undefined);
      if (opened.status === 410) {
        yield { type: 'GONE' };
        return;
      }
      throw mapStatus(opened.status, text, opened.headers, spec, client.errorContext);
    }
    const reader = opened.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      arm();
      let chunk: IteratorResult<Buffer>;
      try {
        chunk = await reader.next();
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (silent) {
          client.log(`${what}: no data for ${Math.round(silenceMs / 1000)}s, presumed dead after ${elapsed()}`);
          return;
        }
        throw mapRequestError(err, spec, client.errorContext, {
          sent: true,
          timedOut: false,
          timeoutMs: client.requestTimeoutMs,
        });
      }
      if (chunk.done) {
        client.log(`${what}: closed by the server after ${elapsed()}`);
        return;
      }
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const event = parseEvent(line, namespace, spec, client);
        if (!event) continue;
        // The consumer may take its time with an event; that is not silence from the server.
        disarm();
        yield event;
        if (event.type === 'GONE') {
          client.log(`${what}: resourceVersion ${resourceVersion} is too old (410 Gone)`);
          return;
        }
        arm();
      }
    }
  } finally {
    disarm();
    // Releases the connection when the consumer stops early (break, return, throw).
    controller.abort();
  }
}

interface RawWatchEvent {
  type?: unknown;
  object?: RawConfigMap & { code?: unknown; metadata?: { resourceVersion?: string } };
}

function parseEvent(line: string, namespace: string, spec: RequestSpec, client: KubeClient): WatchEvent | undefined {
  let event: RawWatchEvent;
  try {
    event = JSON.parse(line) as RawWatchEvent;
  } catch {
    // A whole line that is not JSON means the stream cannot be trusted: the caller re-reads and re-watches.
    throw new RetryableError(`the API server ${client.errorContext.server} sent a malformed watch event`);
  }
  const object = event.object ?? {};
  switch (event.type) {
    case 'ADDED':
    case 'MODIFIED':
      return { type: event.type, lock: toStoredLock(object, namespace) };
    case 'DELETED':
      return { type: 'DELETED', lock: toStoredLock(object, namespace) };
    case 'BOOKMARK':
      return { type: 'BOOKMARK', resourceVersion: object.metadata?.resourceVersion ?? '' };
    case 'ERROR': {
      const code = typeof object.code === 'number' ? object.code : 500;
      if (code === 410) return { type: 'GONE' };
      throw mapStatus(code, JSON.stringify(object), undefined, spec, client.errorContext);
    }
    default:
      return undefined;
  }
}
