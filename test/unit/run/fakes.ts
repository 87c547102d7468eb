// Fakes for runLocked: a clock that only moves when the test says so, scripted lock functions, a scripted
// child process and a signal source the test fires by hand.

import assert from 'node:assert/strict';
import { FakeClock, settle } from '../fake-clock.ts';
import type {
  AcquireOptions,
  AcquireResult,
  LockContext,
  LockView,
  ReleaseOptions,
  ReleaseResult,
  RenewedLock,
  RenewFromOptions,
} from '../../../src/lock/types.ts';
import type { LockStore, StoredLock } from '../../../src/lock/store.ts';
import type { ChildExit, RunningChild, StartChild, StartChildOptions } from '../../../src/run/child.ts';
import { runLocked, type LockFunctions, type RunDeps, type RunOptions } from '../../../src/run/run.ts';
import type { RunSignal, SignalSource } from '../../../src/run/signals.ts';

export { FakeClock, settle };

export function lockView(overrides: Partial<LockView> = {}): LockView {
  return {
    name: 'db',
    namespace: 'ops',
    holder: 'run-holder',
    user: 'alice',
    host: 'box',
    acquireTime: '2026-01-01T00:00:00Z',
    renewTime: '2026-01-01T00:00:00Z',
    leaseDurationSeconds: 30,
    expiresAt: '2026-01-01T00:00:30Z',
    status: 'Held',
    reason: '',
    fence: '17',
    owner: '',
    labels: {},
    creationTimestamp: '2026-01-01T00:00:00Z',
    foreign: false,
    ...overrides,
  };
}

/** The object behind lockView(), as acquire and renewFrom hand it on. */
export function storedLock(): StoredLock {
  return {
    name: 'db',
    namespace: 'ops',
    uid: 'uid-db',
    resourceVersion: '17',
    labels: {},
    data: { holderIdentity: 'run-holder' },
    ownerReferences: [],
  };
}

export interface Call {
  op: 'acquire' | 'renew' | 'release';
  at: number;
  opts: AcquireOptions | RenewFromOptions | ReleaseOptions;
}

type Script<O, R> = (opts: O, n: number) => Promise<R>;

