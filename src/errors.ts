// Typed errors that carry their exit code. Everything below src/main.ts throws these; main.ts prints
// `error: <message>` once and exits with `exitCode`. The lock protocol throws subclasses of the held / not the
// holder / not found ones that carry the lock they are about (src/lock/errors.ts). Messages are one line, say what happened and what to do,
// and never contain a token, key or kubeconfig content.

export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  held: 3,
  notHolder: 4,
  notFound: 5,
  lost: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every error cmlock throws on purpose: a one-line message that holds no credential. */
export class CmlockError extends Error {
  /** The exit code `kubectl cmlock` gives this error (ExitCode). */
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.error, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad flag, bad name, bad duration, bad combination: exit 2, nothing was sent to the cluster. */
export class UsageError extends CmlockError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** Kubeconfig missing/unreadable, unknown context: exit 1, nothing was sent to the cluster. */
export class ConfigError extends CmlockError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.error, options);
  }
}

/** Someone else holds the lock (try-once, or --timeout reached), or `wait` timed out: exit 3. */
export class HeldError extends CmlockError {
  constructor(message: string) {
    super(message, ExitCode.held);
  }
}

/** release/renew of a lock held by someone else: exit 4. */
export class NotHolderError extends CmlockError {
  constructor(message: string) {
    super(message, ExitCode.notHolder);
  }
}

/** The lock does not exist: exit 5. */
export class LockNotFoundError extends CmlockError {
  constructor(message: string) {
    super(message, ExitCode.notFound);
  }
}

/** The operation was cancelled (Ctrl-C). main.ts exits 130 (or 128+signal) quietly. */
export class CancelledError extends CmlockError {
  constructor(message = 'cancelled', exitCode = 130) {
    super(message, exitCode);
  }
}
