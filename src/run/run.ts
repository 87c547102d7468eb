// `kubectl cmlock run NAME -- CMD [ARGS...]`: acquire, run CMD while the lease is renewed, release when CMD
// exits, and return CMD's exit code (128+N when it died of signal N). When the lock is lost, CMD's process
// group gets SIGTERM, then SIGKILL after killAfter, before the lease can end for anyone else; then 6.
//
// Everything outside (lock protocol, clock, child processes, signals, environment, stderr) is injected:
// this module never exits, never reads process.env or argv, and is unit-tested with fakes.

import { CancelledError, CmlockError, ExitCode } from '../errors.ts';
import type {
  AcquireOptions,
  AcquireResult,
  Clock,
  LockContext,
  LockView,
  ReleaseOptions,
  ReleaseResult,
  RenewOptions,
} from '../lock/types.ts';
import type { OwnerReference } from '../lock/store.ts';
import { exitCodeOf, signalNumber, startFailure, type RunningChild, type StartChild } from './child.ts';
import { describe, keepLease, type LostLock } from './lease.ts';
import { formatDuration } from '../lock/duration.ts';
import { printable, quote } from '../lock/text.ts';
import { defaultRunTimings } from './timing.ts';

export type ForwardedSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export const forwardedSignals: readonly ForwardedSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Where cmlock's own signals come from; src/main.ts passes `process.on` / `process.off`. */
export interface SignalSource {
  on(signal: ForwardedSignal, handler: () => void): void;
  off(signal: ForwardedSignal, handler: () => void): void;
}

/** The lock protocol (src/lock/protocol.ts), injectable for tests. */
export interface LockFunctions {
  acquire(ctx: LockContext, opts: AcquireOptions): Promise<AcquireResult>;
  renew(ctx: LockContext, opts: RenewOptions): Promise<LockView>;
  release(ctx: LockContext, opts: ReleaseOptions): Promise<ReleaseResult>;
}

export interface RunDeps {
  lock: LockFunctions;
  /** Its holder identity must be unique to this process (two `run`s must exclude each other). */
  ctx: LockContext;
  clock: Clock;
  /** Starts CMD; production: startChildProcess from ./child.ts. */
  spawn: StartChild;
  /** The environment CMD inherits (plus CMLOCK_*). */
  env: Readonly<Record<string, string | undefined>>;
  signals: SignalSource;
  stderr: { write(text: string): void };
}

export interface RunOptions {
  name: string;
  namespace: string;
  ttlMs: number;
  /** As `acquire --timeout`: 0 = try once, < 0 = wait without limit. */
  timeoutMs: number;
  killAfterMs: number;
  reason: string;
  labels: Record<string, string>;
  owner?: OwnerReference;
  /** CMD and its arguments, passed exactly (no shell); checked by the command line (src/cli/commands/run.ts). */
  command: readonly [string, ...string[]];
}

type Phase = 'acquiring' | 'starting' | 'running' | 'releasing';

/**
 * Runs CMD under the lock and returns the exit code for cmlock. Throws CmlockError before CMD starts (held at
 * --timeout, API errors) and CancelledError when interrupted while waiting. Its options were validated by the
 * command line (the timings with brokenTimingRule).
 */
