// The bench's idle section: `run` holds a lock (renewing it every 7.5 s: --ttl 30s), `wait` waits for that
// lock and `ls -w` watches its namespace, so both see every renewal; beside them `kubectl get cm -w` watches the
// same namespace, a bare Node 26 (the executable's own runtime) does nothing and the bench's floor program (a Node
// single executable built like cmlock, bench/floor.ts) holds one watch over node:https. Their RSS is sampled once
// each is doing its job. Goal (issue 15): ≤ 60 MB while idle, and flat over 10 minutes (--long).

import { join } from 'node:path';
import type { AdminClient } from '../apiserver.ts';
import { say } from '../packaging/log.ts';
import { sampleAll, start, stop, summarize, type Idler, type IdleSummary, type Running } from './idle.ts';
import type { Sealed } from './measure.ts';
import { createNamespace } from './seed.ts';

const GOAL_MIB = 60;
const NAMESPACE = 'cmlock-bench-idle';
const LOCK = 'idle-lock';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`idle: timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function idleSection(
  api: AdminClient,
  base: Sealed,
  env: Record<string, string>,
  long: boolean,
  floorEnv: Record<string, string>,
): Promise<IdleSummary[]> {
  await createNamespace(api, NAMESPACE);
  const idlers: Idler[] = [
    {
      name: 'cmlock run (holding)',
      argv: ['kubectl', 'cmlock', 'run', LOCK, '-n', NAMESPACE, '--ttl', '30s', '--', 'sleep', '86400'],
      excludeComm: 'sleep',
      env,
    },
    { name: 'cmlock wait', argv: ['kubectl', 'cmlock', 'wait', LOCK, '-n', NAMESPACE], env },
    { name: 'cmlock ls -w', argv: ['kubectl', 'cmlock', 'ls', '-w', '-n', NAMESPACE], env },
    { name: 'kubectl get cm -w', argv: ['kubectl', 'get', 'cm', '-w', '-n', NAMESPACE] },
    { name: 'node, idle (floor)', argv: [process.execPath, '-e', 'setInterval(() => {}, 1e9)'] },
    {
      name: 'node watching (floor)',
      argv: [join(base.pluginDir, 'kubectl-benchfloor'), 'watch', `/api/v1/namespaces/${NAMESPACE}/configmaps?watch=1`],
      env: floorEnv,
    },
  ];
  const running: Running[] = [];
  try {
    const run = start(idlers[0] as Idler, base);
    running.push(run);
    await until('run holds the lock', async () => {
      const r = await api.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps/${LOCK}`);
      return r.status === 200 || run.exited !== undefined;
    });
    for (const idler of idlers.slice(1)) running.push(start(idler, base));
    const ls = running[2] as Running;
    await until('ls -w printed its table', () => ls.stdout.includes(LOCK) || ls.exited !== undefined);
    // Settled: past start-up, the first renewal and the first collections.
    const settleMs = 10_000;
    await new Promise((r) => setTimeout(r, settleMs));

    const durationMs = long ? 600_000 : 15_000;
    const intervalMs = long ? 10_000 : 1_000;
    say(
      `\nidle RSS (VmRSS of the process; "tree" adds its own children, not CMD), after ${settleMs / 1000} s, ` +
        `sampled every ${intervalMs / 1000} s for ${durationMs / 1000} s${long ? '' : ' (--long: 10 minutes)'}`,
    );
    let nextMinute = 60_000;
    const samples = await sampleAll(running, durationMs, intervalMs, (at, latest) => {
      if (long && at >= nextMinute) {
        const now = running.map((r, i) => `${r.idler.name} ${((latest[i]?.mainKiB ?? 0) / 1024).toFixed(0)} MB`);
        say(`  ${String(Math.round(at / 60_000)).padStart(2)} min: ${now.join(', ')}`);
        nextMinute += 60_000;
      }
    });
    const summaries = running.map((r, i) => summarize(r.idler.name, samples[i] ?? []));
    const width = Math.max(...summaries.map((x) => x.name.length));
    say(`  ${''.padEnd(width)}  median     max    tree   first→last tenth   goal`);
    for (const x of summaries) {
      const goal = x.name.startsWith('cmlock') ? `≤${GOAL_MIB} MB ${x.medianMiB <= GOAL_MIB ? 'ok' : 'OVER'}` : '';
      say(
        `  ${x.name.padEnd(width)}  ${mb(x.medianMiB)}  ${mb(x.maxMiB)}  ${mb(x.treeMedianMiB)}   ${mb(x.firstMiB)} → ${mb(x.lastMiB)}   ${goal}`,
      );
    }
    return summaries;
  } finally {
    for (const r of [...running].reverse()) await stop(r);
  }
}

const mb = (x: number): string => `${x.toFixed(0).padStart(3)} MB`;
