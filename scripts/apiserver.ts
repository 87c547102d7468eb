// The test cluster's API server as its administrator, for the benchmark and the end-to-end helpers: many
// requests at once over one HTTP/2 connection (seeding thousands of ConfigMaps in seconds, where one kubectl
// per object takes minutes), and the server's own request counters (apiserver_request_total on /metrics), so
// that a benchmark or a test can say how many requests of which verb and resource something cost.
// Never part of the plugin: it reads the admin kubeconfig that the control plane writes (.cluster/).

import { readFileSync } from 'node:fs';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { parse } from 'yaml';
import { clusterDir } from './cluster-lib.ts';

export interface ApiResponse {
  status: number;
  body: string;
}

interface AdminKubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: { user: { token?: string } }[];
}

/**
 * One HTTP/2 session to the API server, authenticated with the admin token, opened again when the server has
 * closed it (it sends GOAWAY to idle connections). Close it when done.
 */
export class AdminClient {
  readonly #server: string;
  readonly #ca: Buffer | undefined;
  readonly #token: string;
  #current: ClientHttp2Session | undefined;

  private constructor(server: string, ca: Buffer | undefined, token: string) {
    this.#server = server;
    this.#ca = ca;
    this.#token = token;
  }

  /** From the control plane's admin-only kubeconfig (token user, CA data): the only shape it writes. */
  static open(kubeconfig = join(clusterDir, 'admin.kubeconfig')): AdminClient {
    const config = parse(readFileSync(kubeconfig, 'utf8')) as AdminKubeconfig;
    const cluster = config.clusters[0]?.cluster;
    const token = config.users[0]?.user.token;
    if (!cluster || !token) throw new Error(`${kubeconfig}: expected one cluster and one token user`);
    const ca = cluster['certificate-authority-data'];
    return new AdminClient(cluster.server, ca === undefined ? undefined : Buffer.from(ca, 'base64'), token);
  }

  #session(): ClientHttp2Session {
    const current = this.#current;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connect(this.#server, this.#ca ? { ca: this.#ca } : {});
    session.on('error', () => {}); // surfaced by the pending requests
    // No new streams after a GOAWAY: the next request opens a new session.
    session.on('goaway', () => {
      if (this.#current === session) this.#current = undefined;
    });
    this.#current = session;
    return session;
  }

  /**
   * One request. A stream the server refused (REFUSED_STREAM, or one started after its GOAWAY) was not
   * processed, so it is sent again on a new session: safe for any verb.
   */
  async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(method, path, body);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const refused =
          code === 'ERR_HTTP2_GOAWAY_SESSION' ||
          (code === 'ERR_HTTP2_STREAM_ERROR' && String((err as Error).message).includes('REFUSED_STREAM'));
        if (!refused || attempt >= 5) throw err;
        this.#current = undefined;
      }
    }
  }

  #once(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const stream = this.#session().request({
        [constants.HTTP2_HEADER_METHOD]: method,
        [constants.HTTP2_HEADER_PATH]: path,
        authorization: `Bearer ${this.#token}`,
        accept: 'application/json, text/plain',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (headers) => (status = Number(headers[constants.HTTP2_HEADER_STATUS])));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
      stream.on('error', reject);
      stream.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /**
   * A streamed answer (a watch: `?watch=1`), one JSON object a line: `onLine` gets each line with the moment it
   * arrived (performance.timeOrigin + performance.now(): wall-clock ms with sub-ms precision). Resolves when the
   * server ends it or `signal` fires.
   */
  stream(path: string, onLine: (line: string, at: number) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.#session().request({
        [constants.HTTP2_HEADER_METHOD]: 'GET',
        [constants.HTTP2_HEADER_PATH]: path,
        authorization: `Bearer ${this.#token}`,
        accept: 'application/json',
      });
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const at = performance.timeOrigin + performance.now();
        buffer += chunk;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line !== '') onLine(line, at);
        }
      });
      const stop = () => stream.close(constants.NGHTTP2_CANCEL);
      signal.addEventListener('abort', stop, { once: true });
      stream.on('close', () => {
        signal.removeEventListener('abort', stop);
        resolve();
      });
      stream.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      stream.end();
    });
  }

  /** Like request, but throws unless the status is 2xx (or one of `alsoOk`, e.g. 404 for a delete). */
  async ok(method: string, path: string, body?: unknown, alsoOk: readonly number[] = []): Promise<ApiResponse> {
    const r = await this.request(method, path, body);
    if ((r.status < 200 || r.status > 299) && !alsoOk.includes(r.status)) {
      throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
    }
    return r;
  }

  /** Runs `each` over `items`, at most `concurrency` at a time (HTTP/2 streams of this one session). */
  async forEach<T>(items: readonly T[], each: (item: T) => Promise<unknown>, concurrency = 64): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) await each(items[next++] as T);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  }

  close(): void {
    this.#current?.close();
    this.#current = undefined;
  }
}

/** Requests the API server has handled, by `VERB resource[/subresource]` (e.g. `POST configmaps`). */
export type RequestCounts = Record<string, number>;

const SAMPLE = /^apiserver_request_total\{([^}]*)\} (\S+)$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * apiserver_request_total summed over versions, and over response codes unless `byCode` (keys then end with the
 * code: `PUT configmaps 409`). Long-running requests (WATCH) are counted when they end. `resources` keeps only those resources (the server's own controllers also make requests:
 * leases, flow control, ...).
 */
export async function requestCounts(
  client: AdminClient,
  resources?: readonly string[],
  options: { byCode?: boolean } = {},
): Promise<RequestCounts> {
  const r = await client.ok('GET', '/metrics');
  const counts: RequestCounts = {};
  for (const line of r.body.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(LABEL)].map((l) => [l[1], l[2]]));
    const resource = labels.resource ?? '';
    if (resource === '' || (resources && !resources.includes(resource))) continue;
    const key =
      `${labels.verb} ${resource}${labels.subresource ? `/${labels.subresource}` : ''}` +
      (options.byCode === true ? ` ${labels.code}` : '');
    counts[key] = (counts[key] ?? 0) + Number(m[2]);
  }
  return counts;
}

/** What happened between two readings; only the keys that grew. */
export function countsSince(before: RequestCounts, after: RequestCounts): RequestCounts {
  const out: RequestCounts = {};
  for (const [key, n] of Object.entries(after)) {
    const d = n - (before[key] ?? 0);
    if (d > 0) out[key] = d;
  }
  return out;
}

export const totalRequests = (counts: RequestCounts): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** `2 GET configmaps, 1 POST configmaps`, biggest first; `divideBy` turns totals into per-operation figures. */
export function formatCounts(counts: RequestCounts, divideBy = 1): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (entries.length === 0) return 'none';
  const n = (x: number): string => String(Number((x / divideBy).toFixed(2)));
  return entries.map(([key, count]) => `${n(count)} ${key}`).join(', ');
}
