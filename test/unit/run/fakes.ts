// Fakes for runLocked: a clock that only moves when the test says so, scripted lock functions, a scripted
// child process and a signal source the test fires by hand.

import { FakeClock, settle } from '../fake-clock.ts';
import type {
  AcquireOptions,
  AcquireResult,
  LockContext,
  LockView,
  ReleaseOptions,
  ReleaseResult,
  RenewOptions,
} from '../../../src/lock/types.ts';
import type { LockStore, StoredLock } from '../../../src/lock/store.ts';
import type { ChildExit, RunningChild, StartChild, StartChildOptions } from '../../../src/run/child.ts';
import type { ForwardedSignal, LockFunctions, RunDeps, RunOptions, SignalSource } from '../../../src/run/run.ts';

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
  opts: AcquireOptions | RenewOptions | ReleaseOptions;
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
  onRenew: Script<RenewOptions, LockView> = async () => lockView();
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

  renew(_ctx: LockContext, opts: RenewOptions): Promise<LockView> {
    this.calls.push({ op: 'renew', at: this.clock.now(), opts });
    return this.onRenew(opts, this.of('renew').length);
  }

  release(_ctx: LockContext, opts: ReleaseOptions): Promise<ReleaseResult> {
    this.calls.push({ op: 'release', at: this.clock.now(), opts });
    return this.onRelease(opts, this.of('release').length);
  }
}

export class FakeChild implements RunningChild {
  readonly pid = 4242;
  readonly received: { signal: NodeJS.Signals; at: number }[] = [];
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
    if (signal === 'SIGKILL') {
      this.stragglers = 0;
      this.exit({ code: null, signal: 'SIGKILL' });
    } else if (signal === 'SIGTERM' && this.exitOnTerm) {
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
  readonly handlers = new Map<ForwardedSignal, Set<() => void>>();

  on(signal: ForwardedSignal, handler: () => void): void {
    const set = this.handlers.get(signal) ?? new Set();
    set.add(handler);
    this.handlers.set(signal, set);
  }

  off(signal: ForwardedSignal, handler: () => void): void {
    this.handlers.get(signal)?.delete(handler);
  }

  emit(signal: ForwardedSignal): void {
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

export interface Harness {
  clock: FakeClock;
  lock: FakeLock;
  signals: FakeSignals;
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
    stderr: { write: (text) => stderr.push(text) },
  };
  return {
    clock,
    lock,
    signals,
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
