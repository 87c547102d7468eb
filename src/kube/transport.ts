// The wire: one HTTP/1.1 exchange with the API server over node:https (node:http for an http:// server, such as
// `kubectl proxy`), on a keep-alive connection. Credentials and TLS settings come from client-node's KubeConfig
// (applyToHTTPSOptions: tokens, token files, exec plugins, auth providers, client certificates, the CA, the
// server name, and the proxy of the kubeconfig or of HTTPS_PROXY through client-node's own proxy agents).
//
// What is bypassed, and why: client-node's generated API classes (with the ObjectSerializer that converts every
// object to and from its model classes) and undici's fetch beneath them. Evaluated, they were ~1.5 MB of code,
// a third of a one-shot command's CPU and ~5 MB of heap for the dozen requests cmlock makes (npm run bench,
// README "Speed and memory"); node:https is part of Node. kube/api.ts keeps client-node's names and types.

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** TCP keep-alive probes on an idle connection after this long, as client-go does. */
const KEEPALIVE_PROBE_MS = 30_000;
/** An idle connection is closed after this long: below common server and load-balancer idle timeouts. */
const IDLE_CLOSE_MS = 55_000;

/** One request as cmlock sends it. */
export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** JSON text; sent with a Content-Length. */
  body?: string;
}

/** Connection settings for requests made now: headers (credentials), TLS options, the agent. */
export type Prepared = RequestOptions & { headers: Record<string, string> };

export class Transport {
  readonly #https: boolean;
  /** One keep-alive pool for the session (client-node's agents would close each connection after one request). */
  readonly #agent: HttpAgent;

  constructor(server: string) {
    this.#https = new URL(server).protocol === 'https:';
    const options = { keepAlive: true, keepAliveMsecs: KEEPALIVE_PROBE_MS, timeout: IDLE_CLOSE_MS };
    this.#agent = this.#https ? new HttpsAgent(options) : new HttpAgent(options);
  }

  /**
   * Credentials and TLS options from the kubeconfig, for requests made now (an exec plugin runs here when its
   * credential is missing or expired). The agent is ours unless a proxy needs client-node's.
   */
  async prepare(kc: KubeConfig): Promise<Prepared> {
    const opts: RequestOptions & { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(opts);
    const proxied = kc.getCurrentCluster()?.proxyUrl !== undefined;
    return { ...opts, headers: { ...opts.headers }, agent: proxied ? opts.agent : this.#agent };
  }

  /** Sends one request; resolves with the response once its headers have arrived. */
  send(request: HttpRequest, prepared: Prepared, signal: AbortSignal): Promise<IncomingMessage> {
    const headers = { ...prepared.headers, ...request.headers };
    if (request.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(request.body));
    return new Promise<IncomingMessage>((resolve, reject) => {
      const options: RequestOptions = { ...prepared, method: request.method, headers, signal };
      const req = (this.#https ? httpsRequest : httpRequest)(request.url, options, resolve);
      req.on('error', reject);
      req.end(request.body);
    });
  }
}

/** The whole body of a response, as text. Rejects when the connection fails or the signal aborts meanwhile. */
export async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Response headers with lower-case names, repeated ones joined as HTTP allows. */
export function headersOf(response: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
