// The entry point, and the only code that reads process.argv and process.env, handles signals and exits.
// Signals: the first SIGINT/SIGTERM aborts the command (a second one exits at once), except while a command has
// taken them over through Runtime.signals: `run` forwards SIGINT/SIGTERM/SIGHUP to CMD and waits for it, and
// handles job control (SIGTSTP/SIGTTIN/SIGTTOU/SIGCONT) so that Ctrl-Z stops CMD with it. Any other signal keeps
// its default action (SIGHUP ends us, SIGTSTP stops us) while no command handles it.
// Everything below throws typed errors; they are printed here, once, as one line: `error: <message>`.

import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { peekVerbosity, runCli, usageHint } from './cli/app.ts';
import type { OutputStream, Runtime } from './cli/runtime.ts';
import { CancelledError, CmlockError, UsageError } from './errors.ts';
import { systemClock } from './lock/clock.ts';
import { loginName } from './lock/holder.ts';
import { startChildProcess } from './run/child.ts';
import type { RunSignal, SignalSource } from './run/signals.ts';
import { HOMEPAGE } from './version.ts';

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
/** -v level from which errors also print their stack. */
const STACK_VERBOSITY = 4;

const argv = process.argv.slice(2);
const verbosity = peekVerbosity(argv);
const controller = new AbortController();
/** Set by the first SIGINT/SIGTERM: the exit code, whatever the command then throws. */
let interruptedExitCode: number | undefined;
/** What the parsed command is (Runtime.workload). */
let workload: 'one-shot' | 'long-running' | undefined;

function stream(s: NodeJS.WriteStream): OutputStream {
  return {
    write: (text) => void s.write(text),
    get isTTY() {
      return s.isTTY === true;
    },
    get columns() {
      return s.isTTY === true ? s.columns : undefined;
    },
  };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function stackOf(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.stack ?? e.message);
  return parts.join('\ncaused by: ');
}

/** Prints the error once and returns the exit code. */
function report(err: unknown): number {
  if (err instanceof CancelledError || (interruptedExitCode !== undefined && !(err instanceof CmlockError))) {
    return interruptedExitCode ?? (err instanceof CmlockError ? err.exitCode : 130); // Ctrl-C: quietly
  }
  let code: number;
  if (err instanceof CmlockError) {
    process.stderr.write(`error: ${oneLine(err.message)}\n`);
    if (err instanceof UsageError) process.stderr.write(`${usageHint(argv)}\n`);
    code = err.exitCode;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: internal error: ${oneLine(message)} (please report this at ${HOMEPAGE}/issues)\n`);
    code = 1;
  }
  if (verbosity >= STACK_VERBOSITY) process.stderr.write(`${stackOf(err)}\n`);
  return interruptedExitCode ?? code;
}

async function exit(code: number): Promise<never> {
  // Let piped output drain before exiting (pipes are asynchronous on some platforms).
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((done) => s.write('', () => done()))),
  );
  process.exit(code);
}

/** Ctrl-C and friends, when no command handles them itself: abort, and let the command clean up. */
function interrupt(signal: keyof typeof SIGNAL_EXIT_CODES): void {
  const code = SIGNAL_EXIT_CODES[signal];
  if (interruptedExitCode !== undefined) {
    process.stderr.write('error: interrupted again; exiting without cleaning up\n');
    process.exit(code);
  }
  interruptedExitCode = code;
  controller.abort(new CancelledError(`interrupted by ${signal}`, code));
}

/**
 * Handlers registered through Runtime.signals (`run` forwards SIGINT/SIGTERM/SIGHUP to CMD, and aborts its own
 * wait for the lock). While a signal has any, it goes to them alone.
 */
const delegated = new Map<RunSignal, Set<() => void>>();
const dispatchers = new Map<RunSignal, () => void>();

function dispatch(signal: RunSignal): void {
  const handlers = delegated.get(signal);
  if (handlers !== undefined && handlers.size > 0) {
    for (const handler of [...handlers]) handler();
  } else if (signal === 'SIGINT' || signal === 'SIGTERM') {
    interrupt(signal);
  }
}

function listen(signal: RunSignal): void {
  if (dispatchers.has(signal)) return;
  const dispatcher = () => dispatch(signal);
  dispatchers.set(signal, dispatcher);
  process.on(signal, dispatcher);
}

// SIGINT and SIGTERM are always ours; the others only while a command handles them (default actions otherwise).
listen('SIGINT');
listen('SIGTERM');

const signals: SignalSource = {
  on(signal, handler) {
    let handlers = delegated.get(signal);
    if (handlers === undefined) delegated.set(signal, (handlers = new Set()));
    handlers.add(handler);
    listen(signal);
  },
  off(signal, handler) {
    const handlers = delegated.get(signal);
    handlers?.delete(handler);
    const dispatcher = dispatchers.get(signal);
    const always = signal === 'SIGINT' || signal === 'SIGTERM';
    if (!always && handlers?.size === 0 && dispatcher !== undefined) {
      process.off(signal, dispatcher);
      dispatchers.delete(signal);
    }
  },
};

// `kubectl cmlock ls | head -1`: a closed pipe is not an error, and a terminal that went away (EIO: the ssh
// session dropped, the terminal window closed) cannot be written to any more. Data that cannot be delivered ends
// the command; diagnostics that cannot be shown are dropped, so that `run` still sees its command through (it
// forwards the SIGHUP that came with the hangup) and releases the lock.
const goneOutput = (err: NodeJS.ErrnoException): boolean => err.code === 'EPIPE' || err.code === 'EIO';
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (goneOutput(err)) process.exit(interruptedExitCode ?? 0);
});
process.stderr.on('error', () => {});
/** Set once a crash is being reported: a failure while reporting it must not report again (and loop). */
let crashing = false;
const crash = (err: unknown): void => {
  if (crashing) process.exit(interruptedExitCode ?? 1);
  crashing = true;
  void exit(report(err));
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const runtime: Runtime = {
  argv,
  env: process.env,
  stdout: stream(process.stdout),
  stderr: stream(process.stderr),
  signal: controller.signal,
  signals,
  spawn: startChildProcess,
  // Loaded on first use: --help, version and completion never pay for the Kubernetes client.
  connect: async (options) => {
    const kube = await import('./kube/index.ts');
    // A command that mostly waits does without V8's optimizing compilers: the few functions they compiled in its
    // first minute touched ~5 MB more of the executable, resident for as long as it waits. Switched off once
    // every script is loaded: the code caches of src/sea-main.ts are made under the executable's own flags.
    if (workload === 'long-running') setFlagsFromString('--no-opt --no-maglev');
    return kube.connect(options);
  },
  clock: systemClock,
  wallNow: () => Date.now(),
  bootNow,
  workload: (kind) => {
    workload = kind;
  },
  stopSelf: () => process.kill(process.pid, 'SIGSTOP'),
  hostname: () => hostname(),
  username: () => loginName(() => userInfo().username, process.env, process.getuid?.()),
  pid: process.pid,
};

/** Time since boot, suspends included (Linux CLOCK_BOOTTIME, through /proc/uptime), in ms; else undefined. */
function bootNow(): number | undefined {
  try {
    const seconds = Number(readFileSync('/proc/uptime', 'latin1').split(' ', 1)[0]);
    return Number.isFinite(seconds) ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}

// No top-level await: the executable is bundled as CommonJS.
runCli(runtime).then(exit, (err: unknown) => exit(report(err)));
