// A scripted API server on 127.0.0.1 for the wire tests of src/kube: it records every request and answers
// with whatever the test's handler writes. Not a Kubernetes emulation: each test scripts the answers it needs.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../../src/kube/connect.ts';
import type { Tuning } from '../../../src/kube/client.ts';
import type { ConnectOptions, KubeSession } from '../../../src/kube/types.ts';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** Client port: tells connections apart. */
  remotePort: number | undefined;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export class FakeApiServer {
  readonly requests: Recorded[] = [];
  handler: Handler;
  readonly #server: Server;
  url = '';

  private constructor(server: Server, handler: Handler) {
    this.#server = server;
    this.handler = handler;
  }

  static async start(handler: Handler = notFound, tls?: { key: string; cert: string }): Promise<FakeApiServer> {
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const recorded: Recorded = {
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          remotePort: req.socket.remotePort,
        };
        fake.requests.push(recorded);
        Promise.resolve(fake.handler(recorded, res)).catch(() => res.destroy());
      });
    };
    const server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
    const fake = new FakeApiServer(server, handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    fake.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function sendStatus(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    code,
    { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, ...extra },
    headers,
  );
}

function notFound(_req: Recorded, res: ServerResponse): void {
  sendStatus(res, 404, 'NotFound', 'not found');
}

export function configMap(
  name: string,
  extra: { rv?: string; namespace?: string; data?: Record<string, string> } = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: extra.namespace ?? 'default',
      uid: `uid-${name}`,
      resourceVersion: extra.rv ?? '100',
      creationTimestamp: '2025-01-02T03:04:05Z',
      labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'pod-uid', blockOwnerDeletion: false }],
    },
    data: extra.data ?? { holderIdentity: 'me', expiresAt: '1700000000' },
  };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cmlock-kube-'));
}

export interface KubeconfigSpec {
  server: string;
  token?: string;
  namespace?: string;
  context?: string;
  user?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
}

/** Writes a one-context kubeconfig (JSON is YAML) and returns its path. */
export function writeKubeconfig(dir: string, spec: KubeconfigSpec, file = 'config'): string {
  const context = spec.context ?? 'test';
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': context,
    clusters: [{ name: `${context}-cluster`, cluster: { server: spec.server, ...spec.cluster } }],
    users: [{ name: `${context}-user`, user: spec.user ?? (spec.token ? { token: spec.token } : {}) }],
    contexts: [
      {
        name: context,
        context: { cluster: `${context}-cluster`, user: `${context}-user`, namespace: spec.namespace },
      },
    ],
  };
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export const fastTuning: Partial<Tuning> = {
  retry: { maxAttempts: 3, initialMs: 1, maxMs: 2, maxWaitMs: 60_000 },
  random: () => 0.5,
};

export interface TestSession {
  session: KubeSession;
  logs: string[];
  sleeps: number[];
}

/** A session against `server` with fast retries, full verbosity and recorded log lines and sleeps. */
export function sessionFor(
  server: string,
  options: {
    token?: string;
    requestTimeoutMs?: number;
    tuning?: Partial<Tuning>;
    kubeconfig?: KubeconfigSpec;
    realSleep?: boolean;
    serverTime?: ConnectOptions['serverTime'];
  } = {},
): TestSession {
  const dir = tempDir();
  const kubeconfig = writeKubeconfig(dir, options.kubeconfig ?? { server, token: options.token });
  const logs: string[] = [];
  const sleeps: number[] = [];
  const session = connect(
    {
      kubeconfig,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
      verbosity: 10,
      env: {},
      log: (line) => logs.push(line),
      serverTime: options.serverTime,
    },
    {
      ...fastTuning,
      ...(options.realSleep
        ? {}
        : {
            sleep: async (ms: number) => {
              sleeps.push(ms);
            },
          }),
      ...options.tuning,
    },
  );
  return { session, logs, sleeps };
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The i-th element, failing the test when there is none. */
export function nth<T>(list: readonly T[], i = 0): T {
  const value = list[i];
  assert.ok(value !== undefined, `expected at least ${i + 1} element(s), got ${list.length}`);
  return value;
}
