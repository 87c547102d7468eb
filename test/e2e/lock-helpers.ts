// Helpers for the lock end-to-end tests (test/e2e/lock-*.test.ts): running `kubectl cmlock` and reading what it
// left in the cluster, checking the one-line error contract, and an HTTP-aware gate in front of the API server
// that holds chosen requests until all racers have sent theirs, so that races really happen at the same instant.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest, createServer, Agent, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { kubeconfigThroughProxy } from './fault-proxy.ts';
import {
  clusterKubeconfig,
  clusterState,
  cmlock,
  collect,
  kubectl,
  kubectlOk,
  startSealed,
  type RunOptions,
  type RunResult,
} from './harness.ts';

/** The fields every `-o json|yaml` lock object has (design.md "Machine-readable output", plus the extras). */
export const LOCK_VIEW_FIELDS = [
  'name',
  'namespace',
  'holder',
  'user',
  'host',
  'acquireTime',
  'renewTime',
  'leaseDurationSeconds',
  'expiresAt',
  'status',
  'reason',
  'fence',
  'owner',
  'labels',
  'creationTimestamp',
  'foreign',
] as const;

export interface LockJson {
  name: string;
  namespace: string;
  holder: string;
  user: string;
  host: string;
  acquireTime: string;
  renewTime: string;
  leaseDurationSeconds: number;
  expiresAt: string;
  status: 'Held' | 'Expired';
  reason: string;
  fence: string;
  owner: string;
  labels: Record<string, string>;
  creationTimestamp: string;
  foreign: boolean;
  holders?: {
    holder: string;
    user: string;
    host: string;
    acquireTime: string;
    renewTime: string;
    leaseDurationSeconds: number;
    expiresAt: string;
    status: 'Held' | 'Expired';
    reason: string;
    fence: string;
    shared: boolean;
  }[];
  limit?: number;
  waiters?: { identity: string; user: string; host: string; since: string; reason: string; shared: boolean }[];
}

export interface ConfigMapJson {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    ownerReferences?: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }[];
  };
  data?: Record<string, string>;
}

/** A RunResult for assertion messages. */
export function show(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** `kubectl cmlock ARGS`, which must exit 0. */
export async function cmlockOk(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  // A generous hang guard: the CI machine has 2 cores and runs two test files at once.
  const r = await cmlock(args, { timeoutMs: 120_000, ...opts });
  assert.equal(r.code, 0, `kubectl cmlock ${args.join(' ')}: ${show(r)}`);
  return r;
}

/** A table as rows of cells (kubectl's look: columns separated by at least two blanks... or three). */
export function cells(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(/ {2,}/));
}

/** Present only where they apply: the holders of a shared lock or semaphore, its limit, the queue. */
export const LOCK_VIEW_OPTIONAL_FIELDS = ['holders', 'limit', 'waiters'] as const;

/**
 * Parses stdout as one lock object and checks it has exactly the documented fields (the optional ones only when
 * `optional` allows them; a plain lock with nobody waiting has none).
 */
export function parseLock(stdout: string, optional: readonly string[] = []): LockJson {
  const lock = JSON.parse(stdout) as LockJson;
  const extra = Object.keys(lock).filter((k) => !(LOCK_VIEW_FIELDS as readonly string[]).includes(k));
  assert.deepEqual(
    LOCK_VIEW_FIELDS.filter((k) => !(k in lock)),
    [],
    `lock object fields: ${stdout}`,
  );
  assert.deepEqual(
    extra.filter((k) => !optional.includes(k)),
    [],
    `lock object fields: ${stdout}`,
  );
  assert.match(lock.fence, /^[1-9]\d*$/, 'the fence is a decimal string');
  return lock;
}

/** `acquire NAME -n NS ARGS -o json`, which must succeed; the lock it printed. */
export async function acquireJson(ns: string, name: string, args: string[] = [], opts: RunOptions = {}) {
  const r = await cmlockOk(['acquire', name, '-n', ns, '-o', 'json', ...args], opts);
  return parseLock(r.stdout);
}

