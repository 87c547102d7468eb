// The one fake Clock of the unit tests: time moves only when the test lets it (run, advance, advanceTo,
// advanceUntil), timers fire in order, and every sleep asked for is recorded. Nothing sleeps for real or reads
// the wall clock. Used by the protocol, command and run tests alike.

import type { Clock } from '../../src/lock/types.ts';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/** Lets promise chains and I/O callbacks run; no time passes on the fake clock. */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  #random: () => number;
  /** Every sleep requested, in order (ms). */
  readonly sleeps: number[] = [];

  /** `start`: the monotonic time at first; `random`: what random() returns (a value or a sequence). */
  constructor(options: { start?: number; random?: number | (() => number) } = {}) {
    this.#now = options.start ?? 0;
    const random = options.random ?? 0.5;
    this.#random = typeof random === 'number' ? () => random : random;
  }

  now(): number {
    return this.#now;
  }

  random(): number {
    return this.#random();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#timers.length;
  }

  #next(): Timer | undefined {
    return this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
  }

  #fire(timer: Timer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
    this.#now = Math.max(this.#now, timer.at);
    timer.fire();
  }

  /**
   * Lets `promise` run to completion: whenever nothing else can happen, time jumps to the next timer. Fails
   * when the promise waits for something no timer will bring (a deadlock in the code or the script).
   */
  async run<T>(promise: Promise<T>, maxSteps = 10_000): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let step = 0; step < maxSteps; step++) {
      await settle(3);
      if (settled) return promise;
      const next = this.#next();
      if (next === undefined) throw new Error('deadlock: the code waits for something no timer or script brings');
      this.#fire(next);
    }
    throw new Error(`still running after ${maxSteps} timers: a loop that never ends?`);
  }

  /** Moves time to `target`, firing the timers due on the way in order and letting the code react after each. */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.#next();
      if (next === undefined || next.at > target) break;
      this.#fire(next);
    }
    this.#now = Math.max(this.#now, target);
    await settle();
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#now + ms);
  }

  /**
   * Time passes while nothing runs (the process was stopped or stalled): `now` moves on, and timers that fell due
   * meanwhile fire only at the next advance, all late, in order, as after a SIGCONT.
   */
  stall(ms: number): void {
    this.#now += ms;
  }

  /** Advances timer by timer until `done()` holds; fails after `limitMs` of fake time. */
  async advanceUntil(done: () => boolean, limitMs: number): Promise<void> {
    const limit = this.#now + limitMs;
    await settle();
    while (!done()) {
      const next = this.#next()?.at;
      if (next === undefined || next > limit) throw new Error(`condition not reached within ${limitMs} ms`);
      await this.advanceTo(next);
    }
  }
}
