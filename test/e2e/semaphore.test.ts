// Semaphores (--limit N) and shared locks (--shared), issue 14, through kubectl against the real API server:
// 20 processes `run --limit 3` reach exactly 3 at once, never 4; a SIGKILLed holder frees only its own slot, after
// its lease; readers overlap, a writer overlaps nobody and gets in ahead of readers that came after it; a 16-way
// race for the last slot has one winner; limit mismatches and bad values are usage errors that write nothing.
// Intervals are stamped with CLOCK_MONOTONIC (one clock for every process on this machine) by perl.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cmlock, eventually, testNamespace, uniqueName } from './harness.ts';
import {
  assertErrorLine,
  cmlockOk,
  getConfigMap,
  ms,
  parseLock,
  show,
  startCmlock,
  startGate,
  type Started,
} from './lock-helpers.ts';
import { inQueue, queueOf } from './queue-helpers.ts';
import { mostAtOnce, MONO_NS, readHolds, tempDir, type Hold } from './run-helpers.ts';

/**
 * A CMD that logs "START END FENCE WHO" (monotonic ns) around a sleep; with `gate`, it holds on until that file
 * exists (the test decides when it ends, whatever the machine's load).
 */
function critical(log: string, who: string, seconds: number, gate?: string): string[] {
  const hold = gate === undefined ? '' : `while [ ! -e '${gate}' ]; do sleep 0.05; done; `;
  return [
    'sh',
    '-c',
    `s=$(${MONO_NS}); ${hold}sleep ${seconds}; e=$(${MONO_NS}); echo "$s $e $CMLOCK_FENCE ${who}" >> '${log}'`,
  ];
}

const overlap = (a: Hold, b: Hold) => a.start < b.end && b.start < a.end;

test('20 processes run --limit 3 on one lock: exactly 3 at once, never 4; fences increase across all holders', async (t) => {
  const ns = await testNamespace(t, 'sem');
  const name = uniqueName('drain');
  const log = join(tempDir(t), 'holds');
  writeFileSync(log, '');
  const runs = Array.from({ length: 20 }, (_, i) =>
    startCmlock(['run', name, '-n', ns, '--limit', '3', '--timeout', '5m', '--', ...critical(log, `p${i}`, 0.5)], {
      timeoutMs: 300_000,
    }),
  );
  const results = await Promise.all(runs.map((r) => r.done));
  for (const r of results) assert.equal(r.code, 0, show(r));
  const holds = readHolds(log);
  assert.equal(holds.length, 20);
  assert.equal(mostAtOnce(holds), 3, 'three at once, never four');
  assert.equal(new Set(holds.map((h) => h.fence)).size, 20, 'every acquisition its own token');
  for (const a of holds) {
    for (const b of holds) {
      if (a.end < b.start) assert.ok(a.fence < b.fence, `${b.holder} came after ${a.holder}: a higher fence`);
    }
  }
  assert.equal(await getConfigMap(ns, name), undefined, 'the last one out deleted it');
});

