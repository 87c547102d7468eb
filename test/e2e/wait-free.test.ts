// `kubectl cmlock wait`: returns soon after a release and after an expiry (a dead holder sends no event: the
// waiter's own timer must fire), gives up with exit 3 at --timeout, and says what it is waiting for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPIRY_ALLOWANCE_MS } from '../../src/lock/record.ts';
import { DATE_RESOLUTION_MS } from '../../src/lock/server-clock.ts';
import { cmlock, eventually, testNamespace, uniqueName } from './harness.ts';
import { leaseEnd, seconds, serverLock, startCmlock, stderrMatches, watchLock } from './run-helpers.ts';

/** A behaviour bound, not a performance claim: the process start of kubectl and cmlock is part of it. */
const PROMPTLY_MS = 3000;
/**
 * A waiter judges a lock expired only 1 s past its expiry (EXPIRY_ALLOWANCE_MS), on its view of the server's
 * clock, which may lag the server by up to the Date header's resolution (never early, up to 2 s late, by design).
 */
const AFTER_EXPIRY_MS = EXPIRY_ALLOWANCE_MS + DATE_RESOLUTION_MS + PROMPTLY_MS;

async function acquireOk(ns: string, name: string, ttl: string): Promise<void> {
  const r = await cmlock(['acquire', name, '-n', ns, '--ttl', ttl, '--identity', 'holder@e2e']);
  assert.equal(r.code, 0, r.stderr);
}

test('wait returns 0 within a second or so of the release', async (t) => {
  const ns = await testNamespace(t, 'wait');
  const name = uniqueName('rel');
  await acquireOk(ns, name, '1h');
  const watch = watchLock(ns, name);
  t.after(() => watch.stop());
  const waiter = startCmlock(['wait', name, '-n', ns]);
  await stderrMatches(waiter, new RegExp(`waiting for lock "${name}": held by holder@e2e since .*, expires in`));
  await eventually(async () => watch.versions().length > 0, 10_000, 'kubectl -w sees the lock');

  const releaseStart = Date.now();
  const release = await cmlock(['release', name, '-n', ns, '--identity', 'holder@e2e']);
  const releaseEnd = Date.now();
  assert.equal(release.code, 0, release.stderr);

  const r = await waiter.result;
  const exitedAt = waiter.exitedAt() ?? NaN;
  // kubectl -w prints the object once more when it is deleted: another watcher's view of the moment.
  await eventually(async () => watch.versions().length > 1, 10_000, 'kubectl -w sees the deletion');
  const deletedSeenAt = watch.versions().at(-1)?.seenAt ?? NaN;
  t.diagnostic(
    `release took ${seconds(releaseEnd - releaseStart)}; wait exited ${seconds(exitedAt - releaseEnd)} after it ` +
      `returned, ${seconds(exitedAt - deletedSeenAt)} after kubectl -w saw the deletion`,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(exitedAt - deletedSeenAt < PROMPTLY_MS, `wait exited ${exitedAt - deletedSeenAt} ms after the deletion`);
  assert.equal(r.stdout, '');
  assert.ok(exitedAt - releaseEnd < PROMPTLY_MS, `wait exited ${exitedAt - releaseEnd} ms after the release`);
  // Not a terminal: one plain status line, no carriage returns or escape sequences.
  assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b'), JSON.stringify(r.stderr));
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
});

test('wait returns 0 within a couple of seconds of an expiry, never before it', async (t) => {
  const ns = await testNamespace(t, 'wait');
  const name = uniqueName('exp');
  await acquireOk(ns, name, '4s');
  const waiter = startCmlock(['wait', name, '-n', ns]);
  const lock = await serverLock(ns, name);
  assert.ok(lock, 'the lock is held');
  const expiry = leaseEnd(lock);

  const r = await waiter.result;
  const exitedAt = waiter.exitedAt() ?? NaN;
  t.diagnostic(`wait exited ${seconds(exitedAt - expiry)} after the lease ended`);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(exitedAt > expiry, `wait exited ${expiry - exitedAt} ms before the lease ended`);
  assert.ok(exitedAt - expiry < AFTER_EXPIRY_MS, `wait exited ${exitedAt - expiry} ms after the lease ended`);
  // Nobody touched the lock: the waiter's own expiry timer ended the wait.
  assert.equal((await serverLock(ns, name))?.resourceVersion, lock.resourceVersion);
});

test('wait exits 3 at its --timeout, saying who holds the lock', async (t) => {
  const ns = await testNamespace(t, 'wait');
  const name = uniqueName('tmo');
  await acquireOk(ns, name, '1h');
  const launched = Date.now();
  const waiter = startCmlock(['wait', name, '-n', ns, '--timeout', '2s']);
  // The timeout runs from the first read: measure from the first status line (the start of kubectl and node
  // is not part of it).
  await stderrMatches(waiter, new RegExp(`waiting for lock "${name}"`));
  const waiting = Date.now();
  const r = await waiter.result;
  const exitedAt = waiter.exitedAt() ?? NaN;
  t.diagnostic(
    `started waiting ${seconds(waiting - launched)} after launch; exited ${seconds(exitedAt - waiting)} later`,
  );
  assert.equal(r.code, 3, r.stderr);
  assert.ok(exitedAt - launched >= 2000, `gave up ${exitedAt - launched} ms after launch`);
  assert.ok(exitedAt - waiting < 2000 + PROMPTLY_MS, `gave up ${exitedAt - waiting} ms after it started waiting`);
  assert.match(r.stderr, /^error: .*holder@e2e/m);

  const once = await cmlock(['wait', name, '-n', ns, '--timeout', '0']);
  assert.equal(once.code, 3, once.stderr);
  assert.match(once.stderr, /^error: .*holder@e2e/m);
});

test('wait on a lock that does not exist returns 0 at once', async (t) => {
  const ns = await testNamespace(t, 'wait');
  const r = await cmlock(['wait', uniqueName('none'), '-n', ns, '--timeout', '0']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
});
