// Outside a Pod a lock is its own owner (src/lock/owners.ts): exactly one ownerReference, to its own ConfigMap,
// blockOwnerDeletion false, no controller; the Go library crashes on a lock without one. Proved against the test
// control plane's real garbage collector: in the same namespace it collects ConfigMaps whose owner is gone, and
// leaves the self-owned lock untouched; every kind of delete (background, foreground, orphan) and the deletion of
// its namespace remove the lock and never hang. Taken by the `locker` user, bound only to deploy/rbac.yaml's Role.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, kubectl, kubectlOk, testNamespace, uniqueName } from './harness.ts';
import {
  acquireJson,
  applyConfigMap,
  createPod,
  getConfigMap,
  mustGetConfigMap,
  show,
  type ConfigMapJson,
} from './lock-helpers.ts';

const LOCKER = ['--context', 'locker'];

/** What `kubectl get cm NAME -o yaml` shows as the owner of a lock taken outside a Pod. */
function selfReference(cm: ConfigMapJson): unknown[] {
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', name: cm.metadata.name, uid: cm.metadata.uid, blockOwnerDeletion: false },
  ];
}

test('outside a Pod the lock owns itself, and the garbage collector keeps it', async (t) => {
  const ns = await testNamespace(t, 'selfown');
  const name = uniqueName('self');
  const lock = await acquireJson(ns, name, ['--identity', 'alice@laptop', '--ttl', '1h', ...LOCKER]);
  const cm = await mustGetConfigMap(ns, name);
  assert.deepEqual(cm.metadata.ownerReferences, selfReference(cm));
  assert.equal(lock.owner, '', 'no Pod owns it');
  // The fence is the create's resourceVersion, written down by the update that added the owner.
  assert.equal(cm.data?.['fence'], lock.fence);
  assert.ok(BigInt(cm.metadata.resourceVersion) > BigInt(lock.fence), 'the owner came with a second write');

  // The collector at work in this namespace: a ConfigMap whose owner Pod is deleted, and one whose owner never
  // existed, are collected...
  const pod = uniqueName('owner');
  const podUid = await createPod(ns, pod);
  const owned = (owner: { name: string; uid: string }) => [{ apiVersion: 'v1', kind: 'Pod', ...owner }];
  await Promise.all([
    applyConfigMap(ns, { metadata: { name: 'pod-canary', ownerReferences: owned({ name: pod, uid: podUid }) } }),
    applyConfigMap(ns, {
      metadata: {
        name: 'dangling-canary',
        ownerReferences: owned({ name: 'never', uid: '00000000-0000-0000-0000-000000000000' }),
      },
    }),
  ]);
  await kubectlOk(['delete', 'pod', pod, '-n', ns, '--wait=false']);
  await eventually(
    async () =>
      (await getConfigMap(ns, 'pod-canary')) === undefined && (await getConfigMap(ns, 'dangling-canary')) === undefined,
    60_000,
    'the garbage collector collects the ConfigMaps whose owner is gone',
  );
  // ...and the lock that owns itself is exactly as it was.
  const after = await mustGetConfigMap(ns, name);
  assert.equal(after.metadata.uid, cm.metadata.uid);
  assert.equal(after.metadata.resourceVersion, cm.metadata.resourceVersion, 'untouched');
});

test('a lock that owns itself: background, foreground and orphan deletes remove it, and so does its namespace', async (t) => {
  const ns = await testNamespace(t, 'selfdel');
  const names = ['background', 'foreground', 'orphan'].map((cascade) => [cascade, uniqueName(cascade)] as const);
  await Promise.all(
    names.map(([, name]) => acquireJson(ns, name, ['--identity', 'alice@laptop', '--ttl', '1h', ...LOCKER])),
  );
  for (const [cascade, name] of names) {
    const cm = await mustGetConfigMap(ns, name);
    assert.deepEqual(cm.metadata.ownerReferences, selfReference(cm), `${name}: taken by the Role's user`);
    // --wait: kubectl returns only once the object is gone; a foreground delete that hangs fails the timeout.
    const r = await kubectl(['delete', 'cm', name, '-n', ns, `--cascade=${cascade}`, '--wait=true', '--timeout=60s']);
    assert.equal(r.code, 0, `delete --cascade=${cascade}: ${show(r)}`);
    assert.equal(await getConfigMap(ns, name), undefined, `${cascade}: gone`);
  }

  // The namespace: deleted with a self-owned lock in it, to the end.
  const doomed = uniqueName('selfns');
  await kubectlOk(['create', 'namespace', doomed]);
  t.after(() => kubectl(['delete', 'namespace', doomed, '--wait=false']));
  await acquireJson(doomed, 'last', ['--identity', 'alice@laptop', '--ttl', '1h']);
  const r = await kubectl(['delete', 'namespace', doomed, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
  assert.equal(r.code, 0, `namespace deletion: ${show(r)}`);
  assert.equal((await kubectl(['get', 'namespace', doomed])).code, 1, 'the namespace is gone');
});