test('a SIGKILLed holder frees only its own slot, after its lease; ls, describe and -o json show the holders', async (t) => {
  const ns = await testNamespace(t, 'sem');
  const name = uniqueName('slots');
  const doomed = startCmlock([
    'run',
    name,
    '-n',
    ns,
    '--limit',
    '2',
    '--identity',
    'doomed',
    '--ttl',
    '4s',
    '--kill-after',
    '1s',
    '--',
    'sleep',
    '300',
  ]);
  await eventually(async () => (await getConfigMap(ns, name)) !== undefined, 30_000, 'the first slot is taken');
  const steady = parseLock(
    (await cmlockOk(['acquire', name, '-n', ns, '--limit', '2', '--identity', 'steady', '-o', 'json'])).stdout,
    ['holders', 'limit'],
  );
  assert.equal(steady.holder, 'steady', "acquire prints the caller's own hold");
  assert.equal(steady.limit, 2);
  const [table, described] = await Promise.all([
    cmlockOk(['ls', '-n', ns, '--no-headers']),
    cmlockOk(['describe', name, '-n', ns]),
  ]);
  assert.deepEqual(
    table.stdout
      .trim()
      .split(/\s{3,}/)
      .slice(1, 3),
    ['2 holders', 'Held'],
  );
  assert.equal(table.stdout.trim().split(/\s{3,}/)[5], '2/2', 'HOLDERS');
  assert.match(described.stdout, /^Limit:\s+2 holders at once/m);
  assert.match(described.stdout, /^Holders:\n {2}Holder\s+User\s+Host\s+Kind\s+Acquired\s+Expires\s+Fence\s+Reason\n/m);
  assert.match(described.stdout, /^ {2}doomed\/run-\S+\s+admin\s/m);
  assert.match(
    described.stdout,
    new RegExp(
      `^ {2}steady\\s+admin\\s+\\S+\\s+exclusive\\s+\\S+Z \\(\\d+s ago\\)\\s+in (59m|60m)\\s+${steady.fence}`,
      'm',
    ),
  );

  const waiter = startCmlock([
    'acquire',
    name,
    '-n',
    ns,
    '--limit',
    '2',
    '--identity',
    'next',
    '--timeout',
    '60s',
    '-o',
    'json',
  ]);
  await inQueue(ns, name, 'next');
  doomed.child.kill('SIGKILL');
  await doomed.done;
  const last = await getConfigMap(ns, name);
  const entries = JSON.parse(last?.data?.['holders'] ?? '[]') as { identity: string; renewTime: string }[];
  const leaseEnd = ms(entries.find((h) => h.identity.startsWith('doomed/'))?.renewTime ?? '') + 4000;

  const got = await waiter.done;
  assert.equal(got.code, 0, show(got));
  const next = parseLock(got.stdout, ['holders', 'limit']);
  assert.ok(ms(next.acquireTime) > leaseEnd, "in only once the dead holder's lease ended");
  assert.deepEqual(
    next.holders?.map((h) => h.holder),
    ['steady', 'next'],
    'the steady holder kept its slot',
  );
  assert.equal(next.holders?.[0]?.fence, steady.fence);
});

test('shared and exclusive: readers overlap, the writer overlaps nobody, and gets in before readers that came after it', async (t) => {
  const ns = await testNamespace(t, 'rw');
  const name = uniqueName('db');
  const dir = tempDir(t);
  const log = join(dir, 'holds');
  const gate = join(dir, 'readers-done');
  writeFileSync(log, '');
  const run = (who: string, shared: boolean, seconds: number, until?: string): Started =>
    startCmlock([
      'run',
      name,
      '-n',
      ns,
      '--identity',
      who,
      ...(shared ? ['--shared'] : []),
      '--timeout',
      '2m',
      '--',
      ...critical(log, who, seconds, until),
    ]);
  // The first readers hold it until the test opens the gate: the writer and the late readers queue meanwhile.
  const readers = [run('r1', true, 0.2, gate), run('r2', true, 0.2, gate)];
  await eventually(
    async () => (JSON.parse((await getConfigMap(ns, name))?.data?.['holders'] ?? '[]') as unknown[]).length === 2,
    30_000,
    'both readers hold it',
  );
  const writer = run('writer', false, 0.3);
  await inQueue(ns, name, 'writer');
  const [holdersNow, waitShared, waitExclusive] = await Promise.all([
    cmlockOk(['ls', '-n', ns, '--no-headers']),
    cmlock(['wait', name, '-n', ns, '--shared', '--timeout', '0']),
    cmlock(['wait', name, '-n', ns, '--timeout', '0']),
  ]);
  assert.equal(holdersNow.stdout.trim().split(/\s{3,}/)[5], 'shared 2', holdersNow.stdout);
  assertErrorLine(waitShared, 3, /1 waiting/, {}); // a writer is in line: not free even for a reader
  assertErrorLine(waitExclusive, 3, /held by 2 holders/);
  const late = [run('r3', true, 1)];
  await inQueue(ns, name, 'r3');
  late.push(run('r4', true, 1));
  await inQueue(ns, name, 'r4');
  assert.deepEqual(
    (await queueOf(ns, name)).map((w) => w.identity.replace(/\/run-.*$/, '')),
    ['writer', 'r3', 'r4'],
    'the late readers wait behind the writer, though readers hold the lock',
  );
  writeFileSync(gate, ''); // the first readers finish
  for (const r of await Promise.all([...readers, writer, ...late].map((p) => p.done))) assert.equal(r.code, 0, show(r));

  const holds = new Map(readHolds(log).map((h) => [h.holder, h]));
  const [r1, r2, w, r3, r4] = ['r1', 'r2', 'writer', 'r3', 'r4'].map((k) => holds.get(k));
  assert.ok(r1 && r2 && w && r3 && r4, [...holds.keys()].join(' '));
  assert.ok(overlap(r1, r2), 'readers hold it together');
  for (const other of [r1, r2, r3, r4]) assert.ok(!overlap(w, other), `the writer overlaps nobody (${other.holder})`);
  assert.ok(w.start > r1.end && w.start > r2.end && w.end < r3.start && w.end < r4.start, 'the writer between them');
  assert.ok(overlap(r3, r4), 'the readers behind it enter together');
});

