// Everything a command may touch of the outside world, injected so commands are unit-testable with every part
// stubbed. src/main.ts builds the real one; nothing under src/cli reads process.* directly.

import type { ConnectOptions, KubeSession } from '../kube/types.ts';
import type { Clock } from '../lock/types.ts';
import type { StartChild } from '../run/child.ts';
import type { SignalSource } from '../run/run.ts';

export interface OutputStream {
  write(text: string): void;
  readonly isTTY: boolean;
  /** Terminal width, when `isTTY`. */
  readonly columns: number | undefined;
}

export interface Runtime {
  /** The plugin's arguments (after `kubectl cmlock`). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Data. */
  readonly stdout: OutputStream;
  /** Progress, warnings, diagnostics. */
  readonly stderr: OutputStream;
  /**
   * Aborted by the first SIGINT/SIGTERM: the command cleans up and throws CancelledError. Not while a handler
   * is registered through `signals` for that signal: the handler gets it instead.
   */
  readonly signal: AbortSignal;
  /**
   * SIGINT/SIGTERM/SIGHUP for a command that handles them itself (`run` forwards them to CMD). While at least one
   * handler is registered for a signal, that signal goes to the handlers only and does not abort `signal`.
   */
  readonly signals: SignalSource;
  /** Starts a child process (`run`'s CMD). */
  readonly spawn: StartChild;
  /**
   * Resolves the kube config (throws ConfigError before anything is sent). Asynchronous so that the Kubernetes
   * client is loaded only by commands that use the cluster: --help, version and completion start fast.
   */
  readonly connect: (options: ConnectOptions) => Promise<KubeSession>;
  /** Monotonic time and timers. */
  readonly clock: Clock;
  /** Local wall clock, ms since the epoch: only a fallback when no server time is known yet. */
  wallNow(): number;
  hostname(): string;
  username(): string;
  readonly pid: number;
}