/**
 * The error contract of design.md: exit `code`, nothing on stdout, stderr is one `error: ...` line matching
 * `pattern` (plus, for usage errors, kubectl's "see '... --help'" hint), never a stack trace. With `waited`, the
 * plain "waiting for lock ..." progress lines of a non-terminal may come first. Returns the error line.
 */
export function assertErrorLine(
  r: RunResult,
  code: number,
  pattern: RegExp,
  options: { waited?: boolean } = {},
): string {
  assert.equal(r.code, code, `expected exit ${code}: ${show(r)}`);
  assert.equal(r.stdout, '', `nothing on stdout: ${show(r)}`);
  let lines = r.stderr.split('\n').filter((l) => l !== '');
  if (options.waited === true) {
    const progress = lines.findIndex((l) => !/^waiting for lock "/.test(l));
    lines = lines.slice(progress < 0 ? lines.length : progress);
  }
  const first = lines[0] ?? '';
  assert.match(first, /^error: \S/, `stderr starts with "error: ...": ${show(r)}`);
  assert.match(first, pattern, show(r));
  const rest = lines.slice(1);
  assert.ok(
    rest.every((l) => /^see 'kubectl cmlock( [a-z]+)? --help'$/.test(l)),
    `one error line (and at most a help hint), no stack trace: ${show(r)}`,
  );
  assert.ok(rest.length <= 1, show(r));
  return first;
}

/** The ConfigMap NAME in NS as the API server has it, or undefined when it does not exist. */
export async function getConfigMap(ns: string, name: string): Promise<ConfigMapJson | undefined> {
  const r = await kubectl(['get', 'configmap', name, '-n', ns, '-o', 'json']);
  if (r.code !== 0) {
    assert.match(r.stderr, /NotFound|not found/, `kubectl get configmap ${name}: ${r.stderr}`);
    return undefined;
  }
  return JSON.parse(r.stdout) as ConfigMapJson;
}

export async function mustGetConfigMap(ns: string, name: string): Promise<ConfigMapJson> {
  const cm = await getConfigMap(ns, name);
  assert.ok(cm, `configmap ${ns}/${name} exists`);
  return cm;
}

/** Every ConfigMap name in the namespace, sorted. */
export async function configMapNames(ns: string): Promise<string[]> {
  const out = await kubectlOk(['get', 'configmaps', '-n', ns, '-o', 'jsonpath={.items[*].metadata.name}']);
  return out
    .split(/\s+/)
    .filter((n) => n !== '')
    .sort();
}

export interface EventJson {
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string; uid: string };
}

/** Events in the namespace about the object NAME (whatever its uid). */
export async function eventsAbout(ns: string, name: string): Promise<EventJson[]> {
  const out = await kubectlOk([
    'get',
    'events',
    '-n',
    ns,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out) as { items: EventJson[] }).items;
}

