// A CMD for `run` tests that is a whole process tree, under `sh` (dash here): CMD itself, a child, and a
// grandchild that the child forks, each appending "tick NAME MS" to one log every 50 ms (wall-clock ms, the clock
// the API server stamps its records with: the control plane runs on this machine), and "term NAME MS" when a
// SIGTERM handler runs. Tests read the log to tell when any part of CMD last did work.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './harness.ts';
import { fileAppears, readIfExists } from './run-helpers.ts';

export interface CmdTree {
  /** The argv after `--` for `kubectl cmlock run NAME ... -- `. */
  argv: string[];
  log: string;
  /** Resolves with CMD's pid (its process group) once all three are working. */
  started(): Promise<number>;
}

/**
 * `ticks`: CMD exits with `exitCode` after that many of its own ticks (time while stopped does not count);
 * 0 = runs until stopped.
 */
export function cmdTree(dir: string, ticks = 0, exitCode = 0): CmdTree {
  const log = join(dir, 'work.log');
  const worker = join(dir, 'worker.sh');
  const child = join(dir, 'child.sh');
  const main = join(dir, 'main.sh');
  const now = '$(($(date +%s%N) / 1000000))';
  writeFileSync(
    worker,
    `trap 'echo "term $1 ${now}" >> '"'${log}'"'; exit 143' TERM\n` +
      `n=0\nwhile [ "$2" = 0 ] || [ "$n" -lt "$2" ]; do echo "tick $1 ${now}" >> '${log}'; n=$((n+1)); sleep 0.05; done\n`,
  );
  writeFileSync(child, `sh '${worker}' grandchild 0 &\nsh '${worker}' child 0\n`);
  writeFileSync(
    main,
    // Its clock is not the one under test: libfaketime, when a test preloads it into cmlock, stays out of CMD.
    `unset LD_PRELOAD\necho $$ > '${join(dir, 'cmd.pid')}'\nsh '${child}' &\nsh '${worker}' cmd ${ticks}\n` +
      `kill $(jobs -p) 2>/dev/null; pkill -TERM -g $$ -f '${worker}' 2>/dev/null\nexit ${exitCode}\n`,
  );
  return {
    argv: ['sh', main],
    log,
    async started() {
      const pid = Number((await fileAppears(join(dir, 'cmd.pid'))).trim());
      await waitForTicks(log, ['cmd', 'child', 'grandchild']);
      return pid;
    },
  };
}

export interface LogLine {
  kind: 'tick' | 'term';
  who: string;
  at: number;
}

export function readLog(path: string): LogLine[] {
  return (readIfExists(path) ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [kind = '', who = '', at = ''] = l.split(' ');
      return { kind: kind as LogLine['kind'], who, at: Number(at) };
    });
}

/** The last time any part of CMD did work (a tick or a SIGTERM handler), wall-clock ms. */
export function lastWork(path: string): number {
  return Math.max(-Infinity, ...readLog(path).map((l) => l.at));
}

async function waitForTicks(path: string, who: string[]): Promise<void> {
  await eventually(
    async () => who.every((w) => readLog(path).some((l) => l.kind === 'tick' && l.who === w)),
    20_000,
    `${who.join(', ')} are all working`,
  );
}

/** The processes of a process group and their states (/proc/PID/stat: R, S, T = stopped, Z, ...). */
export function groupStates(pgid: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) out.push({ pid: Number(entry), state: fields[0] ?? '' });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * No process of the group can do work any more: none left, or only zombies. (CMD's leader stays a zombie until
 * its parent, cmlock, reaps it: while cmlock is stopped, `kill -0 -PGID` still finds the group.)
 */
export function groupGone(pgid: number): boolean {
  return groupStates(pgid).every((s) => s.state === 'Z');
}

/** Resolves once the group is stopped (groupStopped); the failure says what each process was doing. */
export async function untilGroupStopped(pgid: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!groupStopped(pgid)) {
    if (Date.now() > deadline) {
      throw new Error(`CMD's tree (group ${pgid}) is not stopped: ${JSON.stringify(groupStates(pgid))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Every process of the group is stopped, and at least `min` of them (CMD, child, grandchild). Two other states do
 * no work either: a zombie (Z: a `sleep` that ended just before its parent was stopped, until the parent runs
 * again) and uninterruptible sleep (D: a shell that vforked a child the SIGSTOP caught before its exec; it stops
 * the moment it leaves the kernel, the signal being pending).
 */
export function groupStopped(pgid: number, min = 3): boolean {
  const states = groupStates(pgid);
  return states.filter((s) => s.state === 'T').length >= min && states.every((s) => ['T', 'Z', 'D'].includes(s.state));
}
