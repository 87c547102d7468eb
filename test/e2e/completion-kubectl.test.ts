// Shell completion against the real control plane, the way a shell asks for it: kubectl's own plugin completion
// (`kubectl __complete cmlock ...`, which runs kubectl_complete-cmlock from PATH, kubectl 1.26+), and the
// standalone bash script of `kubectl-cmlock completion bash`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { complete } from './completion-helpers.ts';
import { cmlock, runSealed, sealedEnv, testNamespace, uniqueName } from './harness.ts';
import { show } from './lock-helpers.ts';

test('kubectl __complete cmlock: commands, flags and flag values', async () => {
  const commands = await complete(['']);
  assert.deepEqual(commands.candidates, [
    'acquire',
    'release',
    'renew',
    'ls',
    'describe',
    'wait',
    'run',
    'version',
    'completion',
  ]);
  assert.equal(commands.directive, ':4', 'no file names among commands');
  assert.deepEqual((await complete(['re'])).candidates, ['release', 'renew']);
  assert.deepEqual((await complete(['release', '--ig'])).candidates, ['--ignore-not-found']);
  assert.deepEqual((await complete(['ls', '-o', ''])).candidates, ['wide', 'json', 'yaml', 'name']);
  assert.deepEqual((await complete(['completion', ''])).candidates, ['bash', 'zsh', 'fish']);
  assert.ok((await complete(['acquire', 'x', '--'])).candidates.includes('--ttl'));
});

test('kubectl __complete cmlock: contexts from the kubeconfig, namespaces and lock names from the cluster', async (t) => {
  const ns = await testNamespace(t, 'complete');
  const [one, two] = [uniqueName('deploy'), uniqueName('drain')];
  assert.deepEqual((await complete(['--context', ''])).candidates, ['admin', 'alice', 'locker']);
  assert.deepEqual((await complete(['ls', '--context', 'lo'])).candidates, ['locker']);

  const namespaces = await complete(['acquire', 'x', '-n', '']);
  assert.ok(namespaces.candidates.includes(ns), `${ns} in ${namespaces.candidates.join(' ')}`);
  assert.ok(namespaces.candidates.includes('kube-system'));
  assert.deepEqual((await complete(['-n', ns.slice(0, -2)])).candidates, [ns]);
  // locker may not list namespaces: its context's own is offered.
  assert.deepEqual((await complete(['--context', 'locker', '-n', ''])).candidates, ['default']);

  assert.deepEqual((await complete(['release', '-n', ns, ''])).candidates, [], 'no locks yet');
  for (const name of [one, two]) {
    const r = await cmlock(['acquire', name, '-n', ns, '--identity', 'e2e@complete']);
    assert.equal(r.code, 0, show(r));
  }
  assert.deepEqual((await complete(['release', '-n', ns, ''])).candidates, [one, two].sort());
  assert.deepEqual((await complete(['-n', ns, 'describe', 'dra'])).candidates, [two]);
  // The connection flags typed so far are used: locker is bound to the lock Role in this namespace, alice is not
  // (her lookup is refused, and completion stays quiet).
  assert.deepEqual((await complete(['wait', `--namespace=${ns}`, '--context', 'locker', 'de'])).candidates, [one]);
  assert.deepEqual((await complete(['wait', `--namespace=${ns}`, '--context', 'alice', 'de'])).candidates, []);
  assert.deepEqual((await complete(['renew', one, ''])).candidates, [], 'one NAME only');
});

test('the standalone bash script completes lock names from the cluster', { skip: !hasBash() }, async (t) => {
  const ns = await testNamespace(t, 'bashcomp');
  const name = uniqueName('migrate');
  const r = await cmlock(['acquire', name, '-n', ns, '--identity', 'e2e@complete']);
  assert.equal(r.code, 0, show(r));
  const script = await runSealed('kubectl', ['cmlock', 'completion', 'bash']);
  assert.equal(script.code, 0, show(script));
  // What bash does on `kubectl-cmlock describe --namespace=NS mig<TAB>` (it splits words at "=").
  const words = ['kubectl-cmlock', 'describe', '--namespace', '=', ns, 'mig'];
  const reply = execFileSync(
    'bash',
    [
      '-c',
      'eval "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kubectl_cmlock; printf "%s\\n" "${COMPREPLY[@]}"',
      'bash',
      script.stdout,
      ...words,
    ],
    { env: sealedEnv(), encoding: 'utf8' },
  );
  assert.equal(reply, `${name}\n`);
});

function hasBash(): boolean {
  try {
    execFileSync('bash', ['-c', 'true']);
    return true;
  } catch {
    return false;
  }
}