/** A cmlock process started in the background, with its output so far. */
export interface Started {
  child: ChildProcess;
  done: Promise<RunResult>;
  stdout(): string;
  stderr(): string;
  exited(): boolean;
  /** Resolves once stderr matches `pattern`; rejects when the process exits first or after timeoutMs. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function startCmlock(args: string[], opts: RunOptions = {}): Started {
  const child = startSealed('kubectl', ['cmlock', ...args], opts);
  const done = collect(child, opts.timeoutMs ?? 120_000, opts.input);
  let out = '';
  let err = '';
  let exited = false;
  child.stdout?.on('data', (d: string) => (out += d));
  child.stderr?.on('data', (d: string) => (err += d));
  const listeners = new Set<() => void>();
  child.stderr?.on('data', () => listeners.forEach((l) => l()));
  void done.then(
    () => {
      exited = true;
      listeners.forEach((l) => l());
    },
    () => {
      exited = true;
      listeners.forEach((l) => l());
    },
  );
  return {
    child,
    done,
    stdout: () => out,
    stderr: () => err,
    exited: () => exited,
    waitForStderr(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} on stderr of ${args.join(' ')}:\n${err}`),
          );
        }, timeoutMs);
        const check = () => {
          if (pattern.test(err)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          } else if (exited) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(
              new Error(
                `exited before ${pattern} appeared on stderr of ${args.join(' ')}:\nstdout: ${out}\nstderr: ${err}`,
              ),
            );
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Milliseconds since the epoch of an RFC 3339 time, failing on anything else. */
export function ms(time: string): number {
  const t = Date.parse(time);
  assert.ok(time !== '' && !Number.isNaN(t), `an RFC 3339 time: ${JSON.stringify(time)}`);
  return t;
}

/** Writes a ConfigMap as given (a lock written by hand, the Go library, or a hostile user). */
export async function applyConfigMap(ns: string, manifest: Record<string, unknown>): Promise<void> {
  await kubectlOk(['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', ...manifest }),
  });
}

/** A Pod that is never scheduled (there are no nodes): a stable owner for a lock. Returns its uid. */
export async function createPod(ns: string, name: string): Promise<string> {
  await kubectlOk(['run', name, '-n', ns, '--image=registry.invalid/x', '--restart=Never']);
  return (await kubectlOk(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
}

// ---------------------------------------------------------------------------------------------------------------
// The gate: a TLS-terminating HTTP proxy in front of the API server, presenting the API server's own certificate
// (so the cluster's CA verifies it) and forwarding every request unchanged, response headers (Date) included.
// Requests that `gated` selects are held until open(): with N racers held at the same request, opening the gate
// sends all N to the API server at once.

export interface GatedRequest {
  method: string;
  path: string;
  /** The API server's answer, once forwarded. */
  status?: number;
}

export interface Gate {
  /** A kubeconfig like the cluster's, every server pointing at the gate. */
  readonly kubeconfig: string;
  /** The requests held (and, once open, forwarded) so far. */
  readonly held: readonly GatedRequest[];
  /** Resolves once `count` requests are held. */
  waitForHeld(count: number, timeoutMs: number): Promise<void>;
  /** Forwards everything held, and from now on everything at once. */
  open(): void;
  close(): Promise<void>;
}

export async function startGate(gated: (method: string, path: string) => boolean): Promise<Gate> {
  const state = clusterState();
  const upstream = new URL(state.server);
  const dir = dirname(clusterKubeconfig());
  const ca = readFileSync(join(dir, 'ca.crt'));
  const agent = new Agent({ keepAlive: true, ca });
  const held: GatedRequest[] = [];
  const waiting: (() => void)[] = [];
  let opened = false;
  const onHeld = new Set<() => void>();

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse, record?: GatedRequest) => {
    const headers = { ...req.headers, host: upstream.host };
    const out = httpsRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        if (record) record.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    out.end(body);
  };

  const server: Server = createServer(
    { cert: readFileSync(join(dir, 'serving.crt')), key: readFileSync(join(dir, 'serving.key')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const method = req.method ?? '';
        const path = req.url ?? '';
        if (!gated(method, path)) return forward(req, body, res);
        const record: GatedRequest = { method, path };
        held.push(record);
        onHeld.forEach((l) => l());
        if (opened) forward(req, body, res, record);
        else waiting.push(() => forward(req, body, res, record));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    kubeconfig: kubeconfigThroughProxy(clusterKubeconfig(), port),
    held,
    waitForHeld(count, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          onHeld.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms: ${held.length} of ${count} requests reached the gate`));
        }, timeoutMs);
        const check = () => {
          if (held.length < count) return;
          clearTimeout(timer);
          onHeld.delete(check);
          resolve();
        };
        onHeld.add(check);
        check();
      });
    },
    open() {
      opened = true;
      for (const send of waiting.splice(0)) send();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
