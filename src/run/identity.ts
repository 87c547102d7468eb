// The identity `run` holds a lock under: unique to one process, so two `run`s by the same person on the same host
// exclude each other (an `acquire` by that person is "already held by you" instead).

import { processIdentity } from '../lock/holder.ts';

/** `base` (user@host, or the identity given) with this process's pid and a random suffix. */
export function runHolderIdentity(base: string, pid: number, random: () => number): string {
  return processIdentity(base, 'run', pid, random);
}
