// The API server's clock, as seen from here. Expiry is judged on the server's clock, never the local wall clock
// (Date.now): both the holder and the waiters see the same server, so a client whose clock is wrong by ten
// minutes changes nothing. Each response's Date header (whole seconds) brackets the server time at the local
// monotonic instants around the request; the brackets of all samples are intersected.

import { CmlockError } from '../errors.ts';
import type { Clock } from './types.ts';
import type { ServerTimeSample } from './store.ts';

/** The Date header is truncated to whole seconds. */
export const DATE_RESOLUTION_MS = 1000;

/** A write must carry the server's time, and no response has said it. */
export class NoServerTimeError extends CmlockError {
  constructor() {
    super('the API server did not report its time (no Date header); cmlock needs it to time locks');
  }
}

export class ServerClock {
  readonly #clock: Clock;
  /** Bounds on (server epoch ms − local monotonic ms). */
  #lower = -Infinity;
  #upper = Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Narrows the offset with one response: the server's time was in [date, date + 1 s) between send and receive. */
  observe(sample: ServerTimeSample | undefined): void {
    if (sample === undefined) return;
    const { serverDateMs, sentAtMono, receivedAtMono } = sample;
    if (![serverDateMs, sentAtMono, receivedAtMono].every(Number.isFinite) || receivedAtMono < sentAtMono) return;
    const lower = serverDateMs - receivedAtMono;
    const upper = serverDateMs + DATE_RESOLUTION_MS - sentAtMono;
    if (lower > this.#upper || upper < this.#lower) {
      // Disagrees with every earlier sample: the server's clock was stepped (or another API server behind a load
      // balancer keeps another time). Keeping the old bound could judge locks expired early, so start again.
      this.#lower = lower;
      this.#upper = upper;
      return;
    }
    this.#lower = Math.max(this.#lower, lower);
    this.#upper = Math.min(this.#upper, upper);
  }

  /**
   * Forgets what it knew: after a machine suspend the monotonic clock it is anchored on has missed time that the
   * server's clock did not, so until the next response the server's time is unknown (now() is -Infinity again).
   */
  forget(): void {
    this.#lower = -Infinity;
    this.#upper = Infinity;
  }

  /** Whether any response has told us the server's time. */
  known(): boolean {
    return this.#lower !== -Infinity;
  }

  /**
   * The server's time now, in epoch ms, as a lower bound: never ahead of the server, so expiry judged with it
   * is never early. -Infinity until known(), so that nothing is judged expired on no evidence.
   */
  now(): number {
    return this.#clock.now() + this.#lower;
  }

  /**
   * The server time to write into a record (renewTime): at most one Date resolution behind the server's true
   * time, and possibly ahead of it by a round trip. Readers allow that second (EXPIRY_ALLOWANCE_MS), so a lease
   * written with this stamp never ends, on the server's clock, before the writer's local lease does.
   */
  stamp(): number {
    if (!this.known()) {
      throw new NoServerTimeError();
    }
    return this.#clock.now() + Math.max(this.#lower, this.#upper - DATE_RESOLUTION_MS);
  }

  /** The local monotonic time at which now() reaches serverMs (for timers). */
  monoAt(serverMs: number): number {
    return serverMs - this.#lower;
  }
}
