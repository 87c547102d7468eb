// The bench's queue section (issues 13 and 14: the FIFO queue, semaphores and shared locks), counted by the API
// server itself (apiserver_request_total, ConfigMaps, every verb but WATCH) and measured side by side in one run:
// with `--baseline FILE` (an executable built from a version without the queue) every scenario runs with both
// executables and the table shows both columns and their ratio. Never a test: nothing here asserts a time.
//
//   handoff      N waiters (each a real `kubectl-cmlock run LOCK -- true` process) queue behind a held lock; the
//                holder releases and the line drains. Requests per handoff (the release's read and write, and the
//                next holder's own: the window opens once all N wait), handoff latency (from the watch event of the
//                release, an offer or a deletion, to that of the next holder holding: both reach the benchmark's
//                watch the same way), requests per waiter to get in line, and whether they were served in arrival
//                order (pairs served against the order of the queue's record).
//   idle         8 waiters behind a lock nobody releases: requests in 20 s (measured over --queue-idle seconds,
//                once their first heartbeats, 22.5 to 30 s after joining, are past).
//   semaphore    20 processes `run --limit 3` at once, each holding 0.2 s: requests per acquisition, and the most
//                that held at once (from their own start and end times on the machine's clock).
//   contention   20 processes `run` on one exclusive lock at once, each holding 50 ms: requests per acquisition.
//
// Each waiter is an executable of its own (about 40 MB private memory): 96 need about 4 GB, and 2 busy cores.
// The executables are run directly (not through kubectl) so that kubectl's own start does not blur the latency.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countsSince, requestCounts, type AdminClient, type RequestCounts } from '../apiserver.ts';
import { say } from '../packaging/log.ts';
import { createNamespace } from './seed.ts';

export const QUEUE_SCENARIOS = ['handoff', 'idle', 'semaphore', 'contention'] as const;
export type QueueScenario = (typeof QUEUE_SCENARIOS)[number];

export interface QueueBenchOptions {
  api: AdminClient;
  /** The executables to compare, e.g. baseline then current; one column each. */
  executables: { label: string; path: string }[];
  kubeconfig: string;
  home: string;
  scenarios: readonly QueueScenario[];
  /** Queue lengths of the handoff scenario. */
  sizes: readonly number[];
  idleMs: number;
  /** Where the watch events of each handoff run are written, for a closer look. */
  outDir: string;
}

type Row = Record<string, number | string>;
/** Title -> executable label -> figures. */
export type QueueReport = Record<string, Record<string, Row>>;

export const QUEUE_NAMESPACE = 'cmlock-bench-queue';

interface WatchedEvent {
  type: string;
  /** When it reached the benchmark (wall-clock ms, sub-ms precision). */
  at: number;
  object: { metadata: { resourceVersion: string }; data?: Record<string, string> };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.timeOrigin + performance.now();

/** One kubectl-cmlock process: its stderr, when it first said it waits, how it ended. */
class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr = '';
  waitingAt: number | undefined;