test('16 processes race for the last slot of a semaphore: one wins, 15 are told it is held', async (t) => {
  const ns = await testNamespace(t, 'sem');
  const name = uniqueName('last');
  for (const who of ['a', 'b']) await cmlockOk(['acquire', name, '-n', ns, '--limit', '3', '--identity', who]);
  const path = `/api/v1/namespaces/${ns}/configmaps/${name}`;
  const gate = await startGate((method, p) => method === 'PUT' && p.split('?')[0] === path);
  t.after(() => gate.close());
  const racers = Array.from({ length: 16 }, (_, i) =>
    startCmlock(
      [
        'acquire',
        name,
        '-n',
        ns,
        '--limit',
        '3',
        '--identity',
        `racer-${i}`,
        '--timeout',
        '0',
        '--request-timeout',
        '2m',
      ],
      { env: { KUBECONFIG: gate.kubeconfig }, timeoutMs: 180_000 },
    ),
  );
  await gate.waitForHeld(16, 150_000);
  gate.open();
  const results = await Promise.all(racers.map((r) => r.done));
  assert.deepEqual(
    gate.held.map((h) => h.status).sort(),
    [200, ...Array<number>(15).fill(409)],
    'the server saw every try: one applied, the rest Conflict',
  );
  const winners = results.filter((r) => r.code === 0);
  assert.equal(winners.length, 1, results.map(show).join('\n'));
  for (const r of results.filter((x) => x.code !== 0)) {
    assertErrorLine(r, 3, new RegExp(`^error: lock "${name}" is held by 3 holders since `));
  }
  const holders = JSON.parse((await getConfigMap(ns, name))?.data?.['holders'] ?? '[]') as unknown[];
  assert.equal(holders.length, 3);
});

