// A fault-injecting TCP proxy for end-to-end tests: cmlock talks to the API server through it, and a test
// switches its mode at run time. It works on bytes only, so TLS passes through untouched (the API server's
// certificate is for 127.0.0.1, which is where the proxy listens).
//
// Modes:
//   pass               forward both ways (the default)
//   delay(ms)          hold every chunk, both ways, for ms before forwarding (order kept)
//   blackhole          accept but forward nothing either way; existing connections go silent (reads stop, so TCP
//                      backpressure builds as on a dead link); on leaving it, held data flows again
//   reset              RST every current connection and every new one
//   cutAfter(bytes)    connections accepted from now on forward only their first `bytes` bytes server->client;
//                      then the connection is destroyed ('destroy', the default) or that direction goes silent
//                      ('silence'). Bytes count from the start of the connection, TLS handshake included: use
//                      stats() from a normal run to pick N.
//   refuse             stop listening (connections are refused) and close current connections, as a stopped
//                      server does; resume() (or any other mode) listens again on the same port

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'blackhole' }
  | { kind: 'reset' }
  | { kind: 'cutAfter'; bytes: number; action?: 'destroy' | 'silence' }
  | { kind: 'refuse' };

export interface ConnectionStats {
  id: number;
  /** Bytes received from the client (whether forwarded or not). */
  fromClient: number;
  /** Bytes received from the server. */
  fromServer: number;
  open: boolean;
}

export interface FaultProxy {
  /** The port on 127.0.0.1; stays the same across refuse/resume. */
  readonly port: number;
  readonly mode: FaultMode;
  setMode(mode: FaultMode): Promise<void>;
  /** Listens again after refuse and passes traffic. */
  resume(): Promise<void>;
  stats(): ConnectionStats[];
  close(): Promise<void>;
}

type Direction = 'toServer' | 'toClient';

interface Queue {
  chunks: { data: Buffer; at: number }[];
  timer?: NodeJS.Timeout;
  /** The source ended: end the destination once the queue is empty. */
  ending: boolean;
}

