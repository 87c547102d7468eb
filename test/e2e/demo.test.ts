// `npm run demo` end to end, on the cluster that is already running (it must not start another), in a namespace
// of its own: it exits 0, prints every step's command and the outcomes a reader is told about, and leaves no
// lock and no process behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { clusterDir, repoRoot } from '../../scripts/cluster-lib.ts';
import { clusterState, collect, kubectl, kubectlOk, pluginDir, sealedEnv, uniqueName } from './harness.ts';
import { show } from './lock-helpers.ts';

/** Processes whose environment holds `needle` (Linux: /proc/PID/environ). */
function processesWith(needle: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('npm run demo plays the runbook against the running cluster and leaves nothing behind', async (t) => {
  const server = clusterState().server;
  const ns = uniqueName('demo');
  const kubeconfig = join(clusterDir, `${ns}.kubeconfig`);
  t.after(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
    rmSync(kubeconfig, { force: true });
  });

  const started = Date.now();
  const env = { ...sealedEnv(), CMLOCK_DEMO_NAMESPACE: ns, CMLOCK_PLUGIN_DIR: pluginDir() };
  const demo = spawn(process.execPath, [join(repoRoot, 'scripts', 'demo.ts')], {
    cwd: repoRoot,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const r = await collect(demo, 180_000);
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`the demo took ${seconds.toFixed(1)}s`);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stderr, new RegExp(`cluster: already running: ${server.replaceAll('.', '\\.')}`));
  assert.doesNotMatch(r.stderr, /cluster: starting/, 'the running cluster is used, not a new one');

  const text = r.stdout + r.stderr;
  const expect = (pattern: RegExp | string, what: string) =>
    assert.ok(typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text), `${what}\n${text}`);
  expect(`API server ${server}`, 'says which API server');
  expect(`export KUBECONFIG=${kubeconfig}`, 'tells how to type along');
  expect(
    "$ kubectl cmlock acquire db-migrate --ttl 10m --reason 'schema v42' --identity alice@laptop",
    'prints the exact command',
  );
  expect(`acquired lock "db-migrate" in namespace "${ns}"`, 'Alice takes the lock');
  expect('error: lock "db-migrate" is held by alice@laptop', 'Bob is refused, with the holder');
  expect('(exit 3: held by someone else)', 'and the exit code');
  expect(/^db-migrate\s+alice@laptop\s+Held\s/m, 'ls shows the holder');
  expect(/\[bob\] waiting for lock "db-migrate": held by alice@laptop/, 'Bob waits');
  expect(/\[bob\] acquired lock "db-migrate"/, 'and gets it when Alice releases');
  expect(/\[run\] db-migrate\s+alice@laptop\/run-\d+-\w+\s+Held\s/, 'run holds the lock while the command runs');
  expect(/\[run\] migrating with fence \d+\.\.\. done/, 'the protected command ran, with the fencing token');
  expect(/\$ kill -KILL \d+\n/, 'the crash is a real kill, of run alone');
  expect(/\[ci\] kubectl-cmlock: run died without stopping its command; sent SIGTERM/, 'the watchdog stops CMD');
  expect(/took over expired lock "db-migrate" from ci-runner-7\/run-/, 'the expired lock is taken over');
  expect(/Normal\s+TookOver\s+.*bob@ci \(user admin\) took over the lock from ci-runner-7/, 'describe: history');
  expect(`No locks found in namespace "${ns}".`, 'nothing left at the end');
  expect('deploy/rbac.yaml', 'how to use it on your own cluster');
  expect('npm run cluster:stop', 'how to stop the cluster');
  assert.equal(text.match(/^\[\d\/7\] /gm)?.length, 7, 'seven steps');

  const locks = await kubectlOk(['get', 'configmaps', '-n', ns, '-l', 'app.kubernetes.io/managed-by', '-o', 'name']);
  assert.equal(locks.trim(), '', 'no lock left behind');
  // Every process the demo started carried its kubeconfig; the crashed job's command its namespace.
  assert.deepEqual(processesWith(`KUBECONFIG=${kubeconfig}`), [], 'no cmlock process left behind');
  assert.deepEqual(processesWith(`CMLOCK_NAMESPACE=${ns}`), [], 'no command left behind');
});
