// The library entry point, `import { Lock } from 'kubectl-cmlock'`: the public surface, and all of it. Every name
// exported here is covered by semver (see the README's "Library" section); nothing else of the package is.
// Importing it loads neither the command line (yargs, cli-table3) nor the Kubernetes client: a Lock imports
// src/kube on its first call (lib/system.ts).

/**
 * Locks stored as ConfigMaps, from Node.js programs: the same locks as `kubectl cmlock` and the Go library.
 *
 * @packageDocumentation
 */

export { Lock } from './lock.ts';
export { Lease } from './lease.ts';
export type { AcquiredLock, AcquireOptions, LockOptions, OwnerPod, ReleaseOptions, RenewOptions } from './options.ts';
export type { AcquireOutcome, HolderView, LockStatus, LockView, WaiterView } from '../lock/types.ts';
export { CmlockError, ConfigError, UsageError } from '../errors.ts';
export { LockHeldError, LockLostError, LockMissingError, NotYourLockError } from '../lock/errors.ts';