interface Conn {
  stats: ConnectionStats;
  client: Socket;
  upstream?: Socket;
  upstreamReady: boolean;
  queues: Record<Direction, Queue>;
  /** Remaining server->client bytes before the cut (connections accepted in cutAfter mode). */
  cut?: { remaining: number; action: 'destroy' | 'silence'; done: boolean };
  blocked: Record<Direction, boolean>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: FaultMode = { kind: 'pass' };
  let nextId = 1;
  const conns = new Set<Conn>();
  const allStats: ConnectionStats[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (client) => accept(client));
  let listening = false;

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!listening) return resolve();
      listening = false;
      // Resolves when every connection is gone; we destroy them right after.
      server.close(() => resolve());
    });

  await listen(0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no TCP address');
  const port = address.port;

  function accept(client: Socket): void {
    if (mode.kind === 'reset' || mode.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const stats: ConnectionStats = { id: nextId++, fromClient: 0, fromServer: 0, open: true };
    allStats.push(stats);
    const conn: Conn = {
      stats,
      client,
      upstreamReady: false,
      queues: { toServer: { chunks: [], ending: false }, toClient: { chunks: [], ending: false } },
      blocked: { toServer: false, toClient: false },
    };
    if (mode.kind === 'cutAfter') conn.cut = { remaining: mode.bytes, action: mode.action ?? 'destroy', done: false };
    conns.add(conn);
    client.on('data', (data: Buffer) => {
      stats.fromClient += data.length;
      forward(conn, 'toServer', data);
    });
    client.on('end', () => endAfterQueue(conn, 'toServer'));
    client.on('error', () => drop(conn));
    client.on('close', () => drop(conn));
    applyFlow(conn);
    if (mode.kind !== 'blackhole') connectUpstream(conn);
  }

  function connectUpstream(conn: Conn): void {
    if (conn.upstream) return;
    const upstream = createConnection({ host: target.host, port: target.port, allowHalfOpen: true });
    conn.upstream = upstream;
    upstream.on('connect', () => {
      conn.upstreamReady = true;
      flush(conn, 'toServer');
      applyFlow(conn);
    });
    upstream.on('data', (data: Buffer) => {
      conn.stats.fromServer += data.length;
      forward(conn, 'toClient', data);
    });
    upstream.on('end', () => endAfterQueue(conn, 'toClient'));
    upstream.on('error', () => drop(conn));
    upstream.on('close', () => drop(conn));
    applyFlow(conn);
  }

  function destination(conn: Conn, dir: Direction): Socket | undefined {
    return dir === 'toServer' ? (conn.upstreamReady ? conn.upstream : undefined) : conn.client;
  }

  function forward(conn: Conn, dir: Direction, data: Buffer): void {
    if (dir === 'toClient' && conn.cut) {
      const cut = conn.cut;
      if (cut.done) return;
      if (data.length >= cut.remaining) {
        data = data.subarray(0, cut.remaining);
        cut.remaining = 0;
        cut.done = true;
      } else {
        cut.remaining -= data.length;
      }
    }
    const queue = conn.queues[dir];
    const last = queue.chunks.at(-1)?.at ?? 0;
    const delay = mode.kind === 'delay' ? mode.ms : 0;
    if (data.length > 0) queue.chunks.push({ data, at: Math.max(Date.now() + delay, last) });
    flush(conn, dir);
  }

  /** Writes the chunks of `dir` that are due, then arms a timer for the next one. */
  function flush(conn: Conn, dir: Direction): void {
    const queue = conn.queues[dir];
    clearTimeout(queue.timer);
    queue.timer = undefined;
    const dest = destination(conn, dir);
    if (!dest || dest.destroyed || conn.blocked[dir] || mode.kind === 'blackhole') return;
    for (;;) {
      const head = queue.chunks[0];
      if (!head) break;
      const wait = head.at - Date.now();
      if (wait > 0) {
        queue.timer = setTimeout(() => flush(conn, dir), wait);
        return;
      }
      queue.chunks.shift();
      if (!dest.write(head.data)) {
        conn.blocked[dir] = true;
        applyFlow(conn);
        dest.once('drain', () => {
          conn.blocked[dir] = false;
          applyFlow(conn);
          flush(conn, dir);
        });
        return;
      }
    }
    const cut = dir === 'toClient' ? conn.cut : undefined;
    if (cut?.done) {
      if (cut.action === 'destroy' && !dest.writableEnded) dest.end(() => destroyConn(conn, false));
      return;
    }
    if (queue.ending && !dest.writableEnded) dest.end();
  }

  function endAfterQueue(conn: Conn, dir: Direction): void {
    conn.queues[dir].ending = true;
    flush(conn, dir);
  }

  /** Reads are paused while black-holed, before the upstream is connected, or when the far side is full. */
  function applyFlow(conn: Conn): void {
    const hole = mode.kind === 'blackhole';
    setPaused(conn.client, hole || !conn.upstreamReady || conn.blocked.toServer);
    if (conn.upstream) setPaused(conn.upstream, hole || conn.blocked.toClient);
  }

  function setPaused(socket: Socket, paused: boolean): void {
    if (paused) socket.pause();
    else socket.resume();
  }

  function destroyConn(conn: Conn, reset: boolean): void {
    for (const socket of [conn.client, conn.upstream]) {
      if (!socket || socket.destroyed) continue;
      if (reset && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
    drop(conn);
  }

  function drop(conn: Conn): void {
    if (!conns.delete(conn)) return;
    conn.stats.open = false;
    for (const queue of Object.values(conn.queues)) clearTimeout(queue.timer);
    conn.client.destroy();
    conn.upstream?.destroy();
  }

  async function setMode(next: FaultMode): Promise<void> {
    mode = next;
    if (next.kind === 'refuse') {
      const closed = stopListening();
      for (const conn of [...conns]) destroyConn(conn, false);
      await closed;
      return;
    }
    if (!listening) await listen(port);
    for (const conn of [...conns]) {
      if (next.kind === 'reset') {
        destroyConn(conn, true);
        continue;
      }
      applyFlow(conn);
      if (next.kind === 'blackhole') continue;
      connectUpstream(conn);
      flush(conn, 'toServer');
      flush(conn, 'toClient');
    }
  }

  return {
    port,
    get mode() {
      return mode;
    },
    setMode,
    resume: () => setMode({ kind: 'pass' }),
    stats: () => allStats.map((s) => ({ ...s })),
    async close() {
      const closed = stopListening();
      for (const conn of [...conns]) destroyConn(conn, false);
      await closed;
    },
  };
}

/**
 * Writes a temporary kubeconfig (mode 0600) like `srcKubeconfigPath`, with every cluster's server pointing at
 * https://127.0.0.1:<proxyPort>. Everything else (certificate-authority-data, tls-server-name, users,
 * contexts) is kept as it was: the API server's certificate names 127.0.0.1, so verification still passes.
 */
export function kubeconfigThroughProxy(srcKubeconfigPath: string, proxyPort: number): string {
  const config: unknown = parse(readFileSync(srcKubeconfigPath, 'utf8'));
  const clusters = isRecord(config) ? config.clusters : undefined;
  if (!Array.isArray(clusters) || clusters.length === 0) {
    throw new Error(`${srcKubeconfigPath}: no clusters to point at the proxy`);
  }
  for (const entry of clusters) {
    const cluster: unknown = isRecord(entry) ? entry.cluster : undefined;
    if (!isRecord(cluster)) throw new Error(`${srcKubeconfigPath}: a cluster entry has no "cluster" map`);
    cluster.server = `https://127.0.0.1:${proxyPort}`;
  }
  const path = join(mkdtempSync(join(tmpdir(), 'cmlock-proxy-')), 'kubeconfig');
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
