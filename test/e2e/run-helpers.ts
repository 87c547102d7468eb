// Helpers shared by the wait-*/run-* end-to-end tests: long-running `kubectl cmlock` processes the test signals
// and watches, the lock as the server stores it, and files a CMD writes to tell the test what it saw and when.
// Times compared across processes are wall-clock milliseconds on this one machine, the same clock the API
// server stamps renewTime with (the control plane runs here too).

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { kubeconfigThroughProxy, startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import {
  clusterKubeconfig,
  clusterState,
  collect,
  eventually,
  kubectl,
  startSealed,
  type RunOptions,
  type RunResult,
} from './harness.ts';

export interface Started {
  child: ChildProcess;
  /** The pid of `kubectl`, which execs the plugin: the cmlock process itself. */
  pid: number;
  /** Resolves when the process has exited and its output is closed. */
  result: Promise<RunResult>;
  /** stderr so far. */
  stderr(): string;
  /** Wall-clock ms when it exited (set once `result` resolved). */
  exitedAt(): number | undefined;
}

/** `kubectl cmlock ARGS` left running, for signals, races and kills. */
export function startCmlock(args: string[], opts: RunOptions = {}): Started {
  const child = startSealed('kubectl', ['cmlock', ...args], opts);
  let stderr = '';
  let exitedAt: number | undefined;
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.on('exit', () => (exitedAt = Date.now()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('kubectl did not start');
  return {
    child,
    pid,
    result: collect(child, opts.timeoutMs ?? 120_000, opts.input),
    stderr: () => stderr,
    exitedAt: () => exitedAt,
  };
}

/** Resolves once the process's stderr matches `pattern` (fails if it exits first). */
export async function stderrMatches(p: Started, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => {
      if (pattern.test(p.stderr())) return true;
      if (p.exitedAt() !== undefined) throw new Error(`exited before stderr matched ${pattern}:\n${p.stderr()}`);
      return false;
    },
    timeoutMs,
    `stderr matches ${pattern}`,
  );
}

/** A directory for the files a CMD writes; removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), `cmlock-${t.name.replace(/\W+/g, '-').slice(0, 40)}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function fileAppears(path: string, timeoutMs = 30_000): Promise<string> {
  await eventually(
    async () => existsSync(path) && readFileSync(path, 'utf8').endsWith('\n'),
    timeoutMs,
    `${path} is written`,
  );
  return readFileSync(path, 'utf8');
}

export function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** A shell command line that writes the wall-clock time in ms (and a newline) to `file`. */
export function stampTo(file: string): string {
  return `echo $(($(date +%s%N) / 1000000)) >> '${file}'`;
}

/** Wall-clock ms stamps written by stampTo, in order. */
export function stamps(text: string | undefined): number[] {
  return (text ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

export interface ServerLock {
  data: Record<string, string>;
  resourceVersion: string;
}

/** The lock's ConfigMap straight from the API server (admin), or undefined when there is none. */
export async function serverLock(ns: string, name: string, opts: RunOptions = {}): Promise<ServerLock | undefined> {
  const r = await kubectl(['-n', ns, 'get', 'configmap', name, '-o', 'json', '--ignore-not-found'], opts);
  if (r.code !== 0) throw new Error(`kubectl get configmap ${name}: ${r.stderr}`);
  if (r.stdout.trim() === '') return undefined;
  const cm = JSON.parse(r.stdout) as { data?: Record<string, string>; metadata: { resourceVersion: string } };
  return { data: cm.data ?? {}, resourceVersion: cm.metadata.resourceVersion };
}

/** When the lock's lease ends, server wall-clock ms: renewTime + leaseDurationSeconds. */
export function leaseEnd(lock: ServerLock): number {
  const renew = Date.parse(lock.data['renewTime'] ?? '');
  const lease = Number(lock.data['leaseDurationSeconds']);
  if (Number.isNaN(renew) || Number.isNaN(lease)) throw new Error(`no lease in ${JSON.stringify(lock.data)}`);
  return renew + lease * 1000;
}

export async function lockGone(ns: string, name: string, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => (await serverLock(ns, name)) === undefined, timeoutMs, `lock ${name} is gone`);
}

/** The executable a pid runs (realpath), to tell kubectl from the plugin it exec'd. */
export function exeOf(pid: number): string {
  return realpathSync(`/proc/${pid}/exe`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills a process group that a test left behind (a CMD whose cmlock was SIGKILLed); ignores one that is gone. */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Fixed-point formatting for logged measurements. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

export interface LockVersion {
  /** Wall-clock ms when kubectl printed it. */
  seenAt: number;
  resourceVersion: string;
  holder: string;
  renewTime: string;
  leaseDurationSeconds: string;
  fence: string;
}

export interface LockWatch {
  /** Every version of the lock seen so far, in order (a deletion shows as the last version again). */
  versions(): LockVersion[];
  stop(): void;
}

/** Records every version of the lock the API server reports, from now on (kubectl get -w). */
export function watchLock(ns: string, name: string, opts: RunOptions = {}): LockWatch {
  const format =
    '{.metadata.resourceVersion}|{.data.holderIdentity}|{.data.renewTime}|{.data.leaseDurationSeconds}|{.data.fence}{"\\n"}';
  const child = startSealed(
    'kubectl',
    ['-n', ns, 'get', 'configmap', '--field-selector', `metadata.name=${name}`, '-w', '-o', `jsonpath=${format}`],
    opts,
  );
  const versions: LockVersion[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [resourceVersion = '', holder = '', renewTime = '', leaseDurationSeconds = '', fence = ''] =
        line.split('|');
      versions.push({ seenAt: Date.now(), resourceVersion, holder, renewTime, leaseDurationSeconds, fence });
    }
  });
  child.stderr?.resume();
  child.stdin?.end();
  return { versions: () => [...versions], stop: () => void child.kill('SIGKILL') };
}

/** renewTime + lease of one recorded version, wall-clock ms. */
export function versionLeaseEnd(v: LockVersion): number {
  return Date.parse(v.renewTime) + Number(v.leaseDurationSeconds) * 1000;
}

/** A fault proxy in front of the test cluster's API server, and the env that sends cmlock through it. */
export async function proxiedCluster(t: TestContext): Promise<{ proxy: FaultProxy; env: Record<string, string> }> {
  const url = new URL(clusterState().server);
  const proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
  t.after(() => proxy.close());
  const kubeconfig = kubeconfigThroughProxy(clusterKubeconfig(), proxy.port);
  t.after(() => rmSync(dirname(kubeconfig), { recursive: true, force: true }));
  return { proxy, env: { KUBECONFIG: kubeconfig } };
}

/**
 * A shell command that prints CLOCK_MONOTONIC in nanoseconds: one clock for every process on this machine (the Go
 * peer reads the same one), so hold intervals logged by different processes compare. perl starts in a few ms.
 */
export const MONO_NS = `perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e 'printf "%.0f", clock_gettime(CLOCK_MONOTONIC) * 1e9'`;

/**
 * The critical section of the contention tests, for `sh -c` under `kubectl cmlock run`: a read-modify-write of the
 * counter file (a lost update shows when two holders overlap) and one line "START END FENCE HOLDER" appended to
 * the log (O_APPEND keeps short lines whole).
 */
export function counterSection(counter: string, log: string, holder = '$CMLOCK_HOLDER'): string {
  return [
    `s=$(${MONO_NS})`,
    `n=$(cat '${counter}')`,
    'sleep 0.005',
    `echo $((n + 1)) > '${counter}'`,
    `e=$(${MONO_NS})`,
    `echo "$s $e $CMLOCK_FENCE ${holder}" >> '${log}'`,
  ].join('; ');
}

/** One hold of a lock, as a critical section logged it. */
export interface Hold {
  start: bigint;
  end: bigint;
  fence: bigint;
  holder: string;
}

/** The holds logged one a line as "START END FENCE HOLDER" (monotonic ns), in the order they started. */
export function readHolds(log: string): Hold[] {
  return (readIfExists(log) ?? '')
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [start = '', end = '', fence = '', holder = ''] = line.split(' ');
      return { start: BigInt(start), end: BigInt(end), fence: BigInt(fence), holder };
    })
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The most holds that overlapped at any instant (a semaphore's concurrency). */
export function mostAtOnce(holds: readonly Hold[]): number {
  const marks = holds
    .flatMap((h) => [
      { t: h.start, d: 1 },
      { t: h.end, d: -1 },
    ])
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.d - b.d));
  let now = 0;
  let most = 0;
  for (const m of marks) most = Math.max(most, (now += m.d));
  return most;
}

/** Holds that overlap the one before and fences that do not increase; the smallest gap between two holds. */
export function holdProblems(holds: readonly Hold[]): { problems: string[]; minGap: bigint | undefined } {
  const problems: string[] = [];
  let minGap: bigint | undefined;
  for (let i = 1; i < holds.length; i++) {
    const prev = holds[i - 1];
    const next = holds[i];
    if (!prev || !next) continue;
    const gap = next.start - prev.end;
    if (gap <= 0n) problems.push(`${prev.holder} [${prev.start}, ${prev.end}] and ${next.holder} [${next.start}, ...]`);
    if (minGap === undefined || gap < minGap) minGap = gap;
    if (next.fence <= prev.fence) problems.push(`fence ${next.fence} (${next.holder}) after ${prev.fence}`);
  }
  return { problems, minGap };
}
