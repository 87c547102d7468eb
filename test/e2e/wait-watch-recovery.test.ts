// A waiter whose watch stream is dropped (the fault proxy resets every connection) re-reads, watches again, and
// still notices the release promptly. (A watch ended by 410 Gone is covered by the unit tests of src/lock/wait.ts
// and src/kube/watch.ts: the API server cannot be made to compact a single watch's history on demand.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmlock, eventually, testNamespace, uniqueName } from './harness.ts';
import { proxiedCluster, seconds, startCmlock, stderrMatches } from './run-helpers.ts';

test('wait survives its watch being reset and still notices the release', async (t) => {
  const ns = await testNamespace(t, 'rewatch');
  const name = uniqueName('rewatch');
  const { proxy, env } = await proxiedCluster(t);
  const held = await cmlock(['acquire', name, '-n', ns, '--identity', 'holder@e2e']);
  assert.equal(held.code, 0, held.stderr);

  const waiter = startCmlock(['wait', name, '-n', ns], { env });
  await stderrMatches(waiter, new RegExp(`waiting for lock "${name}"`));
  // The waiter's connection (the watch) is open, then reset.
  const before = proxy.stats();
  assert.ok(
    before.some((c) => c.open),
    'the waiter is connected',
  );
  const lastId = Math.max(...before.map((c) => c.id));
  await proxy.setMode({ kind: 'reset' });
  await proxy.resume();
  const resetAt = Date.now();
  await eventually(
    async () => proxy.stats().some((c) => c.id > lastId && c.open && c.fromServer > 0),
    15_000,
    'the waiter connects again',
  );
  const reconnectedAt = Date.now();
  assert.equal(waiter.exitedAt(), undefined, 'still waiting: the lock is still held');

  const release = await cmlock(['release', name, '-n', ns, '--identity', 'holder@e2e']);
  const releasedAt = Date.now();
  assert.equal(release.code, 0, release.stderr);
  const r = await waiter.result;
  const exitedAt = waiter.exitedAt() ?? NaN;
  const connections = proxy.stats().length;
  t.diagnostic(
    `reconnected ${seconds(reconnectedAt - resetAt)} after the reset; wait exited ${seconds(exitedAt - releasedAt)} ` +
      `after the release returned; ${connections} connections in all`,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(exitedAt - releasedAt < 3000, `wait exited ${exitedAt - releasedAt} ms after the release`);
  // Re-read and re-watch once, not a reconnect loop.
  assert.ok(connections <= 4, `${connections} connections`);
});
