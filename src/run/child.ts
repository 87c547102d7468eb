// Starting CMD for `run`: no shell, arguments exactly as given, stdio inherited, in a session and process group of
// its own so that the whole tree it starts can be signalled at once. Injected into runLocked so unit tests can
// use a scripted child. A watchdog (watchdog.ts) stops the group should cmlock itself die without doing so.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { startWatchdog, type Watchdog } from './watchdog.ts';

export interface ChildExit {
  /** Exit code, or null when the child died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningChild {
  readonly pid: number;
  /** Resolves once the child (the group leader) has exited; never rejects. */
  readonly exited: Promise<ChildExit>;
  /**
   * Sends `signal` to the child's whole process group; 0 only probes whether the group still has members.
   * Returns false when the group no longer exists.
   */
  signalGroup(signal: NodeJS.Signals | 0): boolean;
  /** The watchdog over CMD's group: told the renew deadline, a kill time, or that CMD is stopped (watchdog.ts). */
  readonly guard: Pick<Watchdog, 'arm' | 'killAfter' | 'hold'>;
  /**
   * cmlock is done with CMD (it exited, or was stopped): from now on cmlock's own death does not concern CMD's
   * group. Until then, cmlock dying (even by SIGKILL) gets the group SIGTERM, then SIGKILL after killAfter.
   */
  disown(): Promise<void>;
}

export interface StartChildOptions {
  /** The grace between SIGTERM and SIGKILL should cmlock die or go silent while CMD runs. */
  killAfterMs: number;
  /** The shell that runs the watchdog (default /bin/sh). */
  watchdogShell?: string;
}

/**
 * Starts a child. Resolves once it is running; rejects with the spawn error (an errno error with `code`
 * ENOENT, EACCES, ...) when it could not be started.
 */
export type StartChild = (
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  options: StartChildOptions,
) => Promise<RunningChild>;

export const startChildProcess: StartChild = (file, args, env, options) =>
  new Promise<RunningChild>((resolve, reject) => {
    // detached: libuv calls setsid(), so the child leads a new session and process group (pgid = pid).
    const child = spawn(file, [...args], { env, stdio: 'inherit', detached: true, shell: false });
    const exited = new Promise<ChildExit>((done) => {
      child.once('exit', (code, signal) => done({ code, signal }));
    });
    child.once('error', reject);
    child.once('spawn', () => {
      const pid = child.pid;
      if (pid === undefined) {
        reject(new Error('the child process has no pid'));
        return;
      }
      child.off('error', reject);
      // Later 'error' events (there are none without child.kill/IPC) must not crash the process.
      child.on('error', () => {});
      const watchdog = startWatchdog(pid, options.killAfterMs, { shell: options.watchdogShell });
      resolve({
        pid,
        exited,
        signalGroup: (signal) => signalProcessGroup(pid, signal),
        guard: watchdog,
        disown: () => watchdog.standDown(),
      });
    });
  });

/** Whether process group `pgid` still has members (zombies count until they are reaped). */
export function processGroupExists(pgid: number): boolean {
  return signalProcessGroup(pgid, 0);
}

function signalProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') return false;
    // EPERM: a member changed credentials (setuid); nothing more we can do from here.
    return false;
  }
}

/** Shell convention: the exit code, or 128 + the signal number when the child died of a signal. */
export function exitCodeOf(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  if (exit.signal !== null) return 128 + signalNumber(exit.signal);
  return 1;
}

export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** What a shell prints and returns when it cannot start a command. */
export function startFailure(err: unknown): { exitCode: number; why: string } {
  switch (errnoCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { exitCode: 127, why: 'command not found' };
    case 'EACCES':
    case 'EPERM':
    case 'EISDIR':
      return { exitCode: 126, why: 'permission denied' };
    case 'ENOEXEC':
      return { exitCode: 126, why: 'cannot execute: exec format error' };
    default:
      return {
        exitCode: 126,
        why: `cannot execute: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}`,
      };
  }
}