test('a limit that differs from the lock’s, and bad values: exit 2, nothing written', async (t) => {
  const ns = await testNamespace(t, 'sem');
  const name = uniqueName('limits');
  await cmlockOk(['acquire', name, '-n', ns, '--limit', '2', '--identity', 'a']);
  const before = await getConfigMap(ns, name);
  const [higher, plain, asShared, viaRun] = await Promise.all([
    cmlock(['acquire', name, '-n', ns, '--limit', '3', '--identity', 'b', '--timeout', '0']),
    cmlock(['acquire', name, '-n', ns, '--identity', 'b', '--timeout', '0']),
    cmlock(['acquire', name, '-n', ns, '--shared', '--identity', 'b']),
    cmlock(['run', name, '-n', ns, '--limit', '5', '--', 'true']),
  ]);
  assertErrorLine(higher, 2, new RegExp(`^error: lock "${name}" is a semaphore of 2, not of 3; use --limit 2$`));
  assertErrorLine(plain, 2, /is a semaphore of 2; it cannot be held alone; use --limit 2$/);
  assertErrorLine(asShared, 2, /it cannot be held shared; use --limit 2 instead of --shared$/);
  assertErrorLine(viaRun, 2, /is a semaphore of 2, not of 5/);
  const bad = (flags: string[]) => cmlock(['acquire', uniqueName('never'), '-n', ns, ...flags]);
  const [zero, word, big, fraction, both] = await Promise.all([
    bad(['--limit', '0']),
    bad(['--limit', 'abc']),
    bad(['--limit', '257']),
    bad(['--limit', '2.5']),
    bad(['--shared', '--limit', '2']),
  ]);
  for (const r of [zero, word, big, fraction]) {
    assertErrorLine(r, 2, /^error: invalid argument ".*" for "--limit" flag: must be a whole number from 1 to 256$/);
  }
  assertErrorLine(both, 2, /^error: --shared and --limit cannot be combined/);
  const after = await getConfigMap(ns, name);
  assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion, 'the lock untouched');
  const listed = (await cmlockOk(['ls', '-n', ns, '-o', 'name'])).stdout;
  assert.equal(listed, `cmlock/${name}\n`, 'no lock created by a bad value');
});

test('among several holders renew and release act on your own hold; --force breaks one named hold, or --all', async (t) => {
  const ns = await testNamespace(t, 'sem');
  const name = uniqueName('many');
  for (const who of ['a', 'b', 'c']) {
    await cmlockOk(['acquire', name, '-n', ns, '--limit', '3', '--identity', who, '--ttl', '30m']);
  }
  const entries = async () =>
    JSON.parse((await getConfigMap(ns, name))?.data?.['holders'] ?? '[]') as {
      identity: string;
      leaseDurationSeconds: number;
      fence?: string;
    }[];
  const before = await entries();
  const beforeRv = (await getConfigMap(ns, name))?.metadata.resourceVersion;

  const unnamed = await cmlock(['release', name, '-n', ns, '--force']);
  assertErrorLine(unnamed, 2, new RegExp(`^error: lock "${name}" has 3 holders \\(a, b, c\\)`));
  assert.equal((await getConfigMap(ns, name))?.metadata.resourceVersion, beforeRv, 'nothing written');

  await cmlockOk(['renew', name, '-n', ns, '--identity', 'b', '--ttl', '2h']);
  const renewed = await entries();
  assert.deepEqual(
    renewed.map((h) => [h.identity, h.leaseDurationSeconds, h.fence]),
    // The last one admitted has no fence written yet: its token is the resourceVersion of the write that admitted
    // it, which the next write (this renewal) writes down.
    before.map((h) => [h.identity, h.identity === 'b' ? 7200 : 1800, h.fence ?? beforeRv]),
    "b's lease only; every fence kept",
  );

  await cmlockOk(['release', name, '-n', ns, '--identity', 'a']);
  assert.deepEqual(
    (await entries()).map((h) => h.identity),
    ['b', 'c'],
  );
  await cmlockOk(['release', name, '-n', ns, '--force', '--holder', 'c']);
  assert.deepEqual(
    (await entries()).map((h) => h.identity),
    ['b'],
  );
  await cmlockOk(['acquire', name, '-n', ns, '--limit', '3', '--identity', 'd']);
  await cmlockOk(['release', name, '-n', ns, '--force', '--all']);
  assert.equal(await getConfigMap(ns, name), undefined, '--all: every hold broken, the lock gone');
});
