// The one backoff every retry in cmlock waits by: the transport's retries (kube/client.ts), the protocol's pauses
// before a read-back and a watch's re-opening (lock/), and `run`'s renewal retries (run/lease.ts). Each caller
// gives its own bounds; the rule is the same: exponential from initialMs, capped at maxMs, with "equal jitter"
// (a delay is drawn from [base/2, base)). Full jitter ([0, base)) can draw almost 0, which makes a tight loop;
// half of the base is always kept. A server's Retry-After is a lower bound, never shortened by the jitter.

export interface BackoffPolicy {
  /** The first delay's base, in ms. */
  readonly initialMs: number;
  /** No base grows past this. */
  readonly maxMs: number;
}

export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #failures = 0;

  /** `random` in [0, 1): the injected clock's (Clock.random), so tests are deterministic. */
  constructor(policy: BackoffPolicy, random: () => number) {
    this.#policy = policy;
    this.#random = random;
  }

  /** The delay before the next try, in ms: never shorter than `retryAfterMs` (the server's Retry-After). */
  next(retryAfterMs?: number): number {
    const base = Math.min(this.#policy.maxMs, this.#policy.initialMs * 2 ** this.#failures);
    this.#failures = Math.min(this.#failures + 1, 30);
    return Math.max(base / 2 + (this.#random() * base) / 2, retryAfterMs ?? 0);
  }

  /** After a success: the next failure starts again from initialMs. */
  reset(): void {
    this.#failures = 0;
  }
}
