// 20 processes × 25 rounds of `kubectl cmlock run` on one lock, with a read-modify-write counter in the critical
// section: no two hold intervals overlap, no update is lost, fencing tokens increase with every hold, no lock is
// left behind and no process hangs. Heavy on a small machine (500 cmlock processes): the critical section is
// plain sh, and each hold is stamped with CLOCK_MONOTONIC (one clock for every process on this machine) by perl,
// which starts in a few milliseconds.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cmlock, testNamespace, uniqueName } from '../harness.ts';
import { readIfExists, seconds, serverLock, tempDir } from '../run-helpers.ts';

const PROCESSES = 20;
const ROUNDS = 25;
/** One round may wait for all the others: generous, but a hang still fails the test. */
const ROUND_TIMEOUT_MS = 10 * 60_000;

const MONO_NS = `perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e 'printf "%.0f", clock_gettime(CLOCK_MONOTONIC) * 1e9'`;

interface Hold {
  start: bigint;
  end: bigint;
  fence: bigint;
  holder: string;
}

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
    const critical = [
      `s=$(${MONO_NS})`,
      `n=$(cat '${counter}')`,
      'sleep 0.005',
      `echo $((n + 1)) > '${counter}'`,
      `e=$(${MONO_NS})`,
      // One short append per hold: O_APPEND keeps lines whole.
      `echo "$s $e $CMLOCK_FENCE $CMLOCK_HOLDER" >> '${log}'`,
    ].join('; ');

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

    const holds: Hold[] = (readIfExists(log) ?? '')
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [start = '', end = '', fence = '', holder = ''] = line.split(' ');
        return { start: BigInt(start), end: BigInt(end), fence: BigInt(fence), holder };
      })
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    assert.equal(holds.length, PROCESSES * ROUNDS);
    assert.equal(readIfExists(counter), `${PROCESSES * ROUNDS}\n`, 'no update was lost');

    const overlaps: string[] = [];
    let minGap: bigint | undefined;
    for (let i = 1; i < holds.length; i++) {
      const prev = holds[i - 1];
      const next = holds[i];
      if (!prev || !next) continue;
      const gap = next.start - prev.end;
      if (gap <= 0n)
        overlaps.push(`${prev.holder} [${prev.start}, ${prev.end}] and ${next.holder} [${next.start}, ...]`);
      if (minGap === undefined || gap < minGap) minGap = gap;
      if (next.fence <= prev.fence) overlaps.push(`fence ${next.fence} after ${prev.fence}`);
    }
    t.diagnostic(`smallest gap between one hold's end and the next one's start: ${Number(minGap ?? 0n) / 1e6} ms`);
    assert.deepEqual(overlaps, [], 'hold intervals never overlap and fences increase');
    assert.equal(new Set(holds.map((h) => h.holder)).size, holds.length, 'each run held the lock as itself');
    assert.equal(await serverLock(ns, name), undefined, 'no lock left behind');
  },
);
