// Fakes for the lock protocol tests, in the manner of client-go's leader election tests: a store whose every
// call is scripted by the test case (any other call fails the test) and a clock whose time moves only when the
// test lets it. Nothing here sleeps for real or reads the wall clock.

import assert from 'node:assert/strict';
import type { AcquireOptions, Holder, LockContext } from '../../../src/lock/types.ts';
import { FakeClock } from '../fake-clock.ts';
import { ServerClock } from '../../../src/lock/server-clock.ts';
import type { LocalTimes } from '../../../src/lock/time-jumps.ts';
import {
  AmbiguousWriteError,
  type LockEvent,
  type LockStore,
  type LockWrite,
  type RequestOptions,
  type Result,
  type ServerTimeSample,
  type StoredLock,
  type WatchEvent,
} from '../../../src/lock/store.ts';

export { FakeClock };

export const NAMESPACE = 'team-a';
/** Local monotonic time when a test starts. */
export const START_MONO = 10_000;
/** The fake API server's clock at START_MONO: 2026-11-26T06:30:00Z. */
export const SERVER_START_MS = Date.UTC(2026, 10, 26, 6, 30, 0);

/** The fake server's time at a local monotonic instant (it shares our clock's rate, with its own epoch). */
export function serverTimeAt(mono: number): number {
  return SERVER_START_MS + (mono - START_MONO);
}

export const ALICE: Holder = { identity: 'alice@host1', user: 'alice', host: 'host1' };
export const BOB: Holder = { identity: 'bob@host2', user: 'bob', host: 'host2' };

// ---------------------------------------------------------------------------------------------------------------
// Store

export type Call =
  | { method: 'get'; name: string }
  | { method: 'create'; lock: LockWrite }
  | { method: 'update'; lock: LockWrite; resourceVersion: string }
  | { method: 'delete'; name: string; preconditions: { uid: string; resourceVersion: string } }
  | { method: 'list'; options: { labelSelector?: string; allNamespaces?: boolean } }
  | { method: 'listUnmanaged'; options: { labelSelector?: string; allNamespaces?: boolean } }
  | { method: 'watch'; name: string; resourceVersion: string }
  | { method: 'watchList'; options: { labelSelector?: string; allNamespaces?: boolean }; resourceVersion: string }
  | { method: 'events'; lock: StoredLock }
  | {
      method: 'recordEvent';
      lock: StoredLock;
      event: { reason: string; message: string; type?: 'Normal' | 'Warning' };
    };
export type Method = Call['method'];
export type CallOf<M extends Method> = Extract<Call, { method: M }>;

/**
 * What a watch stream does, item by item; when the items run out the stream ends. A function is an event made
 * from what the server has when the stream reaches it (e.g. the waiter's own entry, whose id is random).
 */
export type StreamItem =
  WatchEvent | ((store: FakeStore) => WatchEvent) | { afterMs: number } | { error: Error } | 'hang';

/** One scripted call: the method the code must call next and what the fake server does. */
export interface Step {
  method: Method;
  /** Returns the value, or throws the error the store would throw. */
  reply: (call: Call, store: FakeStore) => unknown;
  stream?: StreamItem[];
  /** Leave out the Date header sample (a server that does not say its time). */
  noTime?: boolean;
  /** A list's own resourceVersion. */
  resourceVersion?: string;
}

class UnscriptedCall extends Error {}

export class FakeStore implements LockStore {
  readonly namespace = NAMESPACE;
  readonly clock: FakeClock;
  /** Every call made, in order. */
  readonly calls: Call[] = [];
  /** The deadline each request (get, create, update, delete, list, events) carried, in order. */
  readonly deadlines: (number | undefined)[] = [];
  readonly problems: string[] = [];
  /** The server's object as the last scripted read showed it or the last applied write left it. */
  last: StoredLock | undefined;
  #script: Step[] = [];
  #rv = 100;
  #uid = 0;
  /** How far the server's clock has run ahead of ours: time our monotonic clock missed (a machine suspend). */
  #suspended = 0;

  constructor(clock: FakeClock) {
    this.clock = clock;
  }

  /** The machine was suspended for `ms`: the server's clock (and the wall clock, see fakeTimes) moved on, ours did not. */
  suspend(ms: number): void {
    this.#suspended += ms;
  }

  /** The server's time now. */
  serverNow(): number {
    return serverTimeAt(this.clock.now()) + this.#suspended;
  }

  /** Wall and boot clocks that follow the server's (the test machine's) time, suspends included. */
  times(): LocalTimes {
    return { wall: () => this.serverNow(), boot: () => this.serverNow() - SERVER_START_MS };
  }

  script(...steps: Step[]): this {
    this.#script.push(...steps);
    return this;
  }

