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
  ReleaseOptions,
  ReleaseResult,
  RenewedLock,
  RenewFromOptions,
} from '../lock/types.ts';
import type { OwnerReference } from '../lock/store.ts';
import type { LocalTimes } from '../lock/time-jumps.ts';
import { exitCodeOf, signalNumber, startFailure, type RunningChild, type StartChild } from './child.ts';
import { describe } from '../lock/lease.ts';
import { LinkedAbort } from '../lock/abort.ts';
import { formatDuration } from '../lock/duration.ts';
import { printable, quote } from '../lock/text.ts';
import { defaultRunTimings } from './timing.ts';
import { forwardedSignals, jobSignals, type ForwardedSignal, type JobSignal, type SignalSource } from './signals.ts';
import { supervise, type Lost, type Supervision } from './supervise.ts';

export { forwardedSignals, type ForwardedSignal, type SignalSource } from './signals.ts';

/** The lock protocol (src/lock/protocol.ts), injectable for tests. */
export interface LockFunctions {
  acquire(ctx: LockContext, opts: AcquireOptions): Promise<AcquireResult>;
  renewFrom(ctx: LockContext, opts: RenewFromOptions): Promise<RenewedLock>;
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
  /** Stops this process (SIGSTOP to itself): Ctrl-Z, after CMD's group has been stopped. */
  stopSelf(): void;
  /** Wall and boot clocks, to notice a suspend or a stall (lock/time-jumps.ts). */
  times: LocalTimes;
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
  /** A shared hold (AcquireOptions.shared). */
  shared?: true;
  /** A semaphore of this many (AcquireOptions.limit). */
  limit?: number;
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
  // Job control in every phase: while CMD runs, supervise() stops it with cmlock and verifies the lock on
  // SIGCONT; while CMD is being started, the stop waits until it can include CMD; otherwise cmlock just stops.
  let supervision: Supervision | undefined;
  let pendingJobStop = false;
  const onJobSignal = (signal: JobSignal): void => {
    if (phase === 'running' && supervision !== undefined) supervision.signal(signal);
    else if (phase === 'starting') pendingJobStop ||= signal !== 'SIGCONT';
    else if (signal !== 'SIGCONT') deps.stopSelf();
  };
  const handlers = [
    ...forwardedSignals.map((signal) => [signal, () => onSignal(signal)] as const),
    ...jobSignals.map((signal) => [signal, () => onJobSignal(signal)] as const),
  ];
  for (const [signal, handler] of handlers) deps.signals.on(signal, handler);

  const cancelled = (signal: ForwardedSignal): CancelledError =>
    new CancelledError(`cancelled while waiting for lock "${name}"`, 128 + signalNumber(signal));

  /** Release with the protocol's preconditions, bounded in time; a failure is reported, never thrown. */
  const release = async (leaseStart: number, quiet: boolean, maxMs = 10_000): Promise<void> => {
    const leaseEnd = timings.leaseMs === 0 ? Infinity : leaseStart + timings.leaseMs;
    const leaseLeft = leaseEnd - clock.now();
    const boundMs = Math.max(1000, Math.min(leaseLeft, maxMs));
    const bound = new LinkedAbort(releaseAbort.signal);
    const signal = bound.signal;
    clock.sleep(boundMs, signal).then(
      () => bound.abort(new CmlockError(`no answer within ${formatDuration(boundMs)}`)),
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
      bound.abort();
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
        ...(options.shared === undefined ? {} : { shared: true }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
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

    try {
      child = await deps.spawn(file, args, childEnv(deps.env, options, ctx, acquired), {
        killAfterMs: timings.killAfterMs,
      });
    } catch (err) {
      const failure = startFailure(err);
      say(`error: ${displayArg(file)}: ${failure.why}`);
      phase = 'releasing';
      await release(acquired.leaseStartMono, false);
      return failure.exitCode;
    }
    if (interruptedBy) child.signalGroup(interruptedBy);

    const running = child;
    let last = acquired.stored;
    phase = 'running';
    supervision = supervise(
      {
        clock,
        // One PUT from the object our last write left; a read only after a 409 or a lost answer.
        renew: async (signal) => {
          last = (await lock.renewFrom(ctx, { from: last, ttlMs: timings.leaseMs, signal })).stored;
        },
        name,
        timings,
        child: running,
        command: displayArg(file),
        stopSelf: deps.stopSelf,
        times: deps.times,
        say,
      },
      acquired.leaseStartMono,
    );
    if (pendingJobStop) supervision.signal('SIGTSTP');
    const outcome = await supervision.outcome;
    if (outcome.kind === 'exited') {
      await running.disown();
      await supervision.stop();
      phase = 'releasing';
      await release(supervision.leaseStart(), false);
      return exitCodeOf(outcome.exit);
    }

    const lost = outcome.lost;
    await stopChild(running, lost, timings.killAfterMs, clock);
    await running.disown();
    await supervision.stop();
    const stopped = lost.killedWhileStopped
      ? `killed ${displayArg(file)} while it was stopped, without a grace period: its lease had lapsed, so it may do no more work`
      : `stopped ${displayArg(file)}`;
    say(`error: lost lock "${name}": ${printable(lost.why)}; ${stopped}`);
    phase = 'releasing';
    // Renewals failed, but the lock may still be ours on the server (a renewal applied whose answer was lost):
    // CMD is dead, so giving it back early is safe. Someone else's lock is left alone.
    // Bounded tightly: the API server is probably unreachable, and exit 6 should not wait on it.
    if (lost.kind === 'deadline') await release(supervision.leaseStart(), true, 2_000);
    return ExitCode.lost;
  } finally {
    await child?.disown();
    for (const [signal, handler] of handlers) deps.signals.off(signal, handler);
  }
}

/**
 * SIGTERM to the group now (unless the watchdog already sent it, or CMD was killed while stopped), SIGKILL at
 * `lost.killBy` (or killAfter from now, whichever is sooner) unless the group is empty by then; then wait for the
 * leader. The watchdog is told the kill time first, so that it comes even should cmlock die meanwhile.
 */
async function stopChild(child: RunningChild, lost: Lost, killAfterMs: number, clock: Clock): Promise<void> {
  const killAt = Math.min(lost.killBy, clock.now() + killAfterMs);
  const timers = new AbortController();
  try {
    if (!lost.killedWhileStopped) {
      await child.guard.killAfter(killAt - clock.now());
      if (!lost.watchdogActing) child.signalGroup('SIGTERM');
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
