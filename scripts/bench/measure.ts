// How npm run bench times commands and reads their peak memory, and how it prints the results: every command
// runs in a sealed environment (only PATH, HOME, KUBECONFIG and what the bench sets), commands that are
// compared run round-robin in one loop (drift on a busy machine hits all alike), and each figure is printed as
// a ratio of medians next to its kubectl counterpart and the goal.
//
// Peak RSS is ru_maxrss from wait4 as GNU time reports it (`/usr/bin/time -f %M`): the largest resident set of
// the process over its life, exec included, and of the children it waited for. kubectl execs a plugin in
// place, so for `kubectl cmlock ...` it is the plugin's peak (or kubectl's own before the exec, if larger);
// none of the measured one-shot commands has more than one process at a time, so the peak of the tree is the
// peak of that process. File pages of the executable that the process touched count too: see bench.ts on why
// the executable under test is a plain copy.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { say } from '../packaging/log.ts';

export const GNU_TIME = '/usr/bin/time';
export const hasGnuTime = (): boolean =>
  existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;

export interface Bench {
  /** How the tables name it. */
  name: string;
  argv: string[];
  /** Exit codes that count as success (default [0]). */
  codes?: number[];
  /** Extra environment (XDG_CACHE_HOME for the code cache, ...). */
  env?: Record<string, string>;
}

export interface Sealed {
  /** Directory put first on PATH (where kubectl finds kubectl-cmlock). */
  pluginDir: string;
  home: string;
  kubeconfig?: string;
}

const which = (cmd: string): string =>
  spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const kubectlDir = (): string => dirname(realpathSync(which('kubectl')));

export function sealedEnv(s: Sealed, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: [s.pluginDir, kubectlDir(), '/usr/bin', '/bin'].join(':'),
    HOME: s.home,
    LANG: 'C.UTF-8',
    ...(s.kubeconfig ? { KUBECONFIG: s.kubeconfig } : {}),
    ...extra,
  };
}

export interface Sample {
  wallMs: number;
  /** Peak RSS in KiB; undefined without GNU time. */
  rssKiB?: number;
}

