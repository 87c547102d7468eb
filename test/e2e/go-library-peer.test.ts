// The Go library (test/go-peer, which behaves like it) meeting cmlock's locks on the real API server: it breaks an
// expired cmlock lock, one taken outside a Pod and one cmlock took over from it, without crashing (the library
// logs a stale lock's first ownerReference as it deletes it: a lock without one makes it panic); its strict
// Release refuses a lock cmlock took over and leaves it alone; and when its Pod is deleted, the garbage collector
// removes its never-expiring lock and a cmlock waiter gets it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubectlOk, testNamespace, uniqueName } from './harness.ts';
import { assertNoPanic, goPeer, goPeerOk, peerHolds, peerPod, startGoPeer } from './go-peer.ts';
import { acquireJson, cmlockOk, getConfigMap, mustGetConfigMap, show, startCmlock } from './lock-helpers.ts';

test('the Go library breaks an expired lock cmlock took outside a Pod, without crashing', async (t) => {
  const ns = await testNamespace(t, 'gobreak');
  const p = await peerPod(ns, uniqueName('go-app'));
  const name = uniqueName('outside');
  await acquireJson(ns, name, ['--identity', 'alice@laptop', '--ttl', '1s']);
  const ours = await mustGetConfigMap(ns, name);

  // Its first try finds the lock live (by its own clock), sleeps 1 s, 2 s, ... and finds it stale on a later try.
  const r = await goPeer(p, ['acquire', name, '--timeout', '30s']);
  assertNoPanic(r, 'go-peer acquire over an expired cmlock lock');
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`^acquired lock ${name} `));
  const theirs = await mustGetConfigMap(ns, name);
  assert.notEqual(theirs.metadata.uid, ours.metadata.uid, 'deleted and created anew');
  assert.deepEqual(
    theirs.metadata.ownerReferences?.map((o) => o.uid),
    [p.uid],
  );
  assert.equal(ours.metadata.ownerReferences?.length, 1, 'the lock cmlock wrote had exactly one ownerReference');

  await goPeerOk(p, ['release', name]);
  assert.equal(await getConfigMap(ns, name), undefined);
});

test('a lock cmlock took over from the Go library: its Release refuses it, and it breaks it once expired', async (t) => {
  const ns = await testNamespace(t, 'goover');
  const [first, second] = await Promise.all([
    peerPod(ns, uniqueName('go-first')),
    peerPod(ns, uniqueName('go-second')),
  ]);
  const name = uniqueName('taken');
  // A Go lock that expires a second after its Acquire started.
  await goPeerOk(first, ['acquire', name, '--timeout', '1s']);
  const goLock = await mustGetConfigMap(ns, name);
  assert.deepEqual(goLock.metadata.ownerReferences, [
    { apiVersion: 'v1', kind: 'Pod', name: first.pod, uid: first.uid, controller: true },
  ]);
  assert.deepEqual(goLock.metadata.labels ?? {}, {}, 'the library writes no label of its own');

  const over = await cmlockOk(['acquire', name, '-n', ns, '--identity', 'bob', '--ttl', '2s', '--timeout', '30s']);
  assert.match(over.stdout, new RegExp(`^took over expired lock "${name}" from pod/${first.pod} `), show(over));
  const ours = await mustGetConfigMap(ns, name);
  assert.equal(ours.metadata.uid, goLock.metadata.uid, 'an update of the same object');

  // The Go program that held it now releases "its" lock: the library's strict check refuses (one owner, its Pod).
  const refused = await goPeer(first, ['release', name]);
  assertNoPanic(refused, 'go-peer release of a lock cmlock took over');
  assert.equal(refused.code, 1, show(refused));
  assert.match(refused.stderr, /^error: Owner references on found lock is malformed$/m);
  const still = await mustGetConfigMap(ns, name);
  assert.equal(still.metadata.resourceVersion, ours.metadata.resourceVersion, "cmlock's lock is untouched");

  // cmlock's two-second lease runs out; another Go program breaks the lock on a later try.
  const r = await goPeer(second, ['acquire', name, '--timeout', '30s']);
  assertNoPanic(r, 'go-peer acquire over an expired lock cmlock took over');
  assert.equal(r.code, 0, show(r));
  const theirs = await mustGetConfigMap(ns, name);
  assert.deepEqual(
    theirs.metadata.ownerReferences?.map((o) => o.uid),
    [second.uid],
  );
  assert.equal(ours.metadata.ownerReferences?.length, 1, 'the lock cmlock took over had exactly one ownerReference');
  assert.notEqual(ours.metadata.ownerReferences?.[0]?.uid, first.uid, 'not the Pod it was taken from');
});

test("the Go library's Pod deleted: the GC removes its never-expiring lock and a cmlock waiter gets it", async (t) => {
  const ns = await testNamespace(t, 'gogc');
  const p = await peerPod(ns, uniqueName('go-app'));
  const name = uniqueName('forever');
  // Timeout 0: no expiresAt at all. Only the garbage collector can free it.
  const holder = startGoPeer(p, ['hold', name, '--timeout', '0']);
  t.after(() => holder.finish());
  await peerHolds(holder);
  const goLock = await mustGetConfigMap(ns, name);
  assert.deepEqual(goLock.data ?? {}, {}, 'no expiresAt');

  const waiter = startCmlock(['acquire', name, '-n', ns, '--identity', 'next', '--ttl', '1m', '--timeout', '2m'], {
    timeoutMs: 150_000,
  });
  await waiter.waitForStderr(new RegExp(`waiting for lock "${name}": held by pod/${p.pod}`));
  assert.equal(waiter.exited(), false, 'the waiter waits: the lock never expires');

  const deletedAt = Date.now();
  await kubectlOk(['delete', 'pod', p.pod, '-n', ns, '--wait=false']);
  const got = await waiter.done;
  t.diagnostic(`the waiter had the lock ${((Date.now() - deletedAt) / 1000).toFixed(1)}s after the Pod was deleted`);
  assert.equal(got.code, 0, show(got));
  assert.match(got.stdout, new RegExp(`^acquired lock "${name}" in namespace "${ns}"`), show(got));
  const ours = await mustGetConfigMap(ns, name);
  assert.notEqual(ours.metadata.uid, goLock.metadata.uid, 'the collector deleted the Go lock; cmlock created its own');
  assert.equal(ours.data?.['holderIdentity'], 'next');

  // The Go program, told to let go, finds a lock that is not its own: it must neither crash nor delete it.
  holder.finish();
  const released = await holder.done;
  assertNoPanic(released, 'go-peer release after its Pod was deleted');
  assert.equal(released.code, 1, show(released));
  const still = await mustGetConfigMap(ns, name);
  assert.equal(still.metadata.resourceVersion, ours.metadata.resourceVersion, "cmlock's lock is untouched");
});