  nextResourceVersion(): string {
    this.#rv += 1;
    return String(this.#rv);
  }

  /** The object the fake server stores for a write (a new uid unless one is given). */
  apply(lock: LockWrite, uid?: string): StoredLock {
    this.last = {
      name: lock.name,
      namespace: NAMESPACE,
      uid: uid ?? `uid-${++this.#uid}`,
      resourceVersion: this.nextResourceVersion(),
      creationTimestamp: new Date(this.serverNow()).toISOString().replace(/\.\d+Z$/, 'Z'),
      labels: { ...lock.labels },
      data: { ...lock.data },
      ownerReferences: lock.ownerReferences.map((ref) => ({ ...ref })),
    };
    return structuredClone(this.last);
  }

  /** A Date header sample taken now: the server's time truncated to the second, an instant round trip. */
  sample(): ServerTimeSample {
    const mono = this.clock.now();
    return { serverDateMs: Math.floor(this.serverNow() / 1000) * 1000, sentAtMono: mono, receivedAtMono: mono };
  }

  /** Fails the test unless exactly the scripted calls were made. */
  verify(): void {
    assert.deepEqual(this.problems, [], 'unexpected store calls');
    assert.deepEqual(
      this.#script.map((s) => s.method),
      [],
      `scripted calls never made (calls made: ${this.calls.map((c) => c.method).join(', ')})`,
    );
  }

  methods(): Method[] {
    return this.calls.map((c) => c.method);
  }

  callsOf<M extends Method>(method: M): CallOf<M>[] {
    return this.calls.filter((c): c is CallOf<M> => c.method === method);
  }

  #take(call: Call): Step {
    this.calls.push(structuredClone(call));
    const step = this.#script.shift();
    if (step === undefined || step.method !== call.method) {
      const problem = `call #${this.calls.length} was ${call.method}; the script expected ${step?.method ?? 'no more calls'}`;
      this.problems.push(problem);
      if (step !== undefined) this.#script.unshift(step);
      throw new UnscriptedCall(problem);
    }
    return step;
  }

  async #answer<T>(call: Call): Promise<Result<T>> {
    const step = this.#take(call);
    const value = (await step.reply(call, this)) as T;
    const listed = step.resourceVersion === undefined ? {} : { resourceVersion: step.resourceVersion };
    return step.noTime ? { value, ...listed } : { value, time: this.sample(), ...listed };
  }

  get(name: string, request?: RequestOptions): Promise<Result<StoredLock | undefined>> {
    this.deadlines.push(request?.deadline);
    return this.#answer({ method: 'get', name });
  }
  create(lock: LockWrite, request?: RequestOptions): Promise<Result<StoredLock>> {
    this.deadlines.push(request?.deadline);
    return this.#answer({ method: 'create', lock });
  }
  update(lock: LockWrite, resourceVersion: string, request?: RequestOptions): Promise<Result<StoredLock>> {
    this.deadlines.push(request?.deadline);
    return this.#answer({ method: 'update', lock, resourceVersion });
  }
  delete(
    name: string,
    preconditions: { uid: string; resourceVersion: string },
    request?: RequestOptions,
  ): Promise<Result<void>> {
    this.deadlines.push(request?.deadline);
    return this.#answer({ method: 'delete', name, preconditions });
  }
  list(
    options: { labelSelector?: string; allNamespaces?: boolean },
    request?: RequestOptions,
  ): Promise<Result<StoredLock[]>> {
    this.deadlines.push(request?.deadline);
    return this.#answer({ method: 'list', options });
  }
  /** The scripted ConfigMaps, those `pick` chooses by their metadata (as the real store reads only those). */
  async listUnmanaged(
    options: { labelSelector?: string; allNamespaces?: boolean },
    pick: (metadata: StoredLock) => boolean,
    request?: RequestOptions,
  ): Promise<Result<StoredLock[]>> {
    this.deadlines.push(request?.deadline);
    const listed = await this.#answer<StoredLock[]>({ method: 'listUnmanaged', options });
    return { ...listed, value: listed.value.filter((lock) => pick({ ...lock, data: {} })) };
  }
  async events(lock: StoredLock, request?: RequestOptions): Promise<LockEvent[]> {
    this.deadlines.push(request?.deadline);
    return (await this.#answer<LockEvent[]>({ method: 'events', lock })).value;
  }
  async recordEvent(
    lock: StoredLock,
    event: { reason: string; message: string; type?: 'Normal' | 'Warning' },
  ): Promise<void> {
    try {
      await this.#answer({ method: 'recordEvent', lock, event });
    } catch {
      // best effort, as the real store
    }
  }

  watch(name: string, resourceVersion: string, signal?: AbortSignal): AsyncIterable<WatchEvent> {
    return this.#stream(this.#take({ method: 'watch', name, resourceVersion }), signal);
  }

  watchList(
    options: { labelSelector?: string; allNamespaces?: boolean },
    resourceVersion: string,
    signal?: AbortSignal,
  ): AsyncIterable<WatchEvent> {
    return this.#stream(this.#take({ method: 'watchList', options, resourceVersion }), signal);
  }

  #stream(step: Step, signal?: AbortSignal): AsyncIterable<WatchEvent> {
    const clock = this.clock;
    const store = this as FakeStore;
    const items = step.stream ?? [];
    return (async function* () {
      for (const item of items) {
        if (signal?.aborted) return;
        if (item === 'hang') {
          await new Promise<void>((resolve) => {
            if (signal?.aborted) resolve();
            signal?.addEventListener('abort', () => resolve(), { once: true });
          });
          return;
        }
        if ('afterMs' in item) {
          try {
            await clock.sleep(item.afterMs, signal);
          } catch {
            return;
          }
        } else if (typeof item === 'function') {
          yield structuredClone(item(store));
        } else if ('error' in item) {
          throw item.error;
        } else {
          yield structuredClone(item);
        }
      }
    })();
  }
}

