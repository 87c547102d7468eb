// A signal that follows other signals and lets go of them: cmlock's replacement for AbortSignal.any(). Node 26
// keeps every observed AbortSignal.any() composite whose source outlives it (a composite that has had an abort
// listener stays in the source's dependants even after it aborted: nodejs/node#64476). `run` combines its
// keeper's long-lived signal with a per-renewal one, and the client combines that with a per-request timeout:
// the heap grew by ~1 KB per renewal (~3 MB a day at one renewal a second, bounded by nothing), the watch loops
// of `wait` and `ls -w` likewise with every re-opened watch. Here the link is a plain listener on each source,
// removed as soon as the linked signal aborts (whatever aborted it) or is released: nothing outlives its use.

/** An AbortController that also aborts, with the same reason, when any of its sources does. */
export class LinkedAbort extends AbortController {
  readonly #unlink: (() => void)[] = [];

  constructor(...sources: readonly (AbortSignal | undefined)[]) {
    super();
    const aborted = sources.find((s) => s?.aborted === true);
    if (aborted !== undefined) {
      this.abort(aborted.reason);
      return;
    }
    for (const source of sources) {
      if (source === undefined) continue;
      const follow = (): void => this.abort(source.reason);
      source.addEventListener('abort', follow, { once: true });
      this.#unlink.push(() => source.removeEventListener('abort', follow));
    }
    // Aborted by a source or by its owner: either way it follows nothing any more.
    this.signal.addEventListener('abort', () => this.release(), { once: true });
  }

  /** Stops following the sources (without aborting): the owner is done with the signal. Idempotent. */
  release(): void {
    for (const unlink of this.#unlink.splice(0)) unlink();
  }
}
