// Memory of the long-running commands (run, wait, ls -w) while they hold or watch, and of their kubectl and
// Node counterparts: each is started in the sealed environment, and once it is doing its job its resident set
// is read from /proc/PID/status (VmRSS) at a fixed interval. "tree" adds the process's descendants (run's
// watchdog shell) except the user's command, which is not cmlock's memory.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { median, sealedEnv, type Sealed } from './measure.ts';

export interface Idler {
  name: string;
  argv: string[];
  /** Descendants with this command name (`comm`) are the user's, not counted. */
  excludeComm?: string;
  env?: Record<string, string>;
}

export interface Running {
  idler: Idler;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited?: number | null;
}

export function start(idler: Idler, s: Sealed): Running {
  const [cmd = '', ...args] = idler.argv;
  const child = spawn(cmd, args, { env: sealedEnv(s, idler.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Running = { idler, child, stdout: '', stderr: '' };
  // Keep the first 64 KiB of each: enough to see that it works, bounded for a 10-minute watch.
  child.stdout?.setEncoding('utf8').on('data', (d: string) => r.stdout.length < 65536 && (r.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => r.stderr.length < 65536 && (r.stderr += d));
  child.on('exit', (code) => (r.exited = code));
  return r;
}

function statusKiB(pid: number, field = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone
  }
}

/** pid → [parent pid, command name] for every process. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      table.set(Number(entry), [ppid, comm]);
    } catch {
      // exited while we looked
    }
  }
  return table;
}

/** The process and its descendants, without the excluded ones and theirs. */
function tree(pid: number, excludeComm?: string): number[] {
  const table = processTable();
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [child, [ppid, comm]] of table) {
      if (ppid === out[i] && comm !== excludeComm) out.push(child);
    }
  }
  return out;
}

export interface RssSample {
  atMs: number;
  mainKiB: number;
  treeKiB: number;
}

export function sample(r: Running, atMs: number): RssSample {
  const pid = r.child.pid ?? 0;
  const pids = tree(pid, r.idler.excludeComm);
  return { atMs, mainKiB: statusKiB(pid), treeKiB: pids.reduce((sum, p) => sum + statusKiB(p), 0) };
}

/** Samples every running process every `intervalMs` for `durationMs`; throws if one of them exits meanwhile. */
export async function sampleAll(
  running: readonly Running[],
  durationMs: number,
  intervalMs: number,
  onTick?: (elapsedMs: number, latest: RssSample[]) => void,
): Promise<RssSample[][]> {
  const out: RssSample[][] = running.map(() => []);
  const started = Date.now();
  for (;;) {
    const at = Date.now() - started;
    const latest = running.map((r) => {
      if (r.exited !== undefined) {
        throw new Error(`${r.idler.name} exited (${r.exited}) while idle: ${r.stderr.trim().slice(0, 300)}`);
      }
      return sample(r, at);
    });
    latest.forEach((x, i) => out[i]?.push(x));
    onTick?.(at, latest);
    if (at >= durationMs) return out;
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}

export interface IdleSummary {
  name: string;
  medianMiB: number;
  maxMiB: number;
  treeMedianMiB: number;
  /** Median of the first and of the last tenth of the samples (flatness over a long run). */
  firstMiB: number;
  lastMiB: number;
}

export function summarize(name: string, samples: readonly RssSample[]): IdleSummary {
  const mib = (k: number): number => k / 1024;
  const main = samples.map((s) => s.mainKiB);
  const tenth = Math.max(1, Math.floor(samples.length / 10));
  return {
    name,
    medianMiB: mib(median(main)),
    maxMiB: mib(Math.max(...main)),
    treeMedianMiB: mib(median(samples.map((s) => s.treeKiB))),
    firstMiB: mib(median(main.slice(0, tenth))),
    lastMiB: mib(median(main.slice(-tenth))),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stop(r: Running, graceMs = 10_000): Promise<void> {
  if (r.exited !== undefined) return;
  const exited = new Promise<void>((done) => r.child.once('exit', () => done()));
  r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
