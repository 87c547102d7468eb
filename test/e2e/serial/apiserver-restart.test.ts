// Disruptive: restarts the API server, so it runs alone (scripts/e2e.ts runs test/e2e/serial/ after the rest).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApiServer, stopApiServer } from '../../../scripts/cluster-lib.ts';
import { clusterState, kubectl, kubectlOk, testNamespace, uniqueName } from '../harness.ts';

test('restarting only the API server keeps the data (etcd keeps running)', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('survivor');
  await kubectlOk(['-n', ns, 'create', 'configmap', name, '--from-literal=k=v']);
  const state = clusterState();
  await stopApiServer(state);
  const down = await kubectl(['-n', ns, 'get', 'configmap', name, '--request-timeout=2s']);
  assert.notEqual(down.code, 0, 'the API server is really down');
  await startApiServer(state);
  assert.equal((await kubectlOk(['-n', ns, 'get', 'configmap', name, '-o', 'jsonpath={.data.k}'])).trim(), 'v');
});
