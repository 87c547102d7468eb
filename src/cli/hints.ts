// The words a command adds to what the lock protocol refused. The protocol's errors say who holds the lock and
// until when (src/lock/errors.ts); only the command line knows the flag that gets the user past it.

import { HeldError, NotHolderError } from '../errors.ts';
import { LockHeldError, NotYourLockError } from '../lock/errors.ts';

/** The error as the user should read it: a refusal with the flag to use, anything else unchanged. */
export function withHint(err: unknown): unknown {
  if (err instanceof LockHeldError && err.operation === 'acquire' && err.timedOutAfterMs === undefined) {
    return new HeldError(`${err.message}; use --timeout to wait for it`);
  }
  if (err instanceof NotYourLockError && err.operation === 'release' && !err.changedHands) {
    return new NotHolderError(`${err.message}; use --force to release it anyway`);
  }
  return err;
}
