// cmlock inside a Pod, for real: the plugin runs in a private mount namespace (unshare -m, as root) that has a
// service-account token of the test cluster at the standard path and the environment a Pod would have
// (KUBERNETES_SERVICE_HOST/PORT, POD_NAME and POD_NAMESPACE from the downward API), with no kubeconfig at all.
// The Pod is a real object in the test cluster (no node runs it). It must use the in-cluster config, lock in the
// Pod's namespace, name the Pod as holder, tie the lock to the Pod's real UID, and deleting the Pod must free
// the lock: the garbage collector deletes it and a waiter gets it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clusterDir } from '../../scripts/cluster-lib.ts';
import {
  clusterState,
  collect,
  eventually,
  kubectl,
  kubectlOk,
  pluginDir,
  testNamespace,
  uniqueName,
} from './harness.ts';
import { show, type ConfigMapJson, type LockJson } from './lock-helpers.ts';
import { startCmlock, stderrMatches } from './run-helpers.ts';

function canUnshare(): boolean {
  return process.getuid?.() === 0 && process.platform === 'linux';
}

interface FakePod {
  ns: string;
  pod: string;
  uid: string;
  token: string;
  /** A directory to bind-mount over /var/run, holding secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}. */
  runDir: string;
  env: Record<string, string>;
}

/**
 * A ServiceAccount bound to the lock Role (deploy/rbac.yaml) in `ns`, a Pod running as it, and what the kubelet
 * would give that Pod: a token bound to the Pod, the cluster CA, the namespace file and the downward-API env.
 */
async function fakePod(ns: string): Promise<FakePod> {
  const sa = uniqueName('batch');
  const pod = uniqueName('worker');
  await kubectlOk(['-n', ns, 'create', 'serviceaccount', sa]);
  await kubectlOk(['-n', ns, 'create', 'rolebinding', `${sa}-cmlock`, '--role=cmlock', `--serviceaccount=${ns}:${sa}`]);
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod, namespace: ns },
    spec: { serviceAccountName: sa, containers: [{ name: 'job', image: 'registry.invalid/job:1' }] },
  };
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  const uid = (await kubectlOk(['-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.metadata.uid}'])).trim();
  const token = (
    await kubectlOk([
      '-n',
      ns,
      'create',
      'token',
      sa,
      '--bound-object-kind=Pod',
      `--bound-object-name=${pod}`,
      `--bound-object-uid=${uid}`,
    ])
  ).trim();
  const runDir = mkdtempSync(join(tmpdir(), 'cmlock-pod-run-'));
  const saDir = join(runDir, 'secrets', 'kubernetes.io', 'serviceaccount');
  mkdirSync(saDir, { recursive: true });
  writeFileSync(join(saDir, 'token'), token, { mode: 0o600 });
  copyFileSync(join(clusterDir, 'ca.crt'), join(saDir, 'ca.crt'));
  writeFileSync(join(saDir, 'namespace'), ns);
  const server = new URL(clusterState().server);
  const home = mkdtempSync(join(tmpdir(), 'cmlock-pod-home-')); // no .kube in it
  return {
    ns,
    pod,
    uid,
    token,
    runDir,
    env: {
      HOME: home,
      PATH: `${pluginDir()}:/usr/bin:/bin`,
      LANG: 'C.UTF-8',
      KUBERNETES_SERVICE_HOST: server.hostname, // the serving certificate names 127.0.0.1
      KUBERNETES_SERVICE_PORT: server.port,
      POD_NAME: pod,
      POD_NAMESPACE: ns,
    },
  };
}

/**
 * Runs `kubectl-cmlock ARGS` directly (no kubectl inside a Pod) in a private mount namespace where /var/run is
 * the fake Pod's run directory. The environment is exactly `env`: no KUBECONFIG.
 */
