// Disruptive: stops and restarts the API server (etcd keeps its data), so it runs alone after the other tests.
//
// Restarted for less than the renew deadline: CMD is not disturbed and renewals resume. Stopped for good: CMD is
// stopped before the lease runs out and cmlock exits 6. Stopping takes about 3 s here and starting about 4 s, so
// an outage lasts some 10 s: the first test uses --ttl 30s (renew every 10s, renew deadline 20s after the last
// successful renewal) and stops the server right after a renewal, so the deadline is not reached.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startApiServer, stopApiServer } from '../../../scripts/cluster-lib.ts';
import { clusterState, eventually, testNamespace, uniqueName } from '../harness.ts';
import {
  alive,
  fileAppears,
  leaseEnd,
  lockGone,
  readIfExists,
  seconds,
  serverLock,
  stampTo,
  stamps,
  startCmlock,
  tempDir,
  type ServerLock,
} from '../run-helpers.ts';

/** Waits until the holder renews the lock (its renewTime moves past `after`'s), and returns that version. */
async function nextRenewal(ns: string, name: string, after: ServerLock, timeoutMs: number): Promise<ServerLock> {
  let renewed: ServerLock | undefined;
  await eventually(
    async () => {
      const now = await serverLock(ns, name, { timeoutMs: 5000 }).catch(() => undefined);
      if (now === undefined || now.data['renewTime'] === after.data['renewTime']) return false;
      renewed = now;
      return true;
    },
    timeoutMs,
    `lock ${name} is renewed`,
  );
  assert.ok(renewed);
  return renewed;
}

/** A CMD that records SIGTERM, says it is ready, and exits 0 once the test creates `go`. */
function patientCmd(dir: string): string[] {
  const term = join(dir, 'term');
  const script = `trap '${stampTo(term)}; exit 143' TERM; echo $$ > '${join(dir, 'ready')}'; while [ ! -e '${join(dir, 'go')}' ]; do sleep 0.1; done; echo finished`;
  return ['sh', '-c', script];
}

test('the API server restarted for less than the renew deadline does not disturb CMD', async (t) => {
  const state = clusterState();
  const ns = await testNamespace(t, 'restart');
  const name = uniqueName('restart');
  const dir = tempDir(t);
  const run = startCmlock(['run', name, '-n', ns, '--ttl', '30s', '--kill-after', '5s', '--', ...patientCmd(dir)]);
  await fileAppears(join(dir, 'ready'));
  const acquired = await serverLock(ns, name);
  assert.ok(acquired);
  // Right after a renewal, so that the outage is measured from the start of the renew deadline.
  const before = await nextRenewal(ns, name, acquired, 20_000);

  const stopAt = Date.now();
  await stopApiServer(state);
  t.after(() => startApiServer(state).catch(() => {}));
  await delay(3000); // the outage itself, not a condition
  await startApiServer(state);
  const upAt = Date.now();
  const after = await nextRenewal(ns, name, before, 30_000);
  t.diagnostic(
    `server down from +0s to ${seconds(upAt - stopAt)}; renewed at ${seconds(Date.parse(after.data['renewTime'] ?? '') - stopAt)}`,
  );
  assert.equal(readIfExists(join(dir, 'term')), undefined, 'CMD got no SIGTERM');
  assert.equal(run.exitedAt(), undefined, 'run is still running');

  writeFileSync(join(dir, 'go'), '');
  const r = await run.result;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'finished\n');
  assert.equal(readIfExists(join(dir, 'term')), undefined, 'CMD got no SIGTERM');
  await lockGone(ns, name);
});

test('the API server stopped during run: CMD is stopped before the lease runs out; exit 6', async (t) => {
  const state = clusterState();
  const ns = await testNamespace(t, 'stopped');
  const name = uniqueName('stopped');
  const dir = tempDir(t);
  // renew every 4.75s, SIGTERM 9.5s after the last successful renewal was sent, SIGKILL by 12.5s, lease 15s.
  const run = startCmlock(['run', name, '-n', ns, '--ttl', '15s', '--kill-after', '3s', '--', ...patientCmd(dir)]);
  const cmdPid = Number((await fileAppears(join(dir, 'ready'))).trim());

  const stopAt = Date.now();
  await stopApiServer(state);
  t.after(() => startApiServer(state).catch(() => {}));
  let cmdGoneAt = NaN;
  await eventually(
    async () => {
      if (alive(cmdPid)) return false;
      cmdGoneAt = Date.now();
      return true;
    },
    30_000,
    'CMD is gone',
  );
  const r = await run.result;
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, new RegExp(`^error: lost lock "${name}": could not renew it for \\d+s .*; stopped sh$`, 'm'));
  const [termAt = NaN] = stamps(readIfExists(join(dir, 'term')));

  // The server is down, so the lock stays as the last renewal left it: read it once the server is back.
  await startApiServer(state);
  const last = await serverLock(ns, name);
  assert.ok(last, 'the lock is still there (its holder could not release it)');
  const end = leaseEnd(last);
  t.diagnostic(
    `server stopped at +0s; SIGTERM to CMD at ${seconds(termAt - stopAt)}; CMD gone at ${seconds(cmdGoneAt - stopAt)}; ` +
      `cmlock exited 6 at ${seconds((run.exitedAt() ?? NaN) - stopAt)}; lease end ${seconds(end - stopAt)}`,
  );
  assert.ok(termAt < end, 'SIGTERM before the lease ran out');
  assert.ok(cmdGoneAt < end, 'CMD gone before the lease ran out');
});
