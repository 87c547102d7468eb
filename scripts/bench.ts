// npm run bench [-- --runs N] [--long] [--only SECTION,...] [--binary FILE] [--baseline FILE]
//                  [--queue-sizes 32,96] [--queue-scenarios handoff,idle,semaphore,contention] [--queue-idle SECONDS]
//
// Every figure of issue 15, each next to its kubectl counterpart and the goal, as ratios of medians measured
// in one run on one machine (absolute times on a shared machine are noise; ratios measured side by side are
// not). Never a test: nothing here asserts a time.
//
//   startup          `kubectl cmlock --help` vs `kubectl version --client` (warm and cold code cache, direct)
//   library          issue 16: `import('kubectl-cmlock')` vs the executable's start-up (scripts/bench/library.ts)
//   ls               `ls` with 3 locks vs `kubectl get cm -l app.kubernetes.io/managed-by=kubectl-cmlock`
//   all-namespaces   `ls -A` over 20 namespaces of 50 locks and 50 other ConfigMaps each: time and peak RSS
//   scale            3,000 locks among 3,000 other ConfigMaps: `ls`, `-o wide|json|yaml|name`, time and RSS
//   one-shot         acquire (free lock), release, describe, renew vs kubectl create, delete, get, annotate
//   requests         API requests per command, counted by the API server (apiserver_request_total)
//   idle             RSS of run, wait and ls -w while holding/watching, vs kubectl get -w and a bare Node;
//                    --long samples them for 10 minutes to show whether memory stays flat
//   queue            issues 13 and 14 (scripts/bench/queue.ts): requests per handoff and handoff latency with 32
//                    and 96 waiters in line, an idle waiter's requests per 20 s, requests per acquisition of a
//                    semaphore of 3 and of one exclusive lock, each under 20 contenders; --baseline FILE (an
//                    executable of a version without the queue) runs each beside the current one. 96 waiters
//                    need ~4 GB of memory.
//
// Beside start-up, ls, the one-shot commands and idle it also prints a floor: the same figure for a plugin that
// is a Node single executable doing nothing, one GET, or one watch (bench/floor.ts), what cmlock cannot go below.
//
// It builds the linux-amd64 executable from the current sources (or takes --binary, e.g. an older build),
// starts the local control plane unless it runs (and stops it again unless CMLOCK_KEEP_CLUSTER is set), seeds
// the namespaces over one HTTP/2 connection and deletes them at the end. About 6 minutes on 2 busy cores
// (`--long`: 10 more). Peak RSS needs GNU time (apt-get install time); without it only times are printed.

import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminClient, countsSince, formatCounts, requestCounts, type RequestCounts } from './apiserver.ts';
import { FLOOR_CONFIG_ENV, FLOOR_SCRIPT, writeFloorConfig } from './bench/floor.ts';
import { idleSection } from './bench/idle-section.ts';
import { benchLibraryImport } from './bench/library.ts';
import { QUEUE_NAMESPACE, QUEUE_SCENARIOS, queueSection, type QueueScenario } from './bench/queue.ts';
import { hasGnuTime, measurePairs, runOnce, type Bench, type PairResult, type Sealed } from './bench/measure.ts';
import {
  leftoverNamespaces,
  lockTemplate,
  MANAGED_BY,
  namespacesGone,
  removeNamespaces,
  seedNamespace,
} from './bench/seed.ts';
import { bundle } from './bundle.ts';
import { repoRoot, startCluster, stopCluster } from './cluster-lib.ts';
import { distDir, targetName, targets } from './packaging/config.ts';
import { say } from './packaging/log.ts';
import { baseNode } from './packaging/node-dist.ts';
import { buildSea } from './packaging/sea.ts';
import { strippedBase } from './packaging/strip.ts';

