// The words a command adds to what the lock protocol refused. The protocol's errors say who holds the lock and
// until when (src/lock/errors.ts); only the command line knows the flag that gets the user past it.

import { HeldError, NotHolderError, UsageError } from '../errors.ts';
import { ChooseHolderError, LimitMismatchError, LockHeldError, NotYourLockError } from '../lock/errors.ts';

/** The error as the user should read it: a refusal with the flag to use, anything else unchanged. */
export function withHint(err: unknown): unknown {
  if (err instanceof LockHeldError && err.operation === 'acquire' && err.timedOutAfterMs === undefined) {
    return new HeldError(`${err.message}; use --timeout to wait for it`);
  }
  if (err instanceof NotYourLockError && err.operation === 'release' && !err.changedHands) {
    return new NotHolderError(`${err.message}; use --force to release it anyway`);
  }
  if (err instanceof LimitMismatchError) {
    return new UsageError(
      err.stored === 1
        ? `${err.message}; leave out --limit (a limit is set only on a lock nobody holds or waits for)`
        : `${err.message}; use --limit ${err.stored}${err.claim.shared ? ' instead of --shared' : ''}`,
    );
  }
  if (err instanceof ChooseHolderError) {
    return new UsageError(
      err.named === undefined
        ? `${err.message}: name the one to break with --holder IDENTITY, or break them all with --all`
        : err.message,
    );
  }
  return err;
}
