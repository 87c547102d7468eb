// npm run bench [-- --runs N]
// Start-up of the single executable side by side with kubectl, as ratios of medians (absolute times on a
// shared machine are noise; ratios measured in the same run are not). Builds two linux-amd64 variants of
// the current sources under dist/bench/, each run with its per-user code cache warm and cold:
//   deferred   the release build: client-node kept out of the application script, loaded on first use
//   single     everything in one application script
//   warm       the code cache of an earlier run (every run after the first one on a machine)
//   cold       no code cache (the first run; or a cache directory that cannot be written)
// With CMLOCK_BENCH_KUBECONFIG (e.g. .cluster/kubeconfig) it also times `kubectl cmlock ls` against
// `kubectl get configmaps` (namespace: CMLOCK_BENCH_NAMESPACE, default "default").
// Uses hyperfine when it is installed (apt-get install hyperfine), else its own interleaved loop.
// Never a test: timings are reported, not asserted.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchLibraryImport } from './bench/library.ts';
import { bundle } from './bundle.ts';
import { distDir, targetName, targets } from './packaging/config.ts';
import { say } from './packaging/log.ts';
import { baseNode } from './packaging/node-dist.ts';
import { buildSea } from './packaging/sea.ts';
import { strippedBase } from './packaging/strip.ts';

interface Build {
  name: string;
  defer: boolean;
}

const builds: Build[] = [
  { name: 'deferred', defer: true },
  { name: 'single', defer: false },
];

interface Variant {
  name: string;
  dir: string;
  /** XDG_CACHE_HOME for the runs: a real directory (warm after the checks), or /dev/null (no cache). */
  cache: string;
}

interface Bench {
  name: string;
  argv: string[];
  /** The directory put first on PATH (where kubectl finds `kubectl-cmlock`). */
  pluginDir?: string;
  cache?: string;
}

const benchDir = join(distDir, 'bench');
const which = (cmd: string): string =>
  spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

