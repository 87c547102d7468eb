// The zsh and fish scripts of `kubectl cmlock completion zsh|fish`, run by real zsh and fish (Debian packages
// "zsh" and "fish"; .ci/run installs them) against the real control plane. fish is asked exactly as its
// completion machinery asks (`complete -C LINE`). zsh's completion system needs a terminal, so the script runs
// in real zsh with only its two helpers stood in for: `_describe` and `_files` print what they are given.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { cmlock, runSealed, sealedEnv, testNamespace, uniqueName } from './harness.ts';
import { show } from './lock-helpers.ts';

const ZSH_DRIVER = `
_describe() { print -rl -- "\${(@P)2}" }
_files() { print -r -- '<files>' }
compdef() { : }
eval "$1"; shift
for line in "$@"; do
  words=(\${(z)line})
  [[ $line == *' ' ]] && words+=('')
  CURRENT=\${#words}
  print -r -- "== $line"
  _kubectl_cmlock
done
`;

async function script(shell: 'zsh' | 'fish'): Promise<string> {
  const r = await runSealed('kubectl', ['cmlock', 'completion', shell]);
  assert.equal(r.code, 0, show(r));
  return r.stdout;
}

/** What zsh's completion would offer for each command line: `== LINE`, then one offer a line. */
function zshOffers(source: string, lines: string[]): string {
  return execFileSync('zsh', ['-f', '-c', ZSH_DRIVER, 'zsh', source, ...lines], {
    env: sealedEnv(),
    encoding: 'utf8',
  });
}

/** fish's completions for a command line (`complete -C`), one `value<TAB>description` a line. */
function fishOffers(source: string, line: string): string[] {
  const out = execFileSync('fish', ['--no-config', '-c', `${source}\ncomplete -C $argv[1]`, line], {
    env: sealedEnv(),
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l !== '');
}

test('zsh: commands with descriptions, flag values, contexts and lock names from the cluster', async (t) => {
  const ns = await testNamespace(t, 'zshcomp');
  const name = uniqueName('migrate');
  const r = await cmlock(['acquire', name, '-n', ns, '--identity', 'e2e@complete']);
  assert.equal(r.code, 0, show(r));
  const offers = zshOffers(await script('zsh'), [
    'kubectl-cmlock re',
    'kubectl-cmlock ls -o ',
    'kubectl-cmlock --context lo',
    `kubectl-cmlock describe -n ${ns} mig`,
    `kubectl-cmlock ls --namespace=${ns.slice(0, -1)}`,
  ]);
  assert.equal(
    offers,
    [
      '== kubectl-cmlock re',
      'release:Release a lock you hold',
      'renew:Extend a lock you hold',
      '== kubectl-cmlock ls -o ',
      'wide',
      'json',
      'yaml',
      'name',
      '== kubectl-cmlock --context lo',
      'locker',
      `== kubectl-cmlock describe -n ${ns} mig`,
      name,
      `== kubectl-cmlock ls --namespace=${ns.slice(0, -1)}`,
      `--namespace=${ns}`,
      '',
    ].join('\n'),
  );
});

test('fish: commands with descriptions, flag values, contexts and lock names from the cluster', async (t) => {
  const ns = await testNamespace(t, 'fishcomp');
  const name = uniqueName('drain');
  const r = await cmlock(['acquire', name, '-n', ns, '--identity', 'e2e@complete']);
  assert.equal(r.code, 0, show(r));
  const source = await script('fish');
  assert.deepEqual(fishOffers(source, 'kubectl-cmlock re'), [
    'release\tRelease a lock you hold',
    'renew\tExtend a lock you hold',
  ]);
  assert.deepEqual(fishOffers(source, 'kubectl-cmlock ls -o '), ['json', 'name', 'wide', 'yaml']);
  assert.deepEqual(fishOffers(source, 'kubectl-cmlock --context '), ['admin', 'alice', 'locker']);
  assert.deepEqual(fishOffers(source, `kubectl-cmlock release -n ${ns} dr`), [name]);
});