  constructor(bin: string, args: string[], env: Record<string, string>) {
    const [command = '', ...rest] = args;
    this.child = spawn(bin, [command, '-n', QUEUE_NAMESPACE, ...rest], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      if (this.waitingAt === undefined && this.stderr.includes('waiting for lock')) this.waitingAt = now();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Private memory in MB (RssAnon: the executable's pages are shared by every waiter). */
  privateMb(): number {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      return Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 300_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`queue: timed out waiting for ${what}`);
    await sleep(25);
  }
}

function waitersIn(e: WatchedEvent | undefined): string[] {
  const text = e?.object.data?.['waiters'];
  return text === undefined ? [] : (JSON.parse(text) as { identity: string }[]).map((w) => w.identity);
}

/**
 * Handoffs as the watch saw them: from the event that ends a hold (a deletion, or a record naming someone else:
 * an offer) to the event of the next hold (a record with a new acquisition, not an offer). Also the order in which
 * they held, and (from the queue in the record) the order in which they joined it.
 */
function handoffsOf(events: WatchedEvent[]): { latencies: number[]; held: string[]; joined: string[] } {
  const latencies: number[] = [];
  const held: string[] = [];
  const joined: string[] = [];
  let current: string | undefined;
  let releasedAt: number | undefined;
  for (const e of events) {
    for (const id of waitersIn(e)) if (!joined.includes(id)) joined.push(id);
    const data = e.object.data ?? {};
    const acquisition = e.type === 'DELETED' ? undefined : data['acquisitionId'];
    const offered = data['handoff'] === 'offered';
    if (current === undefined && releasedAt === undefined) {
      current = acquisition; // the first event: the holder the benchmark put there
      continue;
    }
    if (releasedAt === undefined && acquisition !== current) releasedAt = e.at;
    if (releasedAt !== undefined && acquisition !== undefined && acquisition !== current && !offered) {
      latencies.push(e.at - releasedAt);
      held.push(data['holderIdentity'] ?? '');
      current = acquisition;
      releasedAt = undefined;
    }
  }
  return { latencies, held, joined };
}

/** Pairs served against the order they came in. */
function inversions(arrived: string[], served: string[]): number {
  const rank = new Map(arrived.map((id, i) => [id, i]));
  const order = served.map((id) => rank.get(id)).filter((r): r is number => r !== undefined);
  let n = 0;
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) if ((order[i] ?? 0) > (order[j] ?? 0)) n++;
  }
  return n;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN);
}

/** ConfigMap requests between two readings, every verb but WATCH (counted when a watch ends): total and 409s. */
function spent(
  before: RequestCounts,
  after: RequestCounts,
): { total: number; conflicts: number; byVerb: Record<string, number> } {
  let total = 0;
  let conflicts = 0;
  const byVerb: Record<string, number> = {};
  for (const [key, n] of Object.entries(countsSince(before, after))) {
    if (key.startsWith('WATCH ')) continue;
    total += n;
    if (key.endsWith(' 409')) conflicts += n;
    const [verb = '', , code = ''] = key.split(' ');
    byVerb[`${verb} ${code}`] = (byVerb[`${verb} ${code}`] ?? 0) + n;
  }
  return { total, conflicts, byVerb };
}