/** Rejects with the signal's reason once aborted; never settles otherwise (a black-holed request). */
export function hang<T>(signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((_resolve, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export class FakeLock implements LockFunctions {
  readonly calls: Call[] = [];
  readonly clock: FakeClock;
  onAcquire: Script<AcquireOptions, AcquireResult>;
  /** One renewal, from the object the last write left (renewFrom); what it resolves to is the lock as seen. */
  onRenew: Script<RenewFromOptions, LockView> = async () => lockView();
  onRelease: Script<ReleaseOptions, ReleaseResult> = async () => ({ released: lockView(), forced: false });

  constructor(clock: FakeClock) {
    this.clock = clock;
    this.onAcquire = async () => ({
      lock: lockView(),
      stored: storedLock(),
      outcome: 'acquired',
      leaseStartMono: clock.now(),
    });
  }

  of(op: Call['op']): Call[] {
    return this.calls.filter((c) => c.op === op);
  }

  acquire(_ctx: LockContext, opts: AcquireOptions): Promise<AcquireResult> {
    this.calls.push({ op: 'acquire', at: this.clock.now(), opts });
    return this.onAcquire(opts, this.of('acquire').length);
  }

  async renewFrom(_ctx: LockContext, opts: RenewFromOptions): Promise<RenewedLock> {
    this.calls.push({ op: 'renew', at: this.clock.now(), opts });
    const lock = await this.onRenew(opts, this.of('renew').length);
    return { lock, stored: { ...opts.from, resourceVersion: String(Number(opts.from.resourceVersion) + 1) } };
  }

  release(_ctx: LockContext, opts: ReleaseOptions): Promise<ReleaseResult> {
    this.calls.push({ op: 'release', at: this.clock.now(), opts });
    return this.onRelease(opts, this.of('release').length);
  }
}

export class FakeChild implements RunningChild {
  readonly pid = 4242;
  readonly received: { signal: NodeJS.Signals; at: number }[] = [];
  /** What the watchdog was told, in order: `arm <ms>`, `kill <ms>`, `hold`. */
  readonly watchdog: { word: string; ms?: number; at: number }[] = [];
  readonly guard = {
    arm: async (ms: number) => void this.watchdog.push({ word: 'arm', ms, at: this.#clock.now() }),
    killAfter: async (ms: number) => void this.watchdog.push({ word: 'kill', ms, at: this.#clock.now() }),
    hold: async () => void this.watchdog.push({ word: 'hold', at: this.#clock.now() }),
  };
  /** SIGSTOP received and no SIGCONT since. */
  stopped = false;
  readonly exited: Promise<ChildExit>;
  /** Dies of SIGTERM (else ignores it, like a child busy cleaning up). */
  exitOnTerm = false;
  /** Members of the group other than the leader (they die of SIGKILL only). */
  stragglers = 0;
  exit: (exit: ChildExit) => void = () => {};
  alive = true;
  /** When runLocked said it was done with CMD (the watchdog stands down). */
  disownedAt: number | undefined;
  readonly #clock: FakeClock;

  constructor(clock: FakeClock) {
    this.#clock = clock;
    this.exited = new Promise((resolve) => {
      this.exit = (exit) => {
        if (!this.alive) return;
        this.alive = false;
        resolve(exit);
      };
    });
  }

  signalGroup(signal: NodeJS.Signals | 0): boolean {
    const exists = this.alive || this.stragglers > 0;
    if (signal === 0 || !exists) return exists;
    this.received.push({ signal, at: this.#clock.now() });
    if (signal === 'SIGSTOP') this.stopped = true;
    if (signal === 'SIGCONT') this.stopped = false;
    if (signal === 'SIGKILL') {
      this.stragglers = 0;
      this.exit({ code: null, signal: 'SIGKILL' });
    } else if (signal === 'SIGTERM' && this.exitOnTerm && !this.stopped) {
      this.exit({ code: null, signal: 'SIGTERM' });
    }
    return true;
  }

  disown(): Promise<void> {
    this.disownedAt ??= this.#clock.now();
    return Promise.resolve();
  }
}

export class FakeSignals implements SignalSource {
  readonly handlers = new Map<RunSignal, Set<() => void>>();

  on(signal: RunSignal, handler: () => void): void {
    const set = this.handlers.get(signal) ?? new Set();
    set.add(handler);
    this.handlers.set(signal, set);
  }

  off(signal: RunSignal, handler: () => void): void {
    this.handlers.get(signal)?.delete(handler);
  }

  emit(signal: RunSignal): void {
    for (const handler of this.handlers.get(signal) ?? []) handler();
  }

  get installed(): number {
    return [...this.handlers.values()].reduce((n, set) => n + set.size, 0);
  }
}

export interface Started {
  file: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  options: StartChildOptions;
  at: number;
}

/** Wall and boot clocks that follow the fake monotonic clock, until a test makes them jump (a suspend). */
export class FakeTimes {
  readonly #clock: FakeClock;
  #ahead = 0;
  constructor(clock: FakeClock) {
    this.#clock = clock;
  }
  wall(): number {
    return 1_800_000_000_000 + this.#clock.now() + this.#ahead;
  }
  boot(): number {
    return this.#clock.now() + this.#ahead;
  }
  /** Time passes that the monotonic clock does not see, as in a machine suspend. */
  suspend(ms: number): void {
    this.#ahead += ms;
  }
}

export interface Harness {
  clock: FakeClock;
  lock: FakeLock;
  signals: FakeSignals;
  times: FakeTimes;
  /** Fake-clock times at which cmlock stopped itself (SIGSTOP to its own pid). */
  selfStops: number[];
  stderr: string[];
  started: Started[];
  children: FakeChild[];
  deps: RunDeps;
  options: RunOptions;
}

/** Deps with a fake child by default; pass `spawn` to use real processes or a failing start. */
export function harness(options: Partial<RunOptions> = {}, spawn?: StartChild): Harness {
  const clock = new FakeClock({ start: 1_000_000 });
  const lock = new FakeLock(clock);
  const signals = new FakeSignals();
  const stderr: string[] = [];
  const started: Started[] = [];
  const children: FakeChild[] = [];
  const times = new FakeTimes(clock);
  const selfStops: number[] = [];
  const fakeSpawn: StartChild = async (file, args, env, options) => {
    started.push({ file, args, env, options, at: clock.now() });
    const child = new FakeChild(clock);
    children.push(child);
    return child;
  };
  const ctx: LockContext = {
    store: {} as LockStore,
    clock,
    holder: { identity: 'run-holder', user: 'alice', host: 'box' },
  };
  const deps: RunDeps = {
    lock,
    ctx,
    clock,
    spawn: spawn
      ? async (file, args, env, opts) => {
          started.push({ file, args, env, options: opts, at: clock.now() });
          return spawn(file, args, env, opts);
        }
      : fakeSpawn,
    env: { PATH: process.env.PATH, HOME: '/home/alice', UNSET: undefined },
    signals,
    stopSelf: () => void selfStops.push(clock.now()),
    times,
    stderr: { write: (text) => stderr.push(text) },
  };
  return {
    clock,
    lock,
    signals,
    times,
    selfStops,
    stderr,
    started,
    children,
    deps,
    options: {
      name: 'db',
      namespace: 'ops',
      ttlMs: 60_000,
      timeoutMs: -1,
      killAfterMs: 10_000,
      reason: 'migrate',
      labels: { team: 'db' },
      command: ['migrate', '--all'],
      ...options,
    },
  };
}

/** Starts runLocked and waits until CMD is running. */
export async function started(h: Harness): Promise<{ result: Promise<number>; child: FakeChild; done: () => boolean }> {
  let finished = false;
  const result = runLocked(h.deps, h.options);
  result.then(
    () => (finished = true),
    () => (finished = true),
  );
  await settle();
  const child = h.children[0];
  assert.ok(child, 'CMD was started');
  return { result, child, done: () => finished };
}
