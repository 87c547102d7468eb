// Fakes for the command tests: a Runtime with every part stubbed, and a KubeSession over an in-memory store that
// behaves like the API server (create/update/delete with their conflicts, watch, events), so the commands run
// the real protocol. Time is test/unit/lock's FakeClock: nothing sleeps for real.

import type { Runtime } from '../../../src/cli/runtime.ts';
import { runCli } from '../../../src/cli/app.ts';
import type { ConnectOptions, KubeSession } from '../../../src/kube/types.ts';
import {
  AlreadyExistsError,
  ConflictError,
  StoreNotFoundError,
  type LockEvent,
  type LockStore,
  type LockWrite,
  type Result,
  type ServerTimeSample,
  type StoredLock,
  type WatchEvent,
} from '../../../src/lock/store.ts';
import { isManaged } from '../../../src/lock/names.ts';
import type { StartChild } from '../../../src/run/child.ts';
import { FakeClock, NAMESPACE, serverTimeAt, START_MONO } from '../lock/fakes.ts';
import { FakeSignals } from '../run/fakes.ts';

export { NAMESPACE };

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class MemoryStore implements LockStore {
  readonly namespace: string;
  readonly clock: FakeClock;
  readonly locks = new Map<string, StoredLock>();
  readonly recorded: { lock: string; reason: string; message: string; type?: string }[] = [];
  readonly calls: string[] = [];
  #rv = 100;
  #uid = 0;
  #watchers = new Set<(event: WatchEvent) => void>();

  constructor(clock: FakeClock, namespace = NAMESPACE) {
    this.clock = clock;
    this.namespace = namespace;
  }

  /** Puts a lock in place as another program left it. */
  seed(lock: StoredLock): this {
    this.locks.set(lock.name, structuredClone(lock));
    return this;
  }

  #sample(): ServerTimeSample {
    const mono = this.clock.now();
    return { serverDateMs: Math.floor(serverTimeAt(mono) / 1000) * 1000, sentAtMono: mono, receivedAtMono: mono };
  }

  #result<T>(value: T): Result<T> {
    return { value: structuredClone(value), time: this.#sample() };
  }

  #emit(event: WatchEvent): void {
    for (const w of this.#watchers) w(structuredClone(event));
  }

  #store(lock: LockWrite, uid: string, creationTimestamp: string): StoredLock {
    const stored: StoredLock = {
      name: lock.name,
      namespace: this.namespace,
      uid,
      resourceVersion: String(++this.#rv),
      creationTimestamp,
      labels: { ...lock.labels },
      data: { ...lock.data },
      ownerReferences: lock.ownerReferences.map((r) => ({ ...r })),
    };
    this.locks.set(lock.name, stored);
    return stored;
  }

  async get(name: string): Promise<Result<StoredLock | undefined>> {
    this.calls.push('get');
    return this.#result(this.locks.get(name));
  }

  async create(lock: LockWrite): Promise<Result<StoredLock>> {
    this.calls.push('create');
    if (this.locks.has(lock.name)) throw new AlreadyExistsError(lock.name);
    const stored = this.#store(lock, `uid-${++this.#uid}`, iso(serverTimeAt(this.clock.now())));
    this.#emit({ type: 'ADDED', lock: stored });
    return this.#result(stored);
  }

  async update(lock: LockWrite, resourceVersion: string): Promise<Result<StoredLock>> {
    this.calls.push('update');
    const current = this.locks.get(lock.name);
    if (current === undefined) throw new StoreNotFoundError(lock.name);
    if (current.resourceVersion !== resourceVersion) throw new ConflictError(lock.name);
    const stored = this.#store(lock, current.uid, current.creationTimestamp ?? '');
    this.#emit({ type: 'MODIFIED', lock: stored });
    return this.#result(stored);
  }

  async delete(name: string, pre: { uid: string; resourceVersion: string }): Promise<Result<void>> {
    this.calls.push('delete');
    const current = this.locks.get(name);
    if (current === undefined) throw new StoreNotFoundError(name);
    if (current.uid !== pre.uid || current.resourceVersion !== pre.resourceVersion) throw new ConflictError(name);
    this.locks.delete(name);
    this.#emit({ type: 'DELETED', lock: current });
    return this.#result(undefined);
  }

  async list(options: {
    labelSelector?: string;
    allNamespaces?: boolean;
  }): Promise<Result<StoredLock[]> & { resourceVersion: string }> {
    this.calls.push('list');
    const matches = selects(options.labelSelector);
    const managed = [...this.locks.values()].filter((l) => isManaged(l.labels) && matches(l));
    return { ...this.#result(managed), resourceVersion: String(this.#rv) };
  }

  /** As the API server: the ConfigMaps without the managed-by label, those picked by their metadata. */
  async listUnmanaged(
    options: { labelSelector?: string; allNamespaces?: boolean },
    pick: (metadata: StoredLock) => boolean,
  ): Promise<Result<StoredLock[]> & { resourceVersion: string }> {
    this.calls.push('listUnmanaged');
    const matches = selects(options.labelSelector);
    const others = [...this.locks.values()].filter((l) => !isManaged(l.labels) && matches(l));
    const picked = others.filter((l) => pick({ ...l, data: {} }));
    return { ...this.#result(picked), resourceVersion: String(this.#rv) };
  }

  watch(name: string, _resourceVersion: string, signal?: AbortSignal): AsyncIterable<WatchEvent> {
    this.calls.push('watch');
    return this.#stream((lock) => lock.name === name, signal);
  }

  /** Every change from now on (the resourceVersion is not replayed: tests change the store after listing). */
  watchList(
    options: { labelSelector?: string; allNamespaces?: boolean },
    _resourceVersion: string,
    signal?: AbortSignal,
  ): AsyncIterable<WatchEvent> {
    this.calls.push('watchList');
    return this.#stream(selects(options.labelSelector), signal);
  }

  /** Sends a watch event to every open watch, as the server does when the stream breaks (e.g. GONE). */
  broadcast(event: WatchEvent): void {
    this.#emit(event);
  }

  #stream(wanted: (lock: StoredLock) => boolean, signal?: AbortSignal): AsyncIterable<WatchEvent> {
    const watchers = this.#watchers;
    return (async function* () {
      const queue: WatchEvent[] = [];
      let wake: (() => void) | undefined;
      const onEvent = (e: WatchEvent) => {
        if (e.type !== 'GONE' && e.type !== 'BOOKMARK' && !wanted(e.lock)) return;
        queue.push(e);
        wake?.();
      };
      const onAbort = () => wake?.();
      watchers.add(onEvent);
      signal?.addEventListener('abort', onAbort);
      try {
        while (signal?.aborted !== true) {
          const next = queue.shift();
          if (next !== undefined) yield next;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        watchers.delete(onEvent);
        signal?.removeEventListener('abort', onAbort);
      }
    })();
  }

  async events(lock: StoredLock): Promise<LockEvent[]> {
    this.calls.push('events');
    return this.recorded
      .filter((e) => e.lock === lock.name)
      .map((e) => ({
        type: e.type ?? 'Normal',
        reason: e.reason,
        message: e.message,
        count: 1,
        time: iso(serverTimeAt(this.clock.now())),
      }));
  }

  async recordEvent(
    lock: StoredLock,
    event: { reason: string; message: string; type?: 'Normal' | 'Warning' },
  ): Promise<void> {
    this.calls.push('recordEvent');
    this.recorded.push({ lock: lock.name, ...event });
  }
}

/** `k=v,k2=v2` selectors (equality only, enough for the tests). */
function selects(selector: string | undefined): (lock: StoredLock) => boolean {
  const wanted = (selector ?? '').split(',').filter((s) => s !== '');
  return (lock) =>
    wanted.every((s) => {
      const [k = '', v] = s.split('=');
      return lock.labels[k] === v;
    });
}

export interface FakeSessionOptions {
  namespace?: string;
  user?: string;
  pods?: Record<string, string>;
  /** Run under the in-cluster config, the service account's namespace file saying this. */
  podNamespace?: string;
}

export function fakeSession(store: MemoryStore, options: FakeSessionOptions = {}): KubeSession {
  const namespace = options.namespace ?? store.namespace;
  return {
    contextName: 'test',
    namespace,
    server: 'https://127.0.0.1:6443',
    inCluster: options.podNamespace !== undefined,
    podNamespace: options.podNamespace,
    store: () => store,
    whoAmI: async () => options.user ?? 'alice',
    getPodUid: async (ns, name) => options.pods?.[`${ns}/${name}`],
    listNamespaces: async () => ['default', namespace],
    listContexts: () => ['test', 'prod'],
  };
}

export interface Captured {
  text: string;
  isTTY: boolean;
  columns: number | undefined;
  write(text: string): void;
}

function capture(isTTY = false, columns = 120): Captured {
  return {
    text: '',
    isTTY,
    columns: isTTY ? columns : undefined,
    write(text) {
      this.text += text;
    },
  };
}

export interface Harness {
  rt: Runtime;
  clock: FakeClock;
  store: MemoryStore;
  stdout: Captured;
  stderr: Captured;
  connects: ConnectOptions[];
  abort: AbortController;
  /** Runtime.signals: `emit` plays a signal to the handlers a command registered. */
  signals: FakeSignals;
  /** Every child started through Runtime.spawn. */
  spawned: { file: string; args: readonly string[]; env: Readonly<Record<string, string>> }[];
}

export interface HarnessOptions extends FakeSessionOptions {
  env?: Record<string, string>;
  stderrTTY?: boolean;
  stderrColumns?: number;
  clock?: FakeClock;
  store?: MemoryStore;
  /** Runtime.spawn after recording the start; default: a child that exits 0 at once. */
  spawn?: StartChild;
}

const exitsAtOnce: StartChild = async () => ({
  pid: 4343,
  exited: Promise.resolve({ code: 0, signal: null }),
  signalGroup: () => false,
  guard: { arm: () => Promise.resolve(), killAfter: () => Promise.resolve(), hold: () => Promise.resolve() },
  disown: () => Promise.resolve(),
});

export function harness(argv: readonly string[], options: HarnessOptions = {}): Harness {
  const clock = options.clock ?? new FakeClock({ start: START_MONO });
  const store = options.store ?? new MemoryStore(clock);
  const stdout = capture();
  const stderr = capture(options.stderrTTY, options.stderrColumns);
  const connects: ConnectOptions[] = [];
  const abort = new AbortController();
  const session = fakeSession(store, options);
  const signals = new FakeSignals();
  const spawned: Harness['spawned'] = [];
  const spawn = options.spawn ?? exitsAtOnce;
  const rt: Runtime = {
    argv,
    env: options.env ?? {},
    stdout,
    stderr,
    signal: abort.signal,
    signals,
    spawn: (file, args, env, opts) => {
      spawned.push({ file, args, env });
      return spawn(file, args, env, opts);
    },
    connect: async (o) => {
      connects.push(o);
      return session;
    },
    clock,
    // The local wall clock is 10 minutes fast: nothing may print relative to it once the server has answered.
    wallNow: () => serverTimeAt(clock.now()) + 600_000,
    stopSelf: () => {
      throw new Error('the command stopped the test process (SIGSTOP to itself)');
    },
    hostname: () => 'host1',
    username: () => 'alice',
    pid: 4242,
  };
  return { rt, clock, store, stdout, stderr, connects, abort, signals, spawned };
}

/** Runs the command line to completion on the fake clock: the exit code, or the error thrown. */
export async function run(h: Harness): Promise<{ code?: number; error?: unknown }> {
  try {
    return { code: await h.clock.run(runCli(h.rt)) };
  } catch (error) {
    return { error };
  }
}