/** Builders for scripted calls. */
export const expectCall = {
  /** get → this lock (or a function of the store, e.g. `(s) => s.last`), or nothing. */
  get(lock?: StoredLock | ((store: FakeStore) => StoredLock | undefined)): Step {
    return {
      method: 'get',
      reply: (_call, store) => {
        // What the server has is what a read shows: later scripted writes start from it (e.g. keep its uid).
        store.last = structuredClone(typeof lock === 'function' ? lock(store) : lock);
        return structuredClone(store.last);
      },
    };
  },
  /** create → stored; or the error; 'lost' = applied by the server, response lost (AmbiguousWriteError). */
  create(outcome?: Error | 'lost'): Step {
    return { method: 'create', reply: (call, store) => write(call, store, outcome) };
  },
  /** update → stored (same uid as the last object); or the error; or 'lost'. */
  update(outcome?: Error | 'lost'): Step {
    return { method: 'update', reply: (call, store) => write(call, store, outcome, store.last?.uid ?? 'uid-held') };
  },
  delete(outcome?: Error | 'lost'): Step {
    return {
      method: 'delete',
      reply: () => {
        if (outcome === 'lost') throw new AmbiguousWriteError('connection reset after sending the request');
        if (outcome !== undefined) throw outcome;
        return undefined;
      },
    };
  },
  /** list → these locks; `resourceVersion` is the list's own. */
  list(locks: StoredLock[], resourceVersion?: string): Step {
    return { method: 'list', reply: () => structuredClone(locks), ...(resourceVersion ? { resourceVersion } : {}) };
  },
  /**
   * A listing of locks (lock/listing.ts): list → `locks` (cmlock's), then listUnmanaged → `others` (ConfigMaps
   * without the managed-by label, Go locks among them); both at `resourceVersion` unless `othersVersion` differs.
   */
  listing(locks: StoredLock[], resourceVersion?: string, others: StoredLock[] = [], othersVersion?: string): Step[] {
    return [
      expectCall.list(locks, resourceVersion),
      expectCall.listUnmanaged(others, othersVersion ?? resourceVersion),
    ];
  },
  /** listUnmanaged → these ConfigMaps without the managed-by label (in full: the fake picks from them). */
  listUnmanaged(configMaps: StoredLock[] = [], resourceVersion?: string): Step {
    return {
      method: 'listUnmanaged',
      reply: () => structuredClone(configMaps),
      ...(resourceVersion ? { resourceVersion } : {}),
    };
  },
  watch(stream: StreamItem[]): Step {
    return { method: 'watch', reply: () => undefined, stream };
  },
  watchList(stream: StreamItem[]): Step {
    return { method: 'watchList', reply: () => undefined, stream };
  },
  events(events: LockEvent[]): Step {
    return { method: 'events', reply: () => structuredClone(events) };
  },
  recordEvent(): Step {
    return { method: 'recordEvent', reply: () => undefined };
  },
  /** Any method failing with this error. */
  fails(method: Method, error: Error): Step {
    return {
      method,
      reply: () => {
        throw error;
      },
    };
  },
};

/**
 * The server's object changed by someone else: a new resourceVersion, `data` merged in (undefined removes a key).
 * For watch events and reads that follow the code's own writes (store.last).
 */
export function changed(store: FakeStore, data: Record<string, string | undefined> = {}): StoredLock {
  const last = store.last;
  if (last === undefined) throw new Error('nothing stored yet');
  const merged = Object.entries({ ...last.data, ...data }).filter((e): e is [string, string] => e[1] !== undefined);
  const next: StoredLock = structuredClone({
    ...last,
    resourceVersion: store.nextResourceVersion(),
    data: Object.fromEntries(merged),
  });
  store.last = next;
  return structuredClone(next);
}

