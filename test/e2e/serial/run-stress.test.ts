// 20 processes × 25 rounds of `kubectl cmlock run` on one lock, with a read-modify-write counter in the critical
// section: no two hold intervals overlap, no update is lost, fencing tokens increase with every hold, no lock is
// left behind and no process hangs; and they are served in strict arrival order: every version of the lock the
// API server's watch delivers is checked, and each new holder was first in line (or nobody was waiting). Heavy on
// a small machine (500 cmlock processes): the critical section is plain sh, and each hold is stamped with
// CLOCK_MONOTONIC (one clock for every process on this machine) by perl, which starts in a few milliseconds.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cmlock, testNamespace, uniqueName } from '../harness.ts';
import { arrivals, outOfOrder, watchLock } from '../queue-helpers.ts';
import { counterSection, holdProblems, readHolds, readIfExists, seconds, serverLock, tempDir } from '../run-helpers.ts';

const PROCESSES = 20;
const ROUNDS = 25;
/** One round may wait for all the others: generous, but a hang still fails the test. */
const ROUND_TIMEOUT_MS = 10 * 60_000;

test(
  `${PROCESSES} processes × ${ROUNDS} rounds of run on one lock: mutual exclusion, no lost update`,
  { timeout: 60 * 60_000 },
  async (t) => {
    const ns = await testNamespace(t, 'stress');
    const name = uniqueName('stress');
    const dir = tempDir(t);
    const counter = join(dir, 'counter');
    const log = join(dir, 'holds');
    writeFileSync(counter, '0\n');
    const critical = counterSection(counter, log);

    const watch = watchLock(t, ns, name);
    const started = Date.now();
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: PROCESSES }, async (_, p) => {
        for (let round = 0; round < ROUNDS; round++) {
          const r = await cmlock(['run', name, '-n', ns, '--', 'sh', '-c', critical], { timeoutMs: ROUND_TIMEOUT_MS });
          if (r.code !== 0) failures.push(`process ${p} round ${round}: exit ${r.code}: ${r.stderr}`);
        }
      }),
    );
    const took = Date.now() - started;
    t.diagnostic(`${PROCESSES * ROUNDS} runs took ${seconds(took)}`);
    assert.deepEqual(failures, []);

    const holds = readHolds(log);
    assert.equal(holds.length, PROCESSES * ROUNDS);
    assert.equal(readIfExists(counter), `${PROCESSES * ROUNDS}\n`, 'no update was lost');

    const { problems: overlaps, minGap } = holdProblems(holds);
    t.diagnostic(`smallest gap between one hold's end and the next one's start: ${Number(minGap ?? 0n) / 1e6} ms`);
    assert.deepEqual(overlaps, [], 'hold intervals never overlap and fences increase');
    assert.equal(new Set(holds.map((h) => h.holder)).size, holds.length, 'each run held the lock as itself');
    assert.equal(await serverLock(ns, name), undefined, 'no lock left behind');

    // Strict arrival order, from every version of the lock (the watch delivers each change, in order).
    const versions = watch.versions();
    t.diagnostic(`${versions.length} versions watched; ${arrivals(versions).length} runs waited in line`);
    const admitted = new Set(versions.filter((v) => v.type !== 'DELETED').map((v) => v.acquisitionId));
    assert.ok(admitted.size >= PROCESSES * ROUNDS, `the watch saw every acquisition (${admitted.size})`);
    assert.deepEqual(outOfOrder(versions), [], 'each new holder was the first in line');
  },
);
