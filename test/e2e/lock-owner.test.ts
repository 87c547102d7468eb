// Owner references: `acquire --owner pod/NAME` ties the lock to a Pod; when the Pod is deleted the garbage
// collector deletes the lock, and it can be taken again (also by a waiter). An owner in another namespace, or one
// that does not exist, is refused before anything is created.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmlock, eventually, kubectlOk, testNamespace, uniqueName } from './harness.ts';
import {
  acquireJson,
  assertErrorLine,
  cmlockOk,
  configMapNames,
  createPod,
  getConfigMap,
  mustGetConfigMap,
  show,
  startCmlock,
} from './lock-helpers.ts';

test('owner Pod deleted: the garbage collector removes its locks, they can be acquired again, a waiter gets one', async (t) => {
  const ns = await testNamespace(t, 'owner');
  const pod = uniqueName('worker');
  const podUid = await createPod(ns, pod);
  const [plain, waited] = [uniqueName('owned'), uniqueName('owned')];
  const [lock] = await Promise.all([
    acquireJson(ns, plain, ['--identity', 'job', '--owner', `pod/${pod}`, '--ttl', '1h']),
    acquireJson(ns, waited, ['--identity', 'job', '--owner', `pod/${pod}`, '--ttl', '1h']),
  ]);
  assert.equal(lock.owner, `pod/${pod}`);
  const cm = await mustGetConfigMap(ns, plain);
  assert.equal(cm.metadata.ownerReferences?.length, 1);
  const [ref] = cm.metadata.ownerReferences ?? [];
  assert.deepEqual(
    { apiVersion: ref?.apiVersion, kind: ref?.kind, name: ref?.name, uid: ref?.uid },
    { apiVersion: 'v1', kind: 'Pod', name: pod, uid: podUid },
  );
  assert.notEqual(ref?.blockOwnerDeletion, true, 'the lock never blocks the deletion of its Pod');

  const waiter = startCmlock(['acquire', waited, '-n', ns, '--identity', 'next', '--timeout', '2m']);
  await waiter.waitForStderr(new RegExp(`waiting for lock "${waited}": held by job`));

  await kubectlOk(['delete', 'pod', pod, '-n', ns, '--wait=false']);
  await eventually(async () => (await getConfigMap(ns, plain)) === undefined, 60_000, 'the GC deletes the owned lock');
  const again = await cmlockOk(['acquire', plain, '-n', ns, '--identity', 'next', '--timeout', '0']);
  assert.match(again.stdout, new RegExp(`^acquired lock "${plain}" in namespace "${ns}"`), 'a fresh acquisition');

  const r = await waiter.done;
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`^acquired lock "${waited}" in namespace "${ns}"`));
  const taken = await mustGetConfigMap(ns, waited);
  assert.equal(taken.data?.['holderIdentity'], 'next');
  assert.deepEqual(
    taken.metadata.ownerReferences,
    [{ apiVersion: 'v1', kind: 'ConfigMap', name: waited, uid: taken.metadata.uid, blockOwnerDeletion: false }],
    'not tied to the deleted Pod: the lock owns itself',
  );
});

test('--owner in another namespace or a Pod that does not exist is refused, and nothing is created', async (t) => {
  const ns = await testNamespace(t, 'owner');
  const pod = uniqueName('worker');
  await createPod(ns, pod);
  const name = uniqueName('lock');
  const before = await configMapNames(ns);
  const [crossWithN, crossByContext, missing] = await Promise.all([
    cmlock(['acquire', name, '-n', ns, '--owner', `pod/other-ns/${pod}`]),
    // No -n: the lock goes to the context's namespace ("default"), the Pod is in ours.
    cmlock(['acquire', name, '--owner', `pod/${ns}/${pod}`]),
    cmlock(['acquire', name, '-n', ns, '--owner', 'pod/no-such-pod']),
  ]);
  assertErrorLine(
    crossWithN,
    2,
    /^error: owner references cannot cross namespaces: the lock is in namespace "[^"]+", pod "[^"]+" in "other-ns"/,
  );
  assertErrorLine(
    crossByContext,
    2,
    new RegExp(
      `^error: owner references cannot cross namespaces: the lock is in namespace "default", pod "${pod}" in "${ns}"`,
    ),
  );
  assertErrorLine(missing, 1, new RegExp(`^error: pod "no-such-pod" not found in namespace "${ns}"`));
  assert.deepEqual(await configMapNames(ns), before, 'no ConfigMap was created');
  assert.equal(await getConfigMap('default', name), undefined, 'nor in the context namespace');
});
