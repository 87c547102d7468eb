// A guard for CMD's process group against cmlock's own sudden death. CMD runs in a session of its own (so that
// signals reach its whole tree), which also means a SIGKILL to cmlock, an OOM kill, or a CI runner killing the
// job's process group would leave CMD running while nobody renews the lease: after it ends, a second holder
// would start beside it. The watchdog is a tiny /bin/sh in yet another session, reading a pipe from cmlock.
// A line on the pipe means "done with CMD, stand down"; end of file without one means cmlock died, and the
// watchdog sends CMD's group SIGTERM at once and SIGKILL after --kill-after, the same steps as a lost lock,
// well inside the lease that cmlock renewed last (validateRunTimings keeps the grace shorter than the lease).
//
// Best effort: where there is no /bin/sh (a distroless image) run works as before, without this guard.

import { spawn } from 'node:child_process';

// The line is written before the signal, so that it comes before anything CMD prints on its way out.
const SCRIPT = `trap '' INT HUP TERM PIPE
if read -r _; then exit 0; fi
kill -s 0 -- "-$1" 2>/dev/null || exit 0
echo "kubectl-cmlock: run died without stopping its command; sent SIGTERM to its process group $1, SIGKILL follows in $2s" >&2
kill -s TERM -- "-$1" 2>/dev/null || exit 0
n=0
while kill -s 0 -- "-$1" 2>/dev/null; do
  if [ "$n" -ge "$3" ]; then kill -s KILL -- "-$1" 2>/dev/null; exit 0; fi
  sleep 0.1
  n=$((n+1))
done`;

export interface Watchdog {
  /** Tells the watchdog that cmlock is done with CMD. Resolves once it has been told (or could not be). */
  standDown(): Promise<void>;
}

const NONE: Watchdog = { standDown: () => Promise.resolve() };

/** Starts a watchdog over process group `pgid`; never throws. */
export function startWatchdog(pgid: number, killAfterMs: number): Watchdog {
  if (process.platform === 'win32') return NONE;
  const tenths = Math.max(1, Math.ceil(killAfterMs / 100));
  const seconds = String(tenths / 10);
  let child;
  try {
    child = spawn('/bin/sh', ['-c', SCRIPT, 'kubectl-cmlock-watchdog', String(pgid), seconds, String(tenths)], {
      detached: true, // its own session: whatever kills cmlock's process group does not kill the watchdog
      stdio: ['pipe', 'ignore', 'inherit'],
    });
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
  return {
    standDown: () =>
      (told ??= new Promise<void>((resolve) => {
        if (stdin === null || stdin.destroyed) return resolve();
        stdin.end('done\n', () => resolve());
        stdin.once('error', () => resolve());
      })),
  };
}
