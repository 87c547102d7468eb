// The running phase of `run`: CMD may work only while the lock is proved held. The lease keeper renews the lock;
// after each renewal the watchdog is told the deadline by which it must hear again, so that CMD is stopped even
// when cmlock is stopped or stalled rather than dead. Whenever this process may have missed time passing, the
// lock is verified before CMD works on:
//
// - Job control (Ctrl-Z: SIGTSTP; SIGTTIN/SIGTTOU): CMD runs in a session of its own, so the terminal stops
//   cmlock alone. cmlock stops CMD's group (SIGSTOP) first, tells the watchdog CMD is held, then stops itself.
// - SIGCONT (`fg`, `bg`, or a `kill -CONT` after someone else's SIGSTOP), a machine suspend, a wall clock that
//   jumps, or a stall of this event loop (lock/time-jumps.ts): a checkpoint.
//
// A checkpoint stops CMD's group, then renews the lock (a read and a conditional write, lock/protocol.ts renew).
// If that succeeds, nobody wrote the lock since our last write, so nobody held it meanwhile: CMD is continued
// under the fresh lease. If the lock is someone else's or gone, its lease lapsed while we were away and CMD must
// do no more work, not even a SIGTERM handler's cleanup: it is SIGKILLed while still stopped. While the server
// cannot be reached, CMD stays stopped; after one lease of trying, it is SIGKILLed the same way.
// One exception: a stall that outlasted the renew deadline without a job stop means the watchdog has already
// begun stopping CMD (SIGTERM, then SIGKILL); that is left to finish as any lost lock.

import { CmlockError, LockNotFoundError, NotHolderError } from '../errors.ts';
import type { Clock } from '../lock/types.ts';
import { formatDuration } from '../lock/duration.ts';
import { RetryableError } from '../lock/store.ts';
import { watchTimeJumps, type LocalTimes, type TimeJump } from '../lock/time-jumps.ts';
import { watchdogMarginMs, type RunTimings } from './timing.ts';
import type { ChildExit, RunningChild } from './child.ts';
import {
  deadlineSignal,
  describe,
  keepLease,
  roughly,
  type LeaseKeeper,
  type LostLock,
  type RenewFn,
} from '../lock/lease.ts';
import type { JobSignal } from './signals.ts';

export interface SuperviseDeps {
  clock: Clock;
  /** One renewal (run.ts: renewFrom the object the last write left). */
  renew: RenewFn;
  name: string;
  timings: RunTimings;
  child: RunningChild;
  /** CMD as the user typed it, for messages. */
  command: string;
  /** Stops this process (SIGSTOP to itself): what SIGTSTP does to a process without a handler. */
  stopSelf(): void;
  times: LocalTimes;
  say(line: string): void;
}

/**
 * A lost lock. `killBy`: monotonic time by which SIGKILL must have been sent. `killedWhileStopped`: CMD was
 * SIGKILLed while stopped (there is no grace period to give). `watchdogActing`: cmlock was silent past its
 * deadline, so the watchdog has already sent SIGTERM.
 */
export interface Lost {
  kind: LostLock['kind'];
  why: string;
  killBy: number;
  killedWhileStopped?: boolean;
  watchdogActing?: boolean;
}

export type Outcome = { kind: 'exited'; exit: ChildExit } | { kind: 'lost'; lost: Lost };

export interface Supervision {
  readonly outcome: Promise<Outcome>;
  /** A job-control signal to cmlock (run.ts routes them here while CMD runs). */
  signal(signal: JobSignal): void;
  /** Monotonic start of the newest lease the server has. */
  leaseStart(): number;
  /** Ends supervision (renewals, timers, signal handlers); resolves once no renewal is in flight. */
  stop(): Promise<void>;
}

/** Between two tries to verify the lock after a stop, while the server cannot be reached. */
const VERIFY_RETRY_MS = { first: 250, max: 5000 };