function write(call: Call, store: FakeStore, outcome: Error | 'lost' | undefined, uid?: string): StoredLock {
  if (outcome instanceof Error) throw outcome;
  if (call.method !== 'create' && call.method !== 'update') throw new Error(`not a write: ${call.method}`);
  const stored = store.apply(call.lock, uid);
  if (outcome === 'lost') throw new AmbiguousWriteError('connection reset after sending the request');
  return stored;
}

// ---------------------------------------------------------------------------------------------------------------
// Locks as other programs left them (data written out by hand, not by the code under test).

export interface LockSpec {
  name?: string;
  holder?: Holder;
  /** Server epoch ms. */
  acquireMs?: number;
  renewMs?: number;
  /** Lease in seconds; 0 = never expires. */
  ttlSeconds?: number;
  reason?: string;
  acquisitionId?: string;
  fence?: string;
  resourceVersion?: string;
  uid?: string;
  ownerPod?: string;
  labels?: Record<string, string>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A lock written by cmlock. Defaults: held by bob, renewed now (server time), lease 30 min. */
export function cmlock(spec: LockSpec = {}): StoredLock {
  const holder = spec.holder ?? BOB;
  const renewMs = spec.renewMs ?? SERVER_START_MS;
  const ttl = spec.ttlSeconds ?? 1800;
  const data: Record<string, string> = {
    holderIdentity: holder.identity,
    user: holder.user ?? '',
    host: holder.host,
    acquireTime: iso(spec.acquireMs ?? renewMs),
    renewTime: iso(renewMs),
    leaseDurationSeconds: String(ttl),
    reason: spec.reason ?? '',
    acquisitionId: spec.acquisitionId ?? 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0',
    expiresAt: ttl === 0 ? '253402300799' : String(Math.ceil((renewMs + ttl * 1000) / 1000)),
  };
  if (spec.fence !== undefined) data.fence = spec.fence;
  return {
    name: spec.name ?? 'db-migrate',
    namespace: NAMESPACE,
    uid: spec.uid ?? 'uid-held',
    resourceVersion: spec.resourceVersion ?? '50',
    creationTimestamp: iso(spec.acquireMs ?? renewMs).replace(/\.\d+Z$/, 'Z'),
    labels: spec.labels ?? { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' },
    data,
    ownerReferences: spec.ownerPod ? [podOwner(spec.ownerPod)] : [],
  };
}

/** A lock written by the Go library: only expiresAt (Unix seconds), when it set one, and its Pod as owner. */
export function goLock(spec: { expiresAtSeconds?: number; pod?: string; resourceVersion?: string } = {}): StoredLock {
  const data: Record<string, string> = {};
  if (spec.expiresAtSeconds !== undefined) data.expiresAt = String(spec.expiresAtSeconds);
  return {
    name: 'db-migrate',
    namespace: NAMESPACE,
    uid: 'uid-go',
    resourceVersion: spec.resourceVersion ?? '40',
    creationTimestamp: '2026-11-26T06:00:00Z',
    labels: {},
    data,
    // The library marks its Pod as the lock's controller.
    ownerReferences: [{ ...podOwner(spec.pod ?? 'worker-7'), controller: true }],
  };
}

export function podOwner(name: string) {
  return { apiVersion: 'v1', kind: 'Pod', name, uid: `pod-uid-${name}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Setup

export interface Fixture {
  clock: FakeClock;
  store: FakeStore;
  ctx: LockContext;
}

/**
 * A clock, a store and a context for `holder`. knownServerClock: the context already knows the server's time
 * (as `run` does after its first request), so acquire starts with its create.
 */
export function fixture(
  options: { holder?: Holder; knownServerClock?: boolean; random?: number | (() => number) } = {},
): Fixture {
  const clock = new FakeClock({
    start: START_MONO,
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const store = new FakeStore(clock);
  const ctx: LockContext = { store, clock, holder: options.holder ?? ALICE };
  if (options.knownServerClock ?? true) {
    ctx.serverClock = new ServerClock(clock);
    ctx.serverClock.observe(store.sample());
  }
  return { clock, store, ctx };
}

export function acquireOptions(overrides: Partial<AcquireOptions> = {}): AcquireOptions {
  return { name: 'db-migrate', ttlMs: 30_000, timeoutMs: 0, reason: 'migrating', labels: {}, ...overrides };
}

/** Settles a promise into a value or an error, for table-driven assertions. */
export async function outcome<T>(
  clock: FakeClock,
  promise: Promise<T>,
): Promise<{ value: T; error?: undefined } | { value?: undefined; error: Error }> {
  try {
    return { value: await clock.run(promise) };
  } catch (error) {
    assert.ok(error instanceof Error, 'only Errors are thrown');
    return { error };
  }
}