async function buildVariant(v: Build): Promise<string> {
  const t = targets.find((x) => targetName(x) === 'linux-amd64');
  if (!t) throw new Error('no linux-amd64 target');
  const dir = join(benchDir, v.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const { main, assets } = await bundle({ outfile: join(dir, 'bundle', 'kubectl-cmlock.cjs'), defer: v.defer });
  const base = strippedBase(t, baseNode(t)).path;
  buildSea({ main, assets, executable: base, output: join(dir, 'bin', 'kubectl-cmlock') });
  return join(dir, 'bin');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Every command runs through `env -i` with a sealed environment, so all pay the same small overhead. */
function sealed(b: Bench, env: Record<string, string>): string[] {
  const kubectlDir = dirname(realpathSync(which('kubectl')));
  const path = [...(b.pluginDir ? [b.pluginDir] : []), kubectlDir, '/usr/bin', '/bin'].join(':');
  const vars = { ...env, ...(b.cache ? { XDG_CACHE_HOME: b.cache } : {}) };
  return ['/usr/bin/env', '-i', `PATH=${path}`, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ...b.argv];
}

function check(b: Bench, env: Record<string, string>): void {
  const [cmd = '', ...args] = sealed(b, env);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${b.name} exited ${r.status}: ${r.stderr}`);
}

/** Median wall time and, when known, mean CPU time (user + system) per command, in ms. */
interface Timing {
  wall: number;
  cpu?: number;
}

function withHyperfine(benches: Bench[], env: Record<string, string>, runs: number): Timing[] {
  const out = join(mkdtempSync(join(tmpdir(), 'cmlock-bench-')), 'hyperfine.json');
  const args = ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', out, '--style', 'none'];
  for (const b of benches) args.push('--command-name', b.name, sealed(b, env).join(' '));
  const r = spawnSync('hyperfine', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`hyperfine exited ${r.status}`);
  type Result = { median: number; user: number; system: number };
  const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: Result[] }).results;
  rmSync(dirname(out), { recursive: true, force: true });
  return results.map((x) => ({ wall: x.median * 1000, cpu: (x.user + x.system) * 1000 }));
}

/** Round-robin, so drift on a busy machine hits every command alike. */
function withLoop(benches: Bench[], env: Record<string, string>, runs: number): Timing[] {
  const times: number[][] = benches.map(() => []);
  for (let i = 0; i < runs + 3; i++) {
    benches.forEach((b, j) => {
      const [cmd = '', ...args] = sealed(b, env);
      const start = process.hrtime.bigint();
      spawnSync(cmd, args, { stdio: 'ignore' });
      if (i >= 3) times[j]?.push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return times.map((t) => ({ wall: median(t) }));
}

function measure(title: string, benches: Bench[], env: Record<string, string>, runs: number): object {
  for (const b of benches) check(b, env);
  const tool = which('hyperfine') ? 'hyperfine' : 'loop';
  say(`\n${title} — median of ${runs} runs (${tool})`);
  const timings = tool === 'hyperfine' ? withHyperfine(benches, env, runs) : withLoop(benches, env, runs);
  const base = timings[0] ?? { wall: 1 };
  const rows = benches.map((b, i) => {
    const t = timings[i] ?? { wall: 0 };
    const known = t.cpu !== undefined && base.cpu !== undefined;
    return {
      command: b.name,
      wallMs: t.wall,
      ratio: t.wall / base.wall,
      cpuMs: known ? t.cpu : undefined,
      cpuRatio: known ? (t.cpu ?? 0) / (base.cpu ?? 1) : undefined,
    };
  });
  const width = Math.max(...rows.map((r) => r.command.length));
  say(`  ${''.padEnd(width)}  wall median       CPU (user+sys)`);
  for (const r of rows) {
    const cpu =
      r.cpuMs !== undefined && r.cpuRatio !== undefined
        ? `  ${r.cpuMs.toFixed(1).padStart(7)} ms  ${r.cpuRatio.toFixed(2)}×`
        : '';
    say(`  ${r.command.padEnd(width)}  ${r.wallMs.toFixed(1).padStart(7)} ms  ${r.ratio.toFixed(2)}×${cpu}`);
  }
  return { title, tool, runs, rows };
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);
say('building the benchmark variants (linux-amd64)…');
const home = mkdtempSync(join(tmpdir(), 'cmlock-bench-home-'));
const variants: Variant[] = [];
for (const b of builds) {
  const dir = await buildVariant(b);
  variants.push({ name: `${b.name}, warm`, dir, cache: join(home, 'cache', b.name) });
  variants.push({ name: `${b.name}, cold`, dir, cache: '/dev/null' });
}
const reports: object[] = [];
try {
  const startup: Bench[] = [
    { name: 'kubectl version --client', argv: ['kubectl', 'version', '--client'] },
    ...variants.map((v) => ({
      name: `kubectl cmlock --help [${v.name}]`,
      argv: ['kubectl', 'cmlock', '--help'],
      pluginDir: v.dir,
      cache: v.cache,
    })),
    ...variants.map((v) => ({
      name: `kubectl-cmlock --help [${v.name}] (direct)`,
      argv: [join(v.dir, 'kubectl-cmlock'), '--help'],
      cache: v.cache,
    })),
    { name: 'node -e 0 (Node 26, no application)', argv: [process.execPath, '-e', '0'] },
  ];
  reports.push(measure('start-up: help', startup, { HOME: home }, runs));

  // Issue 16: importing the library costs under a third of the CLI's start-up (scripts/bench/library.ts).
  const release = variants.find((v) => v.name === 'deferred, warm');
  if (release) {
    const cli = {
      name: `kubectl-cmlock --help [${release.name}] (direct)`,
      argv: [join(release.dir, 'kubectl-cmlock'), '--help'],
      env: { HOME: home, XDG_CACHE_HOME: release.cache, PATH: '/usr/bin:/bin' },
    };
    reports.push({ title: 'library import', ...(await benchLibraryImport({ runs, cli })) });
  }

  const kubeconfig = process.env.CMLOCK_BENCH_KUBECONFIG;
  if (kubeconfig) {
    const ns = process.env.CMLOCK_BENCH_NAMESPACE || 'default';
    const api: Bench[] = [
      { name: `kubectl get configmaps -n ${ns}`, argv: ['kubectl', 'get', 'configmaps', '-n', ns] },
      ...variants.map((v) => ({
        name: `kubectl cmlock ls -n ${ns} [${v.name}]`,
        argv: ['kubectl', 'cmlock', 'ls', '-n', ns],
        pluginDir: v.dir,
        cache: v.cache,
      })),
    ];
    reports.push(
      measure('against the API server: list', api, { HOME: home, KUBECONFIG: realpathSync(kubeconfig) }, runs),
    );
  } else {
    say('\n(set CMLOCK_BENCH_KUBECONFIG to also time `kubectl cmlock ls` against `kubectl get configmaps`)');
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
writeFileSync(join(benchDir, 'results.json'), JSON.stringify(reports, null, 2));
say(`\nratios are to the first line of each table; raw numbers in ${join('dist', 'bench', 'results.json')}`);