export function supervise(deps: SuperviseDeps, leaseStartMono: number): Supervision {
  const { clock, child, timings, name } = deps;
  const ended = new AbortController();
  let finished = false;
  /** A checkpoint is under way: the keeper is stopped and its verdicts do not count. */
  let checking = false;
  /** cmlock stopped itself for job control; CMD's group is stopped and the watchdog holds it. */
  let jobStoppedAt: number | undefined;
  let cmdStopped = false;
  /** Why to check once more when the current checkpoint is over. */
  let recheck: string | undefined;
  let keeper: LeaseKeeper;
  let settle: (outcome: Outcome) => void = () => {};
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));

  const finish = (result: Outcome): void => {
    if (finished) return;
    finished = true;
    ended.abort();
    settle(result);
  };

  /** The watchdog acts a margin after our own deadline, so that it does only when cmlock is silent. */
  const armWatchdog = (leaseStart: number): void => {
    if (timings.leaseMs === 0) return;
    const at = leaseStart + timings.renewDeadlineMs + watchdogMarginMs(timings);
    void child.guard.arm(at - clock.now());
  };

  const startKeeper = (leaseStart: number): void => {
    const current = keepLease({
      renew: deps.renew,
      clock,
      timings,
      leaseStartMono: leaseStart,
      onRenewed: (start) => {
        if (keeper === current && !checking) armWatchdog(start);
      },
    });
    keeper = current;
    armWatchdog(leaseStart);
    void current.lost.then(({ kind, why, at }) => {
      // CMD gets its kill-after grace from the moment the lock counts as lost.
      if (keeper === current && !checking)
        finish({ kind: 'lost', lost: { kind, why, killBy: at + timings.killAfterMs } });
    });
  };

  const stopCmd = async (): Promise<void> => {
    if (!cmdStopped) {
      child.signalGroup('SIGSTOP');
      cmdStopped = true;
    }
    await child.guard.hold();
  };

  /** Renews until it works, the lock proves someone else's, or one lease of trying is over. */
  const verify = async (why: string): Promise<{ leaseStart: number } | Lost> => {
    const giveUpAt = clock.now() + Math.max(timings.leaseMs, 1000);
    let delay = VERIFY_RETRY_MS.first;
    for (;;) {
      const sentAt = clock.now();
      const attempt = deadlineSignal(clock, Math.max(1000, timings.retryPeriodMs), ended.signal);
      try {
        await deps.renew(attempt.signal);
        // A renewal that came back (or was seen: this process may have stalled again) past the renew deadline of
        // the lease it made proves too little: CMD would be stopped again at once. CMD stays stopped; try again.
        if (timings.leaseMs === 0 || clock.now() < sentAt + timings.renewDeadlineMs) return { leaseStart: sentAt };
        throw new CmlockError(`the renewal came back too late (${roughly(clock.now() - sentAt)})`);
      } catch (caught) {
        const err = attempt.signal.aborted && !ended.signal.aborted ? attempt.signal.reason : caught;
        if (err instanceof NotHolderError || err instanceof LockNotFoundError) {
          const taken = err instanceof NotHolderError ? describe(err) : 'it was deleted by someone else';
          return { kind: 'taken', why: `${taken} (noticed after ${why})`, killBy: clock.now() };
        }
        if (ended.signal.aborted) throw err;
        const left = giveUpAt - clock.now();
        if (left <= 0) {
          return { kind: 'deadline', why: `could not verify it after ${why}: ${describe(err)}`, killBy: clock.now() };
        }
        deps.say(
          `warning: cannot verify lock "${name}" after ${why}: ${describe(err)}; ` +
            `${deps.command} stays stopped, retrying for up to ${roughly(left)}`,
        );
        const retryAfter = err instanceof RetryableError ? (err.retryAfterMs ?? 0) : 0;
        await clock.sleep(Math.min(left, Math.max(delay, retryAfter)), ended.signal);
        delay = Math.min(VERIFY_RETRY_MS.max, delay * 2);
      } finally {
        attempt.dispose();
      }
    }
  };

  /** Stops CMD, verifies the lock on the server, then continues CMD or kills it while it is still stopped. */
  const checkpoint = async (why: string): Promise<void> => {
    if (finished) return;
    if (checking) {
      recheck ??= why; // another stop or jump came while this one was checked: check again after it
      return;
    }
    checking = true;
    // Whatever time passed unseen until now, the verification below covers: it is sent after this instant.
    jumps?.reset();
    try {
      const jobStop = jobStoppedAt !== undefined;
      jobStoppedAt = undefined;
      await keeper.stop(0);
      if (!jobStop && clock.now() >= keeper.deadline()) {
        // Silent past the renew deadline: the lock counts as lost, and the watchdog is already stopping CMD.
        finish({
          kind: 'lost',
          lost: {
            kind: 'deadline',
            why: `${why}, past its renew deadline`,
            killBy: keeper.deadline() + timings.killAfterMs,
            watchdogActing: true,
          },
        });
        return;
      }
      await stopCmd();
      const verdict = await verify(why);
      if (finished) return;
      if ('leaseStart' in verdict) {
        startKeeper(verdict.leaseStart);
        child.signalGroup('SIGCONT');
        cmdStopped = false;
        deps.say(`lock "${name}" verified after ${why}: still held, renewed; ${deps.command} continued`);
        return;
      }
      child.signalGroup('SIGKILL');
      finish({ kind: 'lost', lost: { ...verdict, killedWhileStopped: true } });
    } catch (err) {
      if (!finished) throw err;
    } finally {
      checking = false;
    }
    const again = recheck;
    recheck = undefined;
    if (again !== undefined) await checkpoint(again);
  };

  const onJobStop = (): void => {
    if (finished) return deps.stopSelf();
    if (jobStoppedAt === undefined) jobStoppedAt = clock.now();
    // CMD first, so that it never runs while cmlock is stopped and cannot renew.
    if (!cmdStopped) {
      child.signalGroup('SIGSTOP');
      cmdStopped = true;
    }
    void (async () => {
      if (!checking) {
        checking = true;
        try {
          await keeper.stop(0);
        } finally {
          checking = false;
        }
      }
      await child.guard.hold();
      deps.stopSelf();
    })();
  };

  const onContinue = (): void => {
    if (finished) return;
    const stoppedAt = jobStoppedAt;
    const why = stoppedAt === undefined ? 'a SIGCONT' : `a stop of ${roughly(clock.now() - stoppedAt)}`;
    void checkpoint(why);
  };

  const onJump = (jump: TimeJump): void => {
    if (finished || jobStoppedAt !== undefined) return; // a job stop is verified on SIGCONT
    const why =
      jump.kind === 'suspend'
        ? `the clock jumped ${formatDuration(Math.round(jump.ms / 1000) * 1000)} ahead (a suspend?)`
        : `cmlock was stopped or stalled for ${roughly(jump.ms)}`;
    void checkpoint(why);
  };

  void child.exited.then((exit) => finish({ kind: 'exited', exit }));
  startKeeper(leaseStartMono);
  const jumps = timings.leaseMs > 0 ? watchTimeJumps(clock, deps.times, onJump, ended.signal) : undefined;

  return {
    outcome,
    signal: (signal) => (signal === 'SIGCONT' ? onContinue() : onJobStop()),
    leaseStart: () => keeper.leaseStart(),
    async stop() {
      finished = true;
      ended.abort();
      await keeper.stop();
    },
  };
}
