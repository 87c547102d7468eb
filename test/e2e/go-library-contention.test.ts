// Mixed contention with the Go library: Go peers (test/go-peer, each in its own Pod) and `kubectl cmlock run`
// processes take the same lock in turns, each incrementing one counter file in its critical section with a
// read, a pause and a write. No update may be lost, no two hold intervals may overlap (each holder stamps its
// interval with CLOCK_MONOTONIC, one clock for every process on this machine), the fencing tokens (the
// resourceVersion of the acquiring write, on both sides) must increase hold by hold, nobody crashes, and no lock
// is left behind.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { testNamespace, uniqueName } from './harness.ts';
import { PANIC, peerPod, startGoPeer } from './go-peer.ts';
import { show } from './lock-helpers.ts';
import {
  holdProblems,
  counterSection,
  readHolds,
  readIfExists,
  seconds,
  serverLock,
  startCmlock,
  tempDir,
} from './run-helpers.ts';

const GO_PEERS = 3;
const CMLOCK_PROCESSES = 3;
const ROUNDS = 6;

test(
  `${GO_PEERS} Go peers and ${CMLOCK_PROCESSES} cmlock runs × ${ROUNDS} rounds on one lock: no overlap, no lost update`,
  { timeout: 15 * 60_000 },
  async (t) => {
    const ns = await testNamespace(t, 'gomix');
    const name = uniqueName('mixed');
    const dir = tempDir(t);
    const counter = join(dir, 'counter');
    const log = join(dir, 'holds');
    writeFileSync(counter, '0\n');
    const pods = await Promise.all(Array.from({ length: GO_PEERS }, (_, i) => peerPod(ns, `go-app-${i}`)));
    const critical = counterSection(counter, log, 'cmlock/$CMLOCK_HOLDER');

    // A process that fails leaves a lock behind that the others would wait ten minutes for: the first failure
    // stops everything, and the test reports it.
    const failures: string[] = [];
    const stoppers = new Set<() => void>();
    const fail = (what: string) => {
      failures.push(what);
      for (const stop of stoppers) stop();
    };
    const started = Date.now();
    // The peer's one timeout is also its lock's TTL, counted from when its Acquire started: ten minutes, so that
    // no peer lock expires under its holder during the test (the library's own hazard, not what is tested here).
    const peers = pods.map(async (p, i) => {
      const peer = startGoPeer(
        p,
        ['contend', name, '--rounds', String(ROUNDS), '--counter', counter, '--log', log, '--timeout', '10m'],
        { timeoutMs: 12 * 60_000 },
      );
      stoppers.add(peer.kill);
      const r = await peer.done;
      stoppers.delete(peer.kill);
      if (PANIC.test(r.stderr) || r.code !== 0) fail(`go peer ${i}: ${show(r)}`);
    });
    const runs = Array.from({ length: CMLOCK_PROCESSES }, async (_, p) => {
      for (let round = 0; round < ROUNDS && failures.length === 0; round++) {
        const run = startCmlock(['run', name, '-n', ns, '--', 'sh', '-c', critical], { timeoutMs: 10 * 60_000 });
        const stop = () => run.child.kill('SIGKILL');
        stoppers.add(stop);
        const r = await run.result;
        stoppers.delete(stop);
        if (r.code !== 0) fail(`cmlock process ${p} round ${round}: ${show(r)}`);
      }
    });
    await Promise.all([...peers, ...runs]);
    t.diagnostic(`${(GO_PEERS + CMLOCK_PROCESSES) * ROUNDS} holds took ${seconds(Date.now() - started)}`);

    const holds = readHolds(log);
    const { problems } = holdProblems(holds);
    let switches = 0;
    for (let i = 1; i < holds.length; i++) {
      if (holds[i - 1]?.holder.startsWith('go/') !== holds[i]?.holder.startsWith('go/')) switches++;
    }
    t.diagnostic(`the lock passed between a Go peer and cmlock ${switches} times`);
    // Overlaps first: when a process failed, they tell why.
    assert.deepEqual(problems, [], 'hold intervals never overlap and fences increase');
    assert.deepEqual(failures, [], 'every process did its rounds');
    const total = (GO_PEERS + CMLOCK_PROCESSES) * ROUNDS;
    assert.equal(holds.length, total);
    assert.equal(readIfExists(counter), `${total}\n`, 'no update was lost');
    assert.equal(holds.filter((h) => h.holder.startsWith('go/')).length, GO_PEERS * ROUNDS);
    assert.ok(switches >= 1, 'the Go peers and cmlock really contended');
    assert.equal(await serverLock(ns, name), undefined, 'no lock left behind');
  },
);
