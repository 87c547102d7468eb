// Noticing that local time stopped tracking the API server's. Every timer here runs on the monotonic clock, which
// does not advance while the machine is suspended (a closed laptop lid), while the server's clock, and every lease
// on it, does. A stall of this process (SIGSTOP, a debugger, a frozen cgroup, heavy swapping) is the other way
// time passes unseen: the monotonic clock advances, but nothing here ran. After either, what this process believes
// of its lease and of the server's clock may be wrong: `run` stops CMD and verifies the lock on the server,
// waiters re-read the lock and re-learn the server's time.
//
// Detection samples three clocks every TICK_MS: monotonic, wall, and boot time (Linux CLOCK_BOOTTIME through
// /proc/uptime, which does count suspended time). A suspend shows as wall or boot time running ahead of the
// monotonic clock; a stall as a tick that came much later than asked. Wall-clock steps backwards are ignored:
// they cannot hide elapsed time.

import type { Clock } from './types.ts';

/** How often the clocks are compared: the longest CMD can run after a resume before `run` notices. */
export const TICK_MS = 250;
/** Gaps smaller than this are scheduling noise and NTP slewing, not a suspend or a stall. */
export const JUMP_THRESHOLD_MS = 2000;

/** The clocks besides the monotonic one; src/main.ts supplies them. */
export interface LocalTimes {
  /** Wall clock, ms since the epoch. */
  wall(): number;
  /** Time since boot including suspend, ms; undefined where the platform does not tell. */
  boot?(): number | undefined;
}

export interface TimeJump {
  /** 'suspend': time passed that the monotonic clock did not see; 'stall': this process did not run. */
  kind: 'suspend' | 'stall';
  /** How much time passed unseen (suspend), or how long this process did not run (stall), in ms. */
  ms: number;
}

interface Sample {
  mono: number;
  wall: number;
  boot: number | undefined;
}

/** Compares successive samples; `check` returns the jump since the previous call, if any. */
export class TimeJumpDetector {
  readonly #clock: Clock;
  readonly #times: LocalTimes;
  #last: Sample;

  constructor(clock: Clock, times: LocalTimes) {
    this.#clock = clock;
    this.#times = times;
    this.#last = this.#sample();
  }

  /** Starts afresh from now: whatever time passed unseen before is accounted for by the caller. */
  reset(): void {
    this.#last = this.#sample();
  }

  #sample(): Sample {
    return { mono: this.#clock.now(), wall: this.#times.wall(), boot: this.#times.boot?.() };
  }

  /** `expectedMs`: how long after the previous call this one was meant to run. */
  check(expectedMs: number): TimeJump | undefined {
    const now = this.#sample();
    const last = this.#last;
    this.#last = now;
    const mono = now.mono - last.mono;
    const boot = now.boot !== undefined && last.boot !== undefined ? now.boot - last.boot : -Infinity;
    const unseen = Math.max(now.wall - last.wall, boot) - mono;
    if (unseen > JUMP_THRESHOLD_MS) return { kind: 'suspend', ms: unseen };
    if (mono - expectedMs > JUMP_THRESHOLD_MS) return { kind: 'stall', ms: mono };
    return undefined;
  }
}

/**
 * Calls `onJump` for every suspend or stall noticed until `signal` fires. Its timers are the injected clock's, so
 * it ends (and lets the process exit) with the signal. reset() forgets time that passed unseen so far (the caller
 * has just verified what it holds, by other means).
 */
export function watchTimeJumps(
  clock: Clock,
  times: LocalTimes,
  onJump: (jump: TimeJump) => void,
  signal: AbortSignal,
): { reset(): void } {
  const detector = new TimeJumpDetector(clock, times);
  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      await clock.sleep(TICK_MS, signal);
      const jump = detector.check(TICK_MS);
      if (jump !== undefined) onJump(jump);
    }
  };
  loop().catch(() => {
    // aborted: the watch is over
  });
  return { reset: () => detector.reset() };
}
