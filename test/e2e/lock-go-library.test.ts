// Locks written by the Go library: a ConfigMap with only `expiresAt` (Unix seconds) and a Pod ownerReference, no
// cmlock record and no managed-by label, written here by hand. describe shows it; acquire takes it over once
// expired (keeping exactly one ownerReference, not the Go Pod) and refuses it (exit 3) while it is not; release
// --force breaks it; one with no expiresAt at all never expires by time. The go-library-*.test.ts files run a
// program that behaves like the library itself (test/go-peer).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmlock, testNamespace, uniqueName } from './harness.ts';
import {
  applyConfigMap,
  assertErrorLine,
  cmlockOk,
  createPod,
  getConfigMap,
  mustGetConfigMap,
  parseLock,
  show,
} from './lock-helpers.ts';

/** What the Go library writes: expiresAt and the Pod as owner. */
function goLock(name: string, pod: string, uid: string, expiresAt?: number): Record<string, unknown> {
  return {
    metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod, uid }] },
    data: expiresAt === undefined ? {} : { expiresAt: String(expiresAt) },
  };
}

test('a Go library lock: described, taken over once expired, refused while live, broken with --force', async (t) => {
  const ns = await testNamespace(t, 'golib');
  const pod = uniqueName('go-worker');
  const uid = await createPod(ns, pod);
  const [expired, live, forever] = [uniqueName('expired'), uniqueName('live'), uniqueName('forever')];
  const nowSeconds = Math.floor(Date.now() / 1000);
  await Promise.all([
    applyConfigMap(ns, goLock(expired, pod, uid, nowSeconds - 60)),
    applyConfigMap(ns, goLock(live, pod, uid, nowSeconds + 3600)),
    applyConfigMap(ns, goLock(forever, pod, uid)),
  ]);

  const [described, describedJson, liveTry, foreverTry] = await Promise.all([
    cmlockOk(['describe', expired, '-n', ns]),
    cmlockOk(['describe', live, '-n', ns, '-o', 'json']),
    cmlock(['acquire', live, '-n', ns, '--identity', 'bob', '--timeout', '0']),
    cmlock(['acquire', forever, '-n', ns, '--identity', 'bob', '--timeout', '0']),
  ]);
  const expiredAt = new Date((nowSeconds - 60) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  assert.match(described.stdout, new RegExp(`^Holder:\\s+pod/${pod}$`, 'm'), described.stdout);
  assert.match(described.stdout, /^Status:\s+Expired$/m);
  assert.match(described.stdout, new RegExp(`^Expires:\\s+${expiredAt} \\([0-9ms]+ ago\\)$`, 'm'));
  assert.match(described.stdout, new RegExp(`^Owner:\\s+pod/${pod}$`, 'm'));
  assert.match(described.stdout, /^Written By:\s+the Go lock library/m);
  assert.doesNotMatch(described.stdout, /never expires/, 'it does expire');
  const view = parseLock(describedJson.stdout);
  assert.equal(view.foreign, true);
  assert.equal(view.status, 'Held');
  assert.equal(view.expiresAt, new Date((nowSeconds + 3600) * 1000).toISOString());

  assertErrorLine(
    liveTry,
    3,
    new RegExp(`^error: lock "${live}" is held by pod/${pod} since \\S+, expires \\S+ \\(in (59m|1h)`),
  );
  assertErrorLine(
    foreverTry,
    3,
    new RegExp(`^error: lock "${forever}" is held by pod/${pod} since \\S+, never expires`),
  );

  // Expired: taken over. The record is ours now, and the Go library's Pod no longer owns it.
  const before = await mustGetConfigMap(ns, expired);
  const over = await cmlockOk(['acquire', expired, '-n', ns, '--identity', 'bob', '--timeout', '0', '--ttl', '10m']);
  assert.match(
    over.stdout,
    new RegExp(`^took over expired lock "${expired}" from pod/${pod} \\(fence (\\d+)`),
    show(over),
  );
  const after = await mustGetConfigMap(ns, expired);
  assert.equal(after.metadata.uid, before.metadata.uid, 'an update of the same object');
  assert.equal(after.data?.['holderIdentity'], 'bob');
  assert.ok(Number(after.data?.['expiresAt']) > nowSeconds + 500, 'expiresAt for the Go library to honour');
  assert.equal(after.metadata.labels?.['app.kubernetes.io/managed-by'], 'kubectl-cmlock');

  // Live: only --force breaks it; the untouched ones stayed as they were.
  const liveBefore = await mustGetConfigMap(ns, live);
  assert.equal(liveBefore.data?.['expiresAt'], String(nowSeconds + 3600));
  const forced = await cmlockOk(['release', live, '-n', ns, '--identity', 'bob', '--force']);
  assert.match(forced.stderr, new RegExp(`^warning: broke lock "${live}" held by pod/${pod}`));
  assert.equal(await getConfigMap(ns, live), undefined);
  assert.deepEqual((await mustGetConfigMap(ns, forever)).data ?? {}, {});

  // The lock taken over has exactly one owner (issue 12: the library logs a stale lock's first owner and crashes
  // without one), and not the Go library's Pod, whose deletion must not take our lock with it.
  assert.equal(after.metadata.ownerReferences?.length, 1, JSON.stringify(after.metadata));
  assert.notEqual(after.metadata.ownerReferences[0]?.uid, uid, 'not the Pod it was taken from');
});
