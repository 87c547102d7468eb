// Races against the real API server. The racers talk to it through a gate (lock-helpers.ts) that holds their
// acquiring writes until every racer has sent one, then lets them all through at once: the server really sees
// 16 creates (or 8 takeover updates) at the same instant, and exactly one may win.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, testNamespace, uniqueName } from './harness.ts';
import {
  acquireJson,
  assertErrorLine,
  cmlockOk,
  type LockJson,
  mustGetConfigMap,
  show,
  startCmlock,
  startGate,
} from './lock-helpers.ts';

const RACERS = 16;
const TAKEOVER_RACERS = 8;

test(`${RACERS} processes race to acquire one free lock with --timeout 0: one wins, ${RACERS - 1} are told it is held`, async (t) => {
  const ns = await testNamespace(t, 'race');
  const name = uniqueName('race');
  const createPath = `/api/v1/namespaces/${ns}/configmaps`;
  const gate = await startGate((method, path) => method === 'POST' && path.split('?')[0] === createPath);
  t.after(() => gate.close());

  const racers = Array.from({ length: RACERS }, (_, i) =>
    startCmlock(['acquire', name, '-n', ns, '--identity', `racer-${i}`, '--timeout', '0', '--request-timeout', '2m'], {
      env: { KUBECONFIG: gate.kubeconfig },
      timeoutMs: 180_000,
    }),
  );
  // Every racer read the lock as free and sent its create: open the gate, they all reach the server together.
  await gate.waitForHeld(RACERS, 150_000);
  gate.open();
  const results = await Promise.all(racers.map((r) => r.done));

  assert.deepEqual(
    gate.held.map((h) => h.status).sort(),
    [201, ...Array<number>(RACERS - 1).fill(409)],
    'the server saw every create: one created, the rest AlreadyExists',
  );
  const winners = results.flatMap((r, i) => (r.code === 0 ? [i] : []));
  assert.equal(winners.length, 1, `exactly one winner:\n${results.map(show).join('\n')}`);
  const winner = `racer-${winners[0]}`;
  const winning = results[winners[0] ?? 0];
  assert.match(winning?.stdout ?? '', new RegExp(`^acquired lock "${name}" in namespace "${ns}" \\(fence \\d+`));
  for (const [i, r] of results.entries()) {
    if (i === winners[0]) continue;
    // Not an error: "held", naming the winner.
    assertErrorLine(r, 3, new RegExp(`^error: lock "${name}" is held by ${winner} \\(user admin\\) since `));
  }
  assert.equal((await mustGetConfigMap(ns, name)).data?.['holderIdentity'], winner);
});

test(`${TAKEOVER_RACERS} processes race to take over one expired lock: one wins, the others name the winner`, async (t) => {
  const ns = await testNamespace(t, 'race');
  const name = uniqueName('stale');
  const stale = await acquireJson(ns, name, ['--identity', 'crashed', '--ttl', '1s']);
  await eventually(
    async () =>
      (JSON.parse((await cmlockOk(['ls', '-n', ns, '-o', 'json'])).stdout) as { items: LockJson[] }).items[0]
        ?.status === 'Expired',
    30_000,
    'the lock is Expired',
  );

  const updatePath = `/api/v1/namespaces/${ns}/configmaps/${name}`;
  const gate = await startGate((method, path) => method === 'PUT' && path.split('?')[0] === updatePath);
  t.after(() => gate.close());
  const racers = Array.from({ length: TAKEOVER_RACERS }, (_, i) =>
    startCmlock(
      [
        'acquire',
        name,
        '-n',
        ns,
        '--identity',
        `waiter-${i}`,
        '--ttl',
        '10m',
        '--timeout',
        '0',
        '--request-timeout',
        '2m',
      ],
      { env: { KUBECONFIG: gate.kubeconfig }, timeoutMs: 180_000 },
    ),
  );
  await gate.waitForHeld(TAKEOVER_RACERS, 150_000);
  gate.open();
  const results = await Promise.all(racers.map((r) => r.done));

  assert.deepEqual(
    gate.held.map((h) => h.status).sort(),
    [200, ...Array<number>(TAKEOVER_RACERS - 1).fill(409)],
    'the server saw every takeover: one applied, the rest Conflict',
  );
  const winners = results.flatMap((r, i) => (r.code === 0 ? [i] : []));
  assert.equal(winners.length, 1, `exactly one winner:\n${results.map(show).join('\n')}`);
  const winner = `waiter-${winners[0]}`;
  const m = new RegExp(`^took over expired lock "${name}" from crashed \\(fence (\\d+), `).exec(
    results[winners[0] ?? 0]?.stdout ?? '',
  );
  assert.ok(m, show(results[winners[0] ?? 0] ?? { code: null, signal: null, stdout: '', stderr: '' }));
  assert.ok(BigInt(m[1] ?? '0') > BigInt(stale.fence), 'a higher fence');
  for (const [i, r] of results.entries()) {
    if (i === winners[0]) continue;
    assertErrorLine(r, 3, new RegExp(`^error: lock "${name}" is held by ${winner} \\(user admin\\) since `));
  }
  assert.equal((await mustGetConfigMap(ns, name)).data?.['holderIdentity'], winner);
});
