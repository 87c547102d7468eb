// The ground every other test stands on: a real API server with RBAC, static-token users, the lock Role,
// and a working garbage collector.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, kubectl, kubectlOk, testNamespace, uniqueName } from './harness.ts';

test('alice (authenticated, no rights) is refused with 403', async () => {
  const r = await kubectl(['--context', 'alice', 'get', 'configmaps', '-n', 'default']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Forbidden.*User "alice" cannot list resource "configmaps"/);
});

test('locker (bound to deploy/rbac.yaml only) can create and delete a ConfigMap', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('cm');
  await kubectlOk(['--context', 'locker', '-n', ns, 'create', 'configmap', name, '--from-literal=a=b']);
  assert.equal(
    (await kubectlOk(['--context', 'locker', '-n', ns, 'get', 'configmap', name, '-o', 'name'])).trim(),
    `configmap/${name}`,
  );
  await kubectlOk(['--context', 'locker', '-n', ns, 'delete', 'configmap', name]);
  // ...but nothing beyond the Role: no secrets.
  const denied = await kubectl(['--context', 'locker', '-n', ns, 'get', 'secrets']);
  assert.match(denied.stderr, /Forbidden/);
});

test('a ConfigMap owned by a Pod is garbage-collected after the Pod is deleted', async (t) => {
  const ns = await testNamespace(t);
  const pod = uniqueName('owner');
  await kubectlOk(['-n', ns, 'run', pod, '--image=registry.invalid/none', '--restart=Never']);
  const uid = (await kubectlOk(['-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.metadata.uid}'])).trim();
  const cm = uniqueName('owned');
  const manifest = JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: cm, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod, uid }] },
  });
  await kubectlOk(['-n', ns, 'apply', '-f', '-'], { input: manifest });
  await kubectlOk(['-n', ns, 'delete', 'pod', pod, '--wait=true']);
  await eventually(
    async () => (await kubectl(['-n', ns, 'get', 'configmap', cm])).code !== 0,
    30_000,
    'the owned ConfigMap is garbage-collected',
  );
});