export async function runLocked(deps: RunDeps, options: RunOptions): Promise<number> {
  const [file, ...args] = options.command;
  const timings = defaultRunTimings(options.ttlMs, options.killAfterMs);
  const { clock, ctx, lock } = deps;
  const name = options.name;
  const say = (line: string): void => deps.stderr.write(`${line}\n`);

  let phase: Phase = 'acquiring';
  let child: RunningChild | undefined;
  let interruptedBy: ForwardedSignal | undefined;
  const acquireAbort = new AbortController();
  const releaseAbort = new AbortController();
  const onSignal = (signal: ForwardedSignal): void => {
    switch (phase) {
      case 'acquiring':
        interruptedBy ??= signal;
        acquireAbort.abort(new CancelledError());
        break;
      case 'starting':
        interruptedBy ??= signal;
        break;
      case 'running':
        child?.signalGroup(signal);
        break;
      case 'releasing':
        releaseAbort.abort(new CmlockError(`interrupted by ${signal}`));
        break;
    }
  };
  const handlers = forwardedSignals.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) deps.signals.on(signal, handler);

  const cancelled = (signal: ForwardedSignal): CancelledError =>
    new CancelledError(`cancelled while waiting for lock "${name}"`, 128 + signalNumber(signal));

  /** Release with the protocol's preconditions, bounded in time; a failure is reported, never thrown. */
  const release = async (leaseStart: number, quiet: boolean, maxMs = 10_000): Promise<void> => {
    const leaseEnd = timings.leaseMs === 0 ? Infinity : leaseStart + timings.leaseMs;
    const leaseLeft = leaseEnd - clock.now();
    const boundMs = Math.max(1000, Math.min(leaseLeft, maxMs));
    const timer = new AbortController();
    const signal = AbortSignal.any([releaseAbort.signal, timer.signal]);
    clock.sleep(boundMs, signal).then(
      () => timer.abort(new CmlockError(`no answer within ${formatDuration(boundMs)}`)),
      () => {},
    );
    try {
      await lock.release(ctx, { name, force: false, ignoreNotFound: false, signal });
    } catch (err) {
      if (quiet) return;
      const why = describe(signal.aborted ? signal.reason : err);
      const left = leaseEnd - clock.now();
      const expiry =
        left === Infinity
          ? `it never expires: release it with "kubectl cmlock release ${name} --force"`
          : left > 0
            ? `it expires by itself in about ${formatDuration(Math.round(left / 1000) * 1000)}`
            : 'its lease has run out';
      say(`warning: could not release lock "${name}": ${printable(why)}; ${expiry}`);
    } finally {
      timer.abort();
    }
  };

  try {
    let acquired: AcquireResult;
    try {
      acquired = await lock.acquire(ctx, {
        name,
        ttlMs: timings.leaseMs,
        timeoutMs: options.timeoutMs,
        reason: options.reason,
        labels: options.labels,
        owner: options.owner,
        signal: acquireAbort.signal,
      });
    } catch (err) {
      if (interruptedBy) throw cancelled(interruptedBy);
      throw err;
    }
    phase = 'starting';
    if (interruptedBy) {
      // Interrupted just as the lock was granted: give it back, do not start CMD.
      await release(acquired.leaseStartMono, false);
      throw cancelled(interruptedBy);
    }

    const keeper = keepLease({
      renew: (c, o) => lock.renew(c, o),
      ctx,
      clock,
      name,
      timings,
      leaseStartMono: acquired.leaseStartMono,
    });
    try {
      child = await deps.spawn(file, args, childEnv(deps.env, options, ctx, acquired), {
        killAfterMs: timings.killAfterMs,
      });
    } catch (err) {
      await keeper.stop();
      const failure = startFailure(err);
      say(`error: ${displayArg(file)}: ${failure.why}`);
      phase = 'releasing';
      await release(keeper.leaseStart(), false);
      return failure.exitCode;
    }
    phase = 'running';
    if (interruptedBy) child.signalGroup(interruptedBy);

    const running = child;
    const outcome = await Promise.race([
      running.exited.then((exit) => ({ kind: 'exited', exit }) as const),
      keeper.lost.then((lost) => ({ kind: 'lost', lost }) as const),
    ]);
    if (outcome.kind === 'exited') {
      await running.disown();
      await keeper.stop();
      phase = 'releasing';
      await release(keeper.leaseStart(), false);
      return exitCodeOf(outcome.exit);
    }

    await stopChild(running, outcome.lost, timings.killAfterMs, clock);
    await running.disown();
    say(`error: lost lock "${name}": ${printable(outcome.lost.why)}; stopped ${displayArg(file)}`);
    await keeper.stop();
    phase = 'releasing';
    // Renewals failed, but the lock may still be ours on the server (a renewal applied whose answer was lost):
    // CMD is dead, so giving it back early is safe. Someone else's lock is left alone.
    // Bounded tightly: the API server is probably unreachable, and exit 6 should not wait on it.
    if (outcome.lost.kind === 'deadline') await release(keeper.leaseStart(), true, 2_000);
    return ExitCode.lost;
  } finally {
    await child?.disown();
    for (const [signal, handler] of handlers) deps.signals.off(signal, handler);
  }
}

/**
 * SIGTERM to the group now, SIGKILL at `lost.killBy` (or killAfter from now, whichever is sooner) unless the
 * group is empty by then; then wait for the leader.
 */
async function stopChild(child: RunningChild, lost: LostLock, killAfterMs: number, clock: Clock): Promise<void> {
  child.signalGroup('SIGTERM');
  const killAt = Math.min(lost.killBy, clock.now() + killAfterMs);
  const timers = new AbortController();
  try {
    const graceOver = clock.sleep(Math.max(0, killAt - clock.now()), timers.signal).then(() => 'time' as const);
    const first = await Promise.race([child.exited.then(() => 'exited' as const), graceOver]);
    if (first === 'exited') {
      // The leader is gone; members of its group (CMD's children) may not be: look now and then until killAt.
      for (;;) {
        if (!child.signalGroup(0)) return;
        const left = killAt - clock.now();
        if (left <= 0) break;
        await clock.sleep(Math.min(100, left), timers.signal);
      }
    }
    child.signalGroup('SIGKILL');
    await Promise.race([child.exited, clock.sleep(1000, timers.signal).catch(() => {})]);
  } finally {
    timers.abort();
  }
}

function childEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: RunOptions,
  ctx: LockContext,
  acquired: AcquireResult,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  out.CMLOCK_NAME = options.name;
  out.CMLOCK_NAMESPACE = options.namespace;
  out.CMLOCK_HOLDER = ctx.holder.identity;
  out.CMLOCK_FENCE = acquired.lock.fence;
  return out;
}

/** A command word as a user would type it; quoted and escaped when it holds anything unusual. */
export function displayArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : quote(arg);
}