const SECTIONS = [
  'startup',
  'library',
  'ls',
  'all-namespaces',
  'scale',
  'one-shot',
  'requests',
  'idle',
  'queue',
] as const;
type Section = (typeof SECTIONS)[number];
const GOAL = 1.5;

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    long: { type: 'boolean', default: false },
    only: { type: 'string' },
    binary: { type: 'string' },
    baseline: { type: 'string' },
    'queue-sizes': { type: 'string', default: '32,96' },
    'queue-scenarios': { type: 'string', default: QUEUE_SCENARIOS.join(',') },
    'queue-idle': { type: 'string', default: '60' },
  },
});
const only = values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS];
const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
if (unknown.length) throw new Error(`unknown section ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
const wants = (s: Section): boolean => only.includes(s);
/** Runs per figure: --runs for all, else a count that keeps the whole bench to a few minutes. */
const runs = (byDefault: number): number => (values.runs ? Number(values.runs) : byDefault);

const benchDir = join(distDir, 'bench');
const pluginDir = join(benchDir, 'plugin');

/** The release build of the current sources (bundle + single executable), as build:binary makes it. */
async function buildCurrent(): Promise<string> {
  const t = targets.find((x) => targetName(x) === 'linux-amd64');
  if (!t) throw new Error('no linux-amd64 target');
  const dir = join(benchDir, 'build');
  rmSync(dir, { recursive: true, force: true });
  const { main, assets } = await bundle({ outfile: join(dir, 'bundle', 'kubectl-cmlock.cjs') });
  const output = join(dir, 'kubectl-cmlock');
  buildSea({ main, assets, executable: strippedBase(t, baseNode(t)).path, output });
  return output;
}

/**
 * The executable under test goes on PATH as a plain copy. Written in one piece by `node --build-sea`, its pages
 * sit in the page cache in large folios that the kernel maps whole on a fault: the same binary then shows up to
 * ~35 MB more peak RSS than after a copy (a trivial single executable: 75 MB fresh, 40 MB copied), which is
 * not what a user who downloaded it sees.
 */
function install(binary: string, name = 'kubectl-cmlock'): void {
  mkdirSync(pluginDir, { recursive: true });
  copyFileSync(binary, join(pluginDir, name));
  chmodSync(join(pluginDir, name), 0o755);
}

/**
 * The floors (scripts/bench/floor.ts): a plugin that is a Node single executable (same Node, same build) doing
 * nothing, sending one GET, or holding one watch; `kubectl benchfloor` is kubectl's plugin dispatch plus
 * Node's own start.
 */
function buildFloor(): string {
  const t = targets.find((x) => targetName(x) === 'linux-amd64');
  if (!t) throw new Error('no linux-amd64 target');
  const dir = join(benchDir, 'floor');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'floor.cjs'), FLOOR_SCRIPT);
  const output = join(dir, 'kubectl-benchfloor');
  buildSea({ main: join(dir, 'floor.cjs'), assets: {}, executable: strippedBase(t, baseNode(t)).path, output });
  return output;
}

const cmlock = (name: string, args: string[], extra: Partial<Bench> = {}): Bench => ({
  name,
  argv: ['kubectl', 'cmlock', ...args],
  ...extra,
});
const kubectl = (args: string[], extra: Partial<Bench> = {}): Bench => ({
  name: `kubectl ${args.join(' ')}`,
  argv: ['kubectl', ...args],
  ...extra,
});

const wallStart = Date.now();
const report: Record<string, unknown> = {};
const figures: PairResult[] = [];
const record = (section: string, results: PairResult[]): void => {
  report[section] = results;
  figures.push(...results);
};

say(`building the executable under test…`);
rmSync(pluginDir, { recursive: true, force: true });
install(values.binary ?? (await buildCurrent()));
install(buildFloor(), 'kubectl-benchfloor');
say(
  `  ${relative(repoRoot, join(pluginDir, 'kubectl-cmlock'))} (${values.binary ? `copy of ${values.binary}` : 'current sources'})`,
);
const gnuTime = hasGnuTime();
if (!gnuTime) say('  /usr/bin/time (GNU time) is missing: peak RSS is not measured (apt-get install time)');

const home = mkdtempSync(join(tmpdir(), 'cmlock-bench-home-'));
const warm = { XDG_CACHE_HOME: join(home, 'cache') };
const cold = { XDG_CACHE_HOME: '/dev/null' };
const needsCluster = only.some((s) => s !== 'startup' && s !== 'library');
const cluster = needsCluster ? await startCluster() : undefined;
const sealed: Sealed = { pluginDir, home, ...(cluster ? { kubeconfig: cluster.state.kubeconfig } : {}) };
/** The floor's server, CA and token (it reads no kubeconfig). */
const floorEnv: Record<string, string> = cluster ? { [FLOOR_CONFIG_ENV]: writeFloorConfig(home) } : {};
const api = cluster ? AdminClient.open() : undefined;
const created: string[] = [];

try {
  if (api) {
    const stale = await leftoverNamespaces(api);
    if (stale.length) {
      say(`removing ${stale.length} namespaces left by an earlier run…`);
      await removeNamespaces(api, stale);
      await namespacesGone(api, stale);
    }
  }

  if (wants('startup')) {
    const results = measurePairs(
      'start-up: help',
      [
        {
          label: 'kubectl cmlock --help',
          cmlock: cmlock('kubectl cmlock --help', ['--help'], { env: warm }),
          kubectl: kubectl(['version', '--client']),
          goal: GOAL,
        },
      ],
      sealed,
      runs(30),
      [
        cmlock('kubectl cmlock --help, no code cache', ['--help'], { env: cold }),
        { name: 'kubectl-cmlock --help (direct)', argv: [join(pluginDir, 'kubectl-cmlock'), '--help'], env: warm },
        { name: 'kubectl benchfloor (floor: a plugin that is Node doing nothing)', argv: ['kubectl', 'benchfloor'] },
        { name: 'node -e 0 (its Node alone)', argv: [process.execPath, '-e', '0'] },
      ],
    );
    record('startup', results);
  }

  if (wants('library')) {
    const cli = {
      name: 'kubectl-cmlock --help (direct, warm code cache)',
      argv: [join(pluginDir, 'kubectl-cmlock'), '--help'],
      env: { HOME: home, PATH: '/usr/bin:/bin', ...warm },
    };
    report.library = await benchLibraryImport({ runs: runs(30), cli });
  }

  // One real lock, written by the executable under test; every other lock is a copy of it.
  let template: Awaited<ReturnType<typeof lockTemplate>> | undefined;
  const small = 'cmlock-bench-3';
  if (api && only.some((s) => ['ls', 'all-namespaces', 'scale'].includes(s))) {
    await seedNamespace(api, small, { metadata: { name: 'x' } }, 0, 3);
    created.push(small);
    for (const name of ['db-migrate', 'deploy', 'drain-node']) {
      runOnce(
        cmlock('acquire', ['acquire', name, '-n', small, '--ttl', '2h', '--reason', 'bench'], { env: warm }),
        sealed,
      );
    }
    template = await lockTemplate(api, small, 'db-migrate');
  }

  if (wants('ls')) {
    const results = measurePairs(
      `ls with 3 locks (namespace ${small}, 3 other ConfigMaps)`,
      [
        {
          label: 'ls',
          cmlock: cmlock('ls', ['ls', '-n', small], { env: warm }),
          kubectl: kubectl(['get', 'cm', '-l', MANAGED_BY, '-n', small]),
          goal: GOAL,
        },
      ],
      sealed,
      runs(20),
      [
        {
          name: 'kubectl benchfloor get (floor: a plugin that is Node sending the same GET)',
          argv: ['kubectl', 'benchfloor', 'get', `/api/v1/namespaces/${small}/configmaps?labelSelector=${MANAGED_BY}`],
          env: floorEnv,
        },
      ],
    );
    record('ls', results);
  }

  if (api && template && wants('all-namespaces')) {
    const namespaces = Array.from({ length: 20 }, (_, i) => `cmlock-bench-ns-${String(i + 1).padStart(2, '0')}`);
    const t = performance.now();
    for (const ns of namespaces) {
      await seedNamespace(api, ns, template, 50, 50);
      created.push(ns);
    }
    say(
      `\nseeded 20 namespaces × (50 locks + 50 other ConfigMaps) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const results = measurePairs(
      'ls -A across 20 namespaces (1,000 locks + the 3 above, 1,000 other ConfigMaps)',
      [
        {
          label: 'ls -A',
          cmlock: cmlock('ls -A', ['ls', '-A'], { env: warm }),
          kubectl: kubectl(['get', 'cm', '-A', '-l', MANAGED_BY]),
          goal: GOAL,
          rssGoal: true,
        },
      ],
      sealed,
      runs(10),
    );
    record('all-namespaces', results);
    await removeNamespaces(api, namespaces);
  }

  if (api && template && wants('scale')) {
    const ns = 'cmlock-bench-scale';
    const seeded = await seedNamespace(api, ns, template, 3000, 3000);
    created.push(ns);
    say(
      `\nseeded ${ns}: 3,000 locks + 3,000 other ConfigMaps in ${(seeded.ms / 1000).toFixed(1)} s (one HTTP/2 connection)`,
    );
    const pair = (label: string, output: string[]) => ({
      label,
      cmlock: cmlock(label, ['ls', '-n', ns, ...output], { env: warm }),
      kubectl: kubectl(['get', 'cm', '-l', MANAGED_BY, '-n', ns, ...output]),
      goal: GOAL,
      rssGoal: true,
    });
    const results = measurePairs(
      'ls at scale: 3,000 locks among 3,000 other ConfigMaps in one namespace',
      [
        pair('ls', []),
        pair('ls -o wide', ['-o', 'wide']),
        pair('ls -o json', ['-o', 'json']),
        pair('ls -o yaml', ['-o', 'yaml']),
        pair('ls -o name', ['-o', 'name']),
      ],
      sealed,
      runs(10),
    );
    record('scale', results);
    await removeNamespaces(api, [ns]);
  }

  const oneShotNs = 'cmlock-bench-oneshot';
  if (api && (wants('one-shot') || wants('requests'))) {
    await seedNamespace(api, oneShotNs, { metadata: { name: 'x' } }, 0, 0);
    created.push(oneShotNs);
    runOnce(cmlock('acquire', ['acquire', 'held', '-n', oneShotNs, '--ttl', '2h'], { env: warm }), sealed);
  }
  const n = ['-n', oneShotNs];
  const oneShot = [
    {
      label: 'acquire (free lock)',
      cmlock: cmlock('acquire', ['acquire', 'free-c', ...n, '--ttl', '1h'], { env: warm }),
      kubectl: kubectl(['create', 'configmap', 'free-k', ...n]),
      goal: GOAL,
    },
    {
      label: 'release',
      cmlock: cmlock('release', ['release', 'free-c', ...n], { env: warm }),
      kubectl: kubectl(['delete', 'configmap', 'free-k', ...n]),
      goal: GOAL,
    },
    {
      label: 'describe',
      cmlock: cmlock('describe', ['describe', 'held', ...n], { env: warm }),
      kubectl: kubectl(['get', 'configmap', 'held', ...n]),
      goal: GOAL,
    },
    {
      label: 'renew',
      cmlock: cmlock('renew', ['renew', 'held', ...n], { env: warm }),
      // An update of the same ConfigMap: read, then write (kubectl: GET + PATCH).
      kubectl: kubectl(['annotate', 'configmap', 'held', 'bench=1', '--overwrite', ...n]),
      goal: GOAL,
    },
  ];
  if (api && wants('one-shot')) {
    const floor = {
      name: 'kubectl benchfloor get (floor: a plugin that is Node reading the lock)',
      argv: ['kubectl', 'benchfloor', 'get', `/api/v1/namespaces/${oneShotNs}/configmaps/held`],
      env: floorEnv,
    };
    record('one-shot', measurePairs(`one-shot commands (namespace ${oneShotNs})`, oneShot, sealed, runs(15), [floor]));
  }

  if (api && wants('requests')) {
    const resources = ['configmaps', 'events', 'selfsubjectreviews', 'pods', 'namespaces'];
    const rounds = 3;
    const steps = [...oneShot.flatMap((p) => [p.kubectl, p.cmlock]), cmlock('ls', ['ls', ...n], { env: warm })];
    const totals: RequestCounts[] = steps.map(() => ({}));
    for (let i = 0; i < rounds; i++) {
      for (const [j, step] of steps.entries()) {
        const before = await requestCounts(api, resources);
        runOnce(step, sealed);
        const total = totals[j] ?? {};
        for (const [k, v] of Object.entries(countsSince(before, await requestCounts(api, resources)))) {
          total[k] = (total[k] ?? 0) + v;
        }
      }
    }
    say(
      `\nAPI requests per command in namespace ${oneShotNs} (apiserver_request_total, average of ${rounds}; ` +
        `${resources.join(', ')})`,
    );
    const names = steps.map((s) => s.argv.join(' ').replace(` -n ${oneShotNs}`, ''));
    const width = Math.max(...names.map((x) => x.length));
    names.forEach((name, j) => say(`  ${name.padEnd(width)}  ${formatCounts(totals[j] ?? {}, rounds)}`));
    report.requests = steps.map((s, j) => ({ argv: s.argv, perCommand: totals[j] }));
  }

  if (api && wants('idle')) {
    report.idle = await idleSection(api, sealed, warm, values.long ?? false, floorEnv);
    created.push('cmlock-bench-idle');
  }

  if (api && cluster && wants('queue')) {
    const scenarios = values['queue-scenarios'].split(',').map((x) => x.trim()) as QueueScenario[];
    const bad = scenarios.filter((x) => !(QUEUE_SCENARIOS as readonly string[]).includes(x));
    if (bad.length) throw new Error(`unknown queue scenario ${bad.join(', ')}; known: ${QUEUE_SCENARIOS.join(', ')}`);
    created.push(QUEUE_NAMESPACE);
    report.queue = await queueSection({
      api,
      executables: [
        ...(values.baseline ? [{ label: 'baseline', path: values.baseline }] : []),
        { label: 'current', path: join(pluginDir, 'kubectl-cmlock') },
      ],
      kubeconfig: cluster.state.kubeconfig,
      home,
      scenarios,
      sizes: values['queue-sizes'].split(',').map(Number),
      idleMs: Number(values['queue-idle']) * 1000,
      outDir: benchDir,
    });
  }
} finally {
  if (api) {
    await removeNamespaces(api, created);
    api.close();
  }
  rmSync(home, { recursive: true, force: true });
  if (cluster?.started && !process.env.CMLOCK_KEEP_CLUSTER) await stopCluster();
}

const over = figures.flatMap((f) => [
  ...(f.timeRatio > f.timeGoal ? [`${f.label} time ${f.timeRatio.toFixed(2)}×`] : []),
  ...(f.rssRatio !== undefined && f.rssGoal !== undefined && f.rssRatio > f.rssGoal
    ? [`${f.label} peak RSS ${f.rssRatio.toFixed(2)}×`]
    : []),
]);
say(`\n${figures.length} figures against kubectl; over the goal: ${over.length ? over.join(', ') : 'none'}`);
say(
  `bench took ${((Date.now() - wallStart) / 1000).toFixed(0)} s; raw numbers in ${relative(repoRoot, join(benchDir, 'results.json'))}`,
);
writeFileSync(
  join(benchDir, 'results.json'),
  JSON.stringify({ gnuTime, runsOverride: values.runs, ...report }, null, 2),
);