/** Runs one command to completion; throws on an unexpected exit code (a benchmark of an error is no benchmark). */
export function runOnce(b: Bench, s: Sealed): Sample {
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-bench-run-'));
  try {
    const out = join(dir, 'rss');
    const timed = hasGnuTimeCached();
    const [cmd = '', ...args] = timed ? [GNU_TIME, '-f', '%M', '-o', out, ...b.argv] : b.argv;
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, {
      env: sealedEnv(s, b.env),
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (!(b.codes ?? [0]).includes(r.status ?? -1)) {
      throw new Error(`${b.name}: exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().slice(0, 500)}`);
    }
    const rss = timed ? Number(readFileSync(out, 'utf8').trim().split('\n').pop()) : undefined;
    return { wallMs, ...(rss !== undefined && Number.isFinite(rss) ? { rssKiB: rss } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let gnuTime: boolean | undefined;
function hasGnuTimeCached(): boolean {
  gnuTime ??= hasGnuTime();
  return gnuTime;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export interface Measured {
  name: string;
  argv: string[];
  wallMs: number;
  rssMiB?: number;
  runs: number;
}

/**
 * Runs every bench `runs` times (after `warmup` rounds that are not counted), round-robin in the given order,
 * so a group whose commands change state (acquire, then release) stays consistent.
 */
export function measureGroup(benches: readonly Bench[], s: Sealed, runs: number, warmup = 1): Measured[] {
  const samples: Sample[][] = benches.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    benches.forEach((b, j) => {
      const sample = runOnce(b, s);
      if (i >= warmup) samples[j]?.push(sample);
    });
  }
  return benches.map((b, j) => {
    const xs = samples[j] ?? [];
    const rss = xs.map((x) => x.rssKiB).filter((x): x is number => x !== undefined);
    return {
      name: b.name,
      argv: b.argv,
      wallMs: median(xs.map((x) => x.wallMs)),
      ...(rss.length ? { rssMiB: median(rss) / 1024 } : {}),
      runs: xs.length,
    };
  });
}

/** One figure of the issue: a cmlock command against its kubectl counterpart, with the goal for the ratio. */
export interface Pair {
  /** Short name in the table (`ls -o wide`). */
  label: string;
  cmlock: Bench;
  kubectl: Bench;
  /** Goal for cmlock/kubectl (1.5 in issue 15). */
  goal: number;
  /** Also compare peak RSS against the same goal. */
  rssGoal?: boolean;
}

export interface PairResult {
  label: string;
  cmlock: Measured;
  kubectl: Measured;
  timeRatio: number;
  timeGoal: number;
  rssRatio?: number;
  rssGoal?: number;
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;
const mibText = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(0)} MB`);
const verdict = (ratio: number, goal: number): string => `${ratio.toFixed(2)}× ${ratio <= goal ? 'ok ' : 'OVER'}`;

/** Measures the pairs in one interleaved loop (kubectl, cmlock, kubectl, cmlock, ...) and prints one table. */
export function measurePairs(
  title: string,
  pairs: readonly Pair[],
  s: Sealed,
  runs: number,
  extra: readonly Bench[] = [],
): PairResult[] {
  const benches = pairs.flatMap((p) => [p.kubectl, p.cmlock]).concat(extra);
  say(`\n${title} (median of ${runs} runs, round-robin)`);
  const m = measureGroup(benches, s, runs);
  const results = pairs.map((p, i): PairResult => {
    const k = m[2 * i] as Measured;
    const c = m[2 * i + 1] as Measured;
    const rssRatio = c.rssMiB !== undefined && k.rssMiB !== undefined ? c.rssMiB / k.rssMiB : undefined;
    return {
      label: p.label,
      cmlock: c,
      kubectl: k,
      timeRatio: c.wallMs / k.wallMs,
      timeGoal: p.goal,
      ...(p.rssGoal && rssRatio !== undefined ? { rssRatio, rssGoal: p.goal } : {}),
    };
  });
  const width = Math.max(...results.map((r) => r.label.length), ...extra.map((e) => e.name.length), 12);
  // Peak RSS is printed wherever it was measured; judged against the goal only where the issue sets one.
  const rss = results.some((r) => r.cmlock.rssMiB !== undefined);
  say(
    `  ${'cmlock'.padEnd(width)}  ${'time'.padStart(8)} ${'kubectl'.padStart(8)}  ratio (goal)` +
      (rss ? `        ${'peak RSS'.padStart(8)} ${'kubectl'.padStart(8)}  ratio (goal)` : ''),
  );
  for (const r of results) {
    const time = `${ms(r.cmlock.wallMs).padStart(8)} ${ms(r.kubectl.wallMs).padStart(8)}  ${verdict(r.timeRatio, r.timeGoal)} (≤${r.timeGoal}×)`;
    const memRatio =
      r.rssRatio !== undefined && r.rssGoal !== undefined
        ? `  ${verdict(r.rssRatio, r.rssGoal)} (≤${r.rssGoal}×)`
        : r.cmlock.rssMiB !== undefined && r.kubectl.rssMiB !== undefined
          ? `  ${(r.cmlock.rssMiB / r.kubectl.rssMiB).toFixed(2)}× (no goal)`
          : '';
    const mem = rss
      ? `  ${mibText(r.cmlock.rssMiB).padStart(8)} ${mibText(r.kubectl.rssMiB).padStart(8)}${memRatio}`
      : '';
    say(`  ${r.label.padEnd(width)}  ${time}${mem}`);
  }
  const base = m[0] as Measured;
  for (const e of m.slice(2 * pairs.length)) {
    say(
      `  ${e.name.padEnd(width)}  ${ms(e.wallMs).padStart(8)} ${''.padStart(8)}  ${(e.wallMs / base.wallMs).toFixed(2)}× of ${base.name}` +
        (e.rssMiB !== undefined ? `; ${mibText(e.rssMiB)}` : ''),
    );
  }
  for (const p of pairs) say(`    ${p.label.padEnd(width)}  vs  ${p.kubectl.argv.join(' ')}`);
  return results;
}