function inPod(p: FakePod, args: string[], env: Record<string, string> = p.env) {
  // A private UTS namespace too: the hostname is the Pod's name, as the kubelet sets it.
  const script = 'mount --bind "$1" /var/run && hostname "$2" && shift 2 && exec kubectl-cmlock "$@"';
  const child = spawn(
    'unshare',
    ['-m', '-u', '--propagation', 'private', 'sh', '-c', script, 'sh', p.runDir, p.pod, ...args],
    { env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return collect(child, 60_000);
}

test(
  'in a Pod: in-cluster config, the Pod namespace, the Pod as holder and owner; deleting the Pod frees the lock',
  {
    skip: canUnshare() ? false : 'needs root on Linux for unshare -m',
  },
  async (t) => {
    const ns = await testNamespace(t, 'inpod');
    const p = await fakePod(ns);
    const name = uniqueName('nightly');

    // The plugin sees no kubeconfig; without the mounted token it has nothing to go on.
    const outside = await collect(
      spawn(join(pluginDir(), 'kubectl-cmlock'), ['ls'], { env: p.env, stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    assert.equal(outside.code, 1, show(outside));
    assert.match(outside.stderr, /no kubeconfig found/);

    // No -n, no --owner, no --identity: everything comes from the Pod's environment.
    const took = await inPod(p, ['acquire', name, '--reason', 'nightly batch', '-o', 'json', '-v', '1']);
    assert.equal(took.code, 0, show(took));
    assert.match(
      took.stderr,
      new RegExp(`using the in-cluster service account, server https://127\\.0\\.0\\.1:\\d+, namespace "${ns}"`),
    );
    assert.ok(!`${took.stdout}${took.stderr}`.includes(p.token), 'no token in the output');
    const lock = JSON.parse(took.stdout) as LockJson;
    assert.equal(lock.namespace, ns, 'the Pod namespace, from the service-account namespace file');
    assert.equal(lock.holder, `pod/${ns}/${p.pod}`);
    assert.match(lock.user, new RegExp(`^system:serviceaccount:${ns}:`), 'the authenticated service account');
    assert.equal(lock.owner, `pod/${p.pod}`);

    const cm = JSON.parse(await kubectlOk(['-n', ns, 'get', 'configmap', name, '-o', 'json'])) as ConfigMapJson;
    assert.deepEqual(cm.metadata.ownerReferences, [
      { apiVersion: 'v1', kind: 'Pod', name: p.pod, uid: p.uid, blockOwnerDeletion: false },
    ]);

    // The same Pod sees its own lock (ls in the Pod's namespace), as holder.
    const ls = await inPod(p, ['ls', '--no-headers']);
    assert.equal(ls.code, 0, show(ls));
    assert.match(ls.stdout, new RegExp(`^${name}\\s+pod/${ns}/${p.pod}\\s+Held\\s`));

    // Someone outside waits for it; the lease is an hour, so only the Pod's deletion can free it in time.
    const waiter = startCmlock(['acquire', name, '-n', ns, '--identity', 'next@e2e', '--ttl', '1m'], {
      timeoutMs: 90_000,
    });
    await stderrMatches(waiter, new RegExp(`waiting for lock "${name}": held by pod/${ns}/${p.pod}`));
    assert.equal(waiter.exitedAt(), undefined, 'the waiter waits');

    const deletedAt = Date.now();
    await kubectlOk(['-n', ns, 'delete', 'pod', p.pod, '--wait=true']);
    const got = await waiter.result;
    const waited = (waiter.exitedAt() ?? Date.now()) - deletedAt;
    t.diagnostic(`the waiter had the lock ${(waited / 1000).toFixed(1)}s after the Pod was deleted`);
    assert.equal(got.code, 0, show(got));
    assert.match(got.stdout + got.stderr, new RegExp(`acquired lock "${name}"`));
    const after = JSON.parse(await kubectlOk(['-n', ns, 'get', 'configmap', name, '-o', 'json'])) as ConfigMapJson;
    assert.equal(after.data?.['holderIdentity'], 'next@e2e');
    assert.deepEqual(
      after.metadata.ownerReferences?.map((o) => [o.kind, o.uid]),
      [['ConfigMap', after.metadata.uid]],
      'the new holder is not tied to the deleted Pod: the lock owns itself',
    );

    // The Pod's token was bound to the Pod: with the Pod gone, it stops working. The API server checks the
    // Pod through a cache, so give it a moment rather than expecting the very next request to be refused.
    let dead = await inPod(p, ['ls']);
    await eventually(
      async () => (dead = await inPod(p, ['ls'])).code === 1,
      30_000,
      "the deleted Pod's bound token is refused",
    );
    assert.match(dead.stderr, /^error: /m, show(dead));
    await kubectl(['-n', ns, 'delete', 'configmap', name, '--ignore-not-found']);
  },
);

test(
  'in a Pod without POD_NAME: the hostname names the Pod, in the service account namespace; its deletion frees the lock',
  {
    skip: canUnshare() ? false : 'needs root on Linux for unshare -m -u',
  },
  async (t) => {
    const ns = await testNamespace(t, 'inpodh');
    const p = await fakePod(ns);
    const name = uniqueName('hostname');
    // No downward API in this Pod spec.
    const env = Object.fromEntries(Object.entries(p.env).filter(([k]) => k !== 'POD_NAME' && k !== 'POD_NAMESPACE'));

    const took = await inPod(p, ['acquire', name, '-o', 'json'], env);
    assert.equal(took.code, 0, show(took));
    assert.equal(took.stderr, '', 'no warning: the Pod was found');
    const lock = JSON.parse(took.stdout) as LockJson;
    assert.equal(lock.holder, `pod/${ns}/${p.pod}`);
    assert.equal(lock.owner, `pod/${p.pod}`);
    const cm = JSON.parse(await kubectlOk(['-n', ns, 'get', 'configmap', name, '-o', 'json'])) as ConfigMapJson;
    assert.equal(cm.metadata.ownerReferences?.[0]?.uid, p.uid);

    await kubectlOk(['-n', ns, 'delete', 'pod', p.pod, '--wait=true']);
    await eventually(
      async () => (await kubectl(['-n', ns, 'get', 'configmap', name])).code !== 0,
      30_000,
      'the garbage collector deletes the lock of the deleted Pod',
    );
  },
);
