// Everything a command may touch of the outside world, injected so commands are unit-testable with every part
// stubbed. src/main.ts builds the real one; nothing under src/cli reads process.* directly.

import type { ConnectOptions, KubeSession } from '../kube/types.ts';
import type { Clock } from '../lock/types.ts';
import type { StartChild } from '../run/child.ts';
import type { SignalSource } from '../run/signals.ts';

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
   * SIGINT/SIGTERM/SIGHUP and job control for a command that handles them itself (`run` forwards the first three to
   * CMD, and stops CMD with itself on Ctrl-Z). While at least one handler is registered for a signal, that signal
   * goes to the handlers only: it does not abort `signal`, nor has its default action.
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
  /** Local wall clock, ms since the epoch: a fallback when no server time is known yet, and to notice jumps. */
  wallNow(): number;
  /** Time since boot including suspends, ms, where the platform tells (to notice a suspend); else undefined. */
  bootNow?(): number | undefined;
  /**
   * What the parsed command is: 'one-shot' (its few busy milliseconds should be fast) or 'long-running' (run,
   * wait, ls -w: it mostly waits, and should hold little memory). src/main.ts tunes V8 for it.
   */
  workload?(kind: 'one-shot' | 'long-running'): void;
  /** Stops this process (SIGSTOP to itself), as Ctrl-Z would without a handler. */
  stopSelf(): void;
  hostname(): string;
  username(): string;
  readonly pid: number;
}
