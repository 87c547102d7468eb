// npm run bench, the library's figure (issue 16): what `await import('kubectl-cmlock')` costs a program, beside
// the CLI's start-up, measured in the same run, interleaved, as medians of fresh processes. The goal: under a third.
//   import, in process   performance.now() around the import() of dist/lib/index.js, in a fresh Node each time
//   CLI start-up         the command bench.ts passes (the release executable's `--help`, code cache warm), wall
//   client-node          importing @kubernetes/client-node, for scale: what the library defers to a Lock's first call
// Reported, never asserted. Kept apart from bench.ts so that its tables can change without touching this.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLib, libDir } from '../build-lib.ts';
import { say } from '../packaging/log.ts';
import { repoRoot } from '../paths.ts';

export interface LibraryBenchOptions {
  runs: number;
  /** The CLI start-up to compare with: a command line and its environment. */
  cli: { name: string; argv: string[]; env: Record<string, string> };
}

export interface LibraryBenchResult {
  importInProcessMs: number;
  cliWallMs: number;
  clientNodeInProcessMs: number;
  /** importInProcessMs / cliWallMs: the figure with the goal < 1/3. */
  ratio: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** Milliseconds spent in `await import(url)`, printed by a fresh Node. */
const importTimer = (url: string): string[] => [
  process.execPath,
  '--input-type=module',
  '-e',
  `const t = performance.now(); await import(${JSON.stringify(url)}); console.log(performance.now() - t);`,
];

function wall(argv: string[], env: Record<string, string>): { ms: number; stdout: string } {
  const [cmd = '', ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', cwd: repoRoot });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

export async function benchLibraryImport(o: LibraryBenchOptions): Promise<LibraryBenchResult> {
  await buildLib();
  const lib = pathToFileURL(join(libDir, 'index.js')).href;
  const clientNode = import.meta.resolve('@kubernetes/client-node');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.cli.env.HOME ?? '/nonexistent' };
  const samples = { lib: [] as number[], cli: [] as number[] };
  const clientNodeMs: number[] = [];
  // Round-robin, three warm-up rounds, so that drift on a busy machine hits every figure alike.
  for (let i = 0; i < o.runs + 3; i++) {
    const libRun = wall(importTimer(lib), env);
    const cliRun = wall(o.cli.argv, o.cli.env);
    const clientNodeRun = wall(importTimer(clientNode), env);
    if (i < 3) continue;
    samples.lib.push(Number(libRun.stdout));
    samples.cli.push(cliRun.ms);
    clientNodeMs.push(Number(clientNodeRun.stdout));
  }
  const result: LibraryBenchResult = {
    importInProcessMs: median(samples.lib),
    cliWallMs: median(samples.cli),
    clientNodeInProcessMs: median(clientNodeMs),
    ratio: median(samples.lib) / median(samples.cli),
  };
  const rows: [string, number][] = [
    ["import('kubectl-cmlock'), in process", result.importInProcessMs],
    [o.cli.name, result.cliWallMs],
    ["import('@kubernetes/client-node'), in process (what a Lock loads on first use)", result.clientNodeInProcessMs],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  say(`\nlibrary: importing the entry point vs the CLI's start-up — median of ${o.runs} runs (loop)`);
  for (const [name, value] of rows) say(`  ${name.padEnd(width)}  ${value.toFixed(1).padStart(7)} ms`);
  say(`  import in process / CLI start-up: ${result.ratio.toFixed(3)} (goal: under 0.333)`);
  return result;
}