/** `2.00 PUT 200, 1.00 GET 200` per `n`. */
const perVerb = (byVerb: Record<string, number>, n: number): string =>
  Object.entries(byVerb)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${(v / n).toFixed(2)} ${k}`)
    .join(', ');

export async function queueSection(o: QueueBenchOptions): Promise<QueueReport> {
  const { api } = o;
  await createNamespace(api, QUEUE_NAMESPACE);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.home, KUBECONFIG: o.kubeconfig, LANG: 'C.UTF-8' };
  const everyProc: Proc[] = [];
  const proc = (bin: string, args: string[]): Proc => {
    const p = new Proc(bin, args, env);
    everyProc.push(p);
    return p;
  };
  const counts = () => requestCounts(api, ['configmaps'], { byCode: true });
  const ok = async (bin: string, args: string[]): Promise<void> => {
    const p = proc(bin, args);
    const code = await p.exited;
    if (code !== 0) throw new Error(`kubectl-cmlock ${args.join(' ')}: exit ${code}: ${p.stderr}`);
  };
  const allExit = async (procs: Proc[]): Promise<void> => {
    const codes = await Promise.all(procs.map((p) => p.exited));
    const failed = procs.filter((_, i) => codes[i] !== 0);
    if (failed.length > 0) throw new Error(`${failed.length} processes failed: ${failed[0]?.stderr}`);
  };
  /** `count` processes, eight at a time, each batch once the one before it waits (the machine has 2 cores). */
  const startWaiters = async (bin: string, count: number, args: string[]): Promise<Proc[]> => {
    const procs: Proc[] = [];
    for (let i = 0; i < count; i++) {
      procs.push(proc(bin, args));
      if (i % 8 === 7) await until('a batch of waiters', () => procs.every((p) => p.waitingAt !== undefined));
    }
    await until('every waiter waiting', () => procs.every((p) => p.waitingAt !== undefined));
    return procs;
  };
  /** The lock's watch events, from now until stop(). */
  const follow = (name: string) => {
    const events: WatchedEvent[] = [];
    const stop = new AbortController();
    const query = new URLSearchParams({ watch: '1', fieldSelector: `metadata.name=${name}` });
    const done = api.stream(
      `/api/v1/namespaces/${QUEUE_NAMESPACE}/configmaps?${query.toString()}`,
      (line, at) => events.push({ ...(JSON.parse(line) as Omit<WatchedEvent, 'at'>), at }),
      stop.signal,
    );
    return {
      events,
      stop: async () => {
        stop.abort();
        await done;
      },
    };
  };
  const unique = (prefix: string) => `${prefix}-${Math.random().toString(16).slice(2, 6)}`;

  const handoff = async (bin: string, label: string, n: number): Promise<Row> => {
    const name = unique(`handoff-${n}`);
    await ok(bin, ['acquire', name, '--identity', 'bench-holder', '--ttl', '30m']);
    const watch = follow(name);
    const before = await counts();
    const procs = await startWaiters(bin, n, ['run', name, '--timeout', '30m', '--', 'true']);
    // The queue's record says they are all in line (a version without the queue keeps none: waiting is enough).
    await until('every waiter in the queue', () => {
      const last = watch.events.at(-1);
      return last?.object.data?.['waiters'] === undefined || waitersIn(last).length === n;
    });
    const memory = quantile(
      procs.map((p) => p.privateMb()),
      0.5,
    );
    const joined = await counts();
    await ok(bin, ['release', name, '--identity', 'bench-holder']);
    await allExit(procs);
    const after = await counts();
    await sleep(200); // the last events
    await watch.stop();
    writeFileSync(
      join(o.outDir, `queue-events-${label}-${n}.json`),
      JSON.stringify(
        watch.events.map((e) => ({
          type: e.type,
          at: e.at,
          rv: e.object.metadata.resourceVersion,
          holder: e.object.data?.['holderIdentity'],
          handoff: e.object.data?.['handoff'],
          waiting: waitersIn(e).length,
        })),
        null,
        1,
      ),
    );
    const joining = spent(before, joined);
    const drain = spent(joined, after);
    const { latencies, held, joined: queueOrder } = handoffsOf(watch.events);
    // Arrival: the order they joined the queue's record; without a queue, the order they said they wait.
    const byPid = new Map(procs.map((p) => [String(p.child.pid), p]));
    const waitingAt = (id: string) => byPid.get(/run-(\d+)-/.exec(id)?.[1] ?? '')?.waitingAt ?? 0;
    const arrived = queueOrder.length > 0 ? queueOrder : [...held].sort((a, b) => waitingAt(a) - waitingAt(b));
    return {
      'requests / handoff': drain.total / n,
      '409s / handoff': drain.conflicts / n,
      'by verb, per handoff': perVerb(drain.byVerb, n),
      'latency median ms': quantile(latencies, 0.5),
      'latency p90 ms': quantile(latencies, 0.9),
      'handoffs seen': latencies.length,
      'served out of arrival order (pairs)': inversions(arrived, held),
      'requests / waiter to get in line': joining.total / n,
      'private MB / waiter (median)': memory,
    };
  };

  const idle = async (bin: string): Promise<Row> => {
    const name = unique('idle');
    await ok(bin, ['acquire', name, '--identity', 'bench-holder', '--ttl', '30m']);
    const procs = await startWaiters(bin, 8, ['run', name, '--timeout', '30m', '--', 'true']);
    await sleep(35_000); // past the first heartbeats
    const before = await counts();
    await sleep(o.idleMs);
    const after = await counts();
    for (const p of procs) p.child.kill('SIGINT');
    await Promise.all(procs.map((p) => p.exited));
    await ok(bin, ['release', name, '--identity', 'bench-holder']);
    const { total } = spent(before, after);
    return { [`requests in ${o.idleMs / 1000} s`]: total, 'requests / 20 s': (total * 20_000) / o.idleMs };
  };

  /** `count` processes at once, each holding `holdS` seconds; the most that held at once, from their own clocks. */
  const burst = async (bin: string, count: number, holdS: number, extra: string[]): Promise<Row> => {
    const name = unique('burst');
    const log = join(o.home, `${name}.log`);
    writeFileSync(log, '');
    const critical = `echo "s $(date +%s%N)" >> '${log}'; sleep ${holdS}; echo "e $(date +%s%N)" >> '${log}'`;
    const before = await counts();
    const procs = Array.from({ length: count }, () =>
      proc(bin, ['run', name, ...extra, '--timeout', '30m', '--', 'sh', '-c', critical]),
    );
    await allExit(procs);
    const after = await counts();
    const marks = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [kind = '', t = '0'] = line.split(' ');
        return { delta: kind === 's' ? 1 : -1, t: BigInt(t) };
      })
      .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.delta - b.delta));
    let holding = 0;
    let most = 0;
    for (const m of marks) most = Math.max(most, (holding += m.delta));
    const s = spent(before, after);
    return {
      'requests / acquisition': s.total / count,
      '409s / acquisition': s.conflicts / count,
      'by verb, per acquisition': perVerb(s.byVerb, count),
      'most holding at once': most,
    };
  };

  const report: QueueReport = {};
  const record = (title: string, label: string, row: Row): void => {
    report[title] = { ...report[title], [label]: row };
  };
  try {
    for (const scenario of o.scenarios) {
      for (const b of o.executables) {
        say(`queue: ${scenario} (${b.label})…`);
        if (scenario === 'handoff') {
          for (const n of o.sizes) record(`handoff, ${n} waiters`, b.label, await handoff(b.path, b.label, n));
        }
        if (scenario === 'idle') record('idle, 8 waiters', b.label, await idle(b.path));
        if (scenario === 'contention') {
          record('contention: 20 processes, one exclusive lock', b.label, await burst(b.path, 20, 0.05, []));
        }
        if (scenario === 'semaphore') {
          if (!spawnSync(b.path, ['run', '--help'], { encoding: 'utf8' }).stdout.includes('--limit')) {
            say(`  (${b.label} has no --limit: skipped)`);
            continue;
          }
          record('semaphore of 3, 20 processes', b.label, await burst(b.path, 20, 0.2, ['--limit', '3']));
        }
      }
    }
  } finally {
    for (const p of everyProc) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
  for (const [title, rows] of Object.entries(report)) printTable(title, rows);
  return report;
}

/** One table per scenario: a column per executable, and their ratio when there are two. */
function printTable(title: string, rows: Record<string, Row>): void {
  const labels = Object.keys(rows);
  const keys = [...new Set(labels.flatMap((l) => Object.keys(rows[l] ?? {})))];
  const width = Math.max(...keys.map((k) => k.length));
  const cell = (v: number | string | undefined): string =>
    (v === undefined ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v).padStart(10);
  say(`\nqueue: ${title}`);
  say(`  ${''.padEnd(width)}${labels.map((l) => l.padStart(10)).join('')}${labels.length === 2 ? '       ratio' : ''}`);
  for (const k of keys) {
    const vs = labels.map((l) => rows[l]?.[k]);
    if (vs.some((v) => typeof v === 'string')) {
      // A breakdown: too wide for a column, one line per executable.
      say(`  ${k}`);
      labels.forEach((l, i) => say(`    ${l.padEnd(10)}${String(vs[i] ?? '–')}`));
      continue;
    }
    const [a, b] = vs;
    const ratio =
      labels.length === 2 && typeof a === 'number' && typeof b === 'number' && a !== 0 ? `${(b / a).toFixed(2)}×` : '';
    say(`  ${k.padEnd(width)}${vs.map(cell).join('')}${ratio.padStart(12)}`);
  }
}
