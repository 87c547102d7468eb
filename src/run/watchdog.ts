// A guard for CMD's process group against cmlock's own death AND silence. CMD runs in a session of its own (so
// that signals reach its whole tree), which also means that a SIGKILL to cmlock, an OOM kill, a CI runner killing
// the job's process group, or cmlock merely being stopped (SIGSTOP, a debugger, a frozen cgroup, swapping) would
// leave CMD running while nobody renews the lease: after it ends, a second holder would start beside it.
//
// The watchdog is a tiny /bin/sh in yet another session, reading words from a pipe that cmlock writes:
//   arm S   after S seconds without a newer word, stop CMD's group: SIGTERM, then SIGKILL after the grace.
//           cmlock sends it after every successful renewal, with S ending just after its own renew deadline, so
//           that the watchdog acts only when cmlock is silent, and still before the lease can end for anyone.
//   kill S  cmlock is stopping CMD itself (lost lock): SIGKILL the group after S seconds, even if cmlock dies.
//   hold    CMD's group is stopped (SIGSTOP) by cmlock, waiting for the lock to be verified: no timer; should
//           cmlock die now, SIGKILL the group at once, since nobody can vouch for its lease any more.
//   done    cmlock is done with CMD: exit.
// End of file without `done` means cmlock died: SIGTERM at once and SIGKILL after the grace (or SIGKILL at once
// when held, or at the pending kill time).
//
// It must run under dash and busybox, which have no `read -t` (and whose `kill` builtins agree only on the form
// `kill -SIG -PGID`): the timer is a background subshell that sleeps
// and can be cancelled with USR1 (POSIX makes `wait` return at once when a trapped signal arrives). While it
// waits it is three sleeping processes: the reader, the timer subshell and its `sleep`. Timers run on the
// monotonic clock, as cmlock's own; a machine suspend is cmlock's to notice (see lock/time-jumps.ts).
//
// Best effort: where there is no /bin/sh (a distroless image) run works as before, without this guard.

import { spawn } from 'node:child_process';

// Lines are written before the signal, so that they come before anything CMD prints on its way out.
// $1 process group, $2 grace in seconds (for messages), $3 grace in tenths of a second (for the kill loop).
const SCRIPT = `trap '' INT HUP TERM PIPE TSTP TTIN TTOU
g=$1 grace=$2 tenths=$3 timer= mode=
say() { echo "kubectl-cmlock: $*" >&2; }
alive() { kill -0 "-$g" 2>/dev/null; }
term_then_kill() {
  alive || exit 0
  say "$1; sent SIGTERM to its process group $g, SIGKILL follows in \${grace}s"
  kill -TERM "-$g" 2>/dev/null || exit 0
  n=0
  while alive; do
    if [ "$n" -ge "$tenths" ]; then kill -KILL "-$g" 2>/dev/null; exit 0; fi
    sleep 0.1
    n=$((n+1))
  done
  exit 0
}
# Cancels the timer; one that has already fired is final, and is waited for.
disarm() {
  if [ -n "$timer" ]; then kill -USR1 "$timer" 2>/dev/null; wait "$timer" 2>/dev/null; timer=; fi
}
# $1 seconds, $2 what to do when they pass, unless a USR1 comes first. (The sleep inherits TERM ignored: KILL it.)
arm() {
  disarm
  ( trap 'kill -KILL "$s" 2>/dev/null; exit 0' USR1
    sleep "$1" & s=$!
    wait "$s" || exit 0
    trap '' USR1
    "$2" ) &
  timer=$!
}
silent() { term_then_kill "run went silent (stopped or stalled) past its renew deadline"; }
overdue() { alive && kill -KILL "-$g" 2>/dev/null; exit 0; }
while read -r word arg; do
  case $word in
    arm) mode=arm; arm "$arg" silent ;;
    kill) mode=kill; arm "$arg" overdue ;;
    hold) mode=hold; disarm ;;
    done) disarm; exit 0 ;;
  esac
done
case $mode in
  kill) wait "$timer"; exit 0 ;;
  hold)
    alive || exit 0
    say "run died while its command was stopped; sent SIGKILL to its process group $g"
    kill -KILL "-$g" 2>/dev/null
    exit 0 ;;
esac
disarm
term_then_kill "run died without stopping its command"`;

export interface Watchdog {
  /** After `ms` without a newer word, the watchdog stops CMD's group (SIGTERM, SIGKILL after the grace). */
  arm(ms: number): Promise<void>;
  /** cmlock is stopping CMD itself: the watchdog SIGKILLs the group after `ms`, whatever happens to cmlock. */
  killAfter(ms: number): Promise<void>;
  /** CMD's group is stopped by cmlock: no timer; should cmlock die, SIGKILL the group at once. */
  hold(): Promise<void>;
  /** Tells the watchdog that cmlock is done with CMD. Resolves once it has been told (or could not be). */
  standDown(): Promise<void>;
}

const NONE: Watchdog = {
  arm: () => Promise.resolve(),
  killAfter: () => Promise.resolve(),
  hold: () => Promise.resolve(),
  standDown: () => Promise.resolve(),
};

export interface WatchdogOptions {
  /** The shell that runs the watchdog; tests run it under dash and busybox. */
  shell?: string;
}

/** Seconds with two decimals, never negative: what `sleep` takes in dash (coreutils) and busybox. */
function secondsText(ms: number): string {
  return (Math.max(0, Math.ceil(ms / 10)) / 100).toFixed(2);
}

/** Starts a watchdog over process group `pgid`; never throws. */
export function startWatchdog(pgid: number, killAfterMs: number, options: WatchdogOptions = {}): Watchdog {
  if (process.platform === 'win32') return NONE;
  const tenths = Math.max(1, Math.ceil(killAfterMs / 100));
  const grace = String(tenths / 10);
  let child;
  try {
    child = spawn(
      options.shell ?? '/bin/sh',
      ['-c', SCRIPT, 'kubectl-cmlock-watchdog', String(pgid), grace, String(tenths)],
      {
        detached: true, // its own session: whatever kills cmlock's process group does not kill the watchdog
        stdio: ['pipe', 'ignore', 'inherit'],
      },
    );
  } catch {
    return NONE;
  }
  child.on('error', () => {}); // no /bin/sh: no watchdog
  const stdin = child.stdin;
  stdin?.on('error', () => {}); // EPIPE when it is already gone
  // Neither the watchdog nor its pipe may keep cmlock's event loop alive.
  child.unref();
  (stdin as { unref?: () => void } | null)?.unref?.();
  let told: Promise<void> | undefined;
  /** One line to the watchdog; resolves once it has left this process (or cannot). */
  const send = (line: string): Promise<void> =>
    new Promise<void>((resolve) => {
      if (stdin === null || stdin.destroyed || told !== undefined) return resolve();
      stdin.write(`${line}\n`, () => resolve());
    });
  return {
    arm: (ms) => send(`arm ${secondsText(ms)}`),
    killAfter: (ms) => send(`kill ${secondsText(ms)}`),
    hold: () => send('hold'),
    standDown: () =>
      (told ??= new Promise<void>((resolve) => {
        if (stdin === null || stdin.destroyed) return resolve();
        stdin.end('done\n', () => resolve());
        stdin.once('error', () => resolve());
      })),
  };
}
