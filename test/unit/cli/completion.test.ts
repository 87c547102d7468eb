import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../../src/cli/app.ts';
import {
  complete,
  completionScript,
  Directive,
  renderCompletion,
  type CompletionLookup,
  type CompletionTarget,
} from '../../../src/cli/completion.ts';
import { cmlock } from '../lock/fakes.ts';
import { harness, run } from './fakes.ts';

function lookup(): CompletionLookup & { targets: CompletionTarget[] } {
  const targets: CompletionTarget[] = [];
  return {
    targets,
    lockNames: async (t) => (targets.push(t), ['db-migrate', 'drain']),
    namespaces: async (t) => (targets.push(t), ['default', 'ops']),
    contexts: async (t) => (targets.push(t), ['dev', 'prod']),
  };
}

async function candidates(words: string[]): Promise<string[]> {
  return (await complete(words, COMMANDS, lookup())).candidates.map((c) => c.split('\t')[0] ?? '');
}

describe('complete', () => {
  it('commands, with their summaries, never the hidden ones', async () => {
    const all = await complete([''], COMMANDS, lookup());
    assert.deepEqual(
      all.candidates.map((c) => c.split('\t')[0]),
      ['acquire', 'release', 'renew', 'ls', 'describe', 'wait', 'run', 'version', 'completion'],
    );
    assert.equal(all.candidates[0], 'acquire\tTake a lock, waiting while someone else holds it');
    assert.equal(all.directive, Directive.noFileComp);
    assert.deepEqual(await candidates(['re']), ['release', 'renew']);
    assert.deepEqual(await candidates(['-n', 'ops', 'de']), ['describe']);
  });

  it('lock names from the cluster for NAME, with the connection flags typed so far', async () => {
    const l = lookup();
    const c = await complete(['-n', 'ops', '--context=prod', 'release', 'd'], COMMANDS, l);
    assert.deepEqual(c.candidates, ['db-migrate', 'drain']);
    assert.deepEqual(l.targets, [{ namespace: 'ops', context: 'prod' }]);
    assert.deepEqual(await candidates(['describe', 'dr']), ['drain']);
    assert.deepEqual(await candidates(['acquire', '--ttl', '1m', '']), ['db-migrate', 'drain']);
    assert.deepEqual(await candidates(['acquire', 'db-migrate', '']), []);
    assert.deepEqual(await candidates(['ls', '']), []);
  });

  it('flags of the command and the global ones', async () => {
    const long = await candidates(['acquire', '--']);
    assert.ok(
      long.includes('--ttl') && long.includes('--owner') && long.includes('--namespace') && long.includes('--help'),
    );
    assert.ok(!long.includes('--force') && !long.includes('-n'));
    const any = await candidates(['ls', '-']);
    assert.ok(any.includes('-A') && any.includes('--all-namespaces') && any.includes('-o'));
    assert.deepEqual(await candidates(['release', '--ig']), ['--ignore-not-found']);
  });

  it('values: -o choices, namespaces, contexts, shells', async () => {
    assert.deepEqual(await candidates(['acquire', 'x', '-o', '']), ['json', 'yaml', 'name']);
    assert.deepEqual(await candidates(['ls', '--output', 'w']), ['wide']);
    assert.deepEqual(await candidates(['ls', '--output=y']), ['--output=yaml']);
    assert.deepEqual(await candidates(['ls', '-n', '']), ['default', 'ops']);
    assert.deepEqual(await candidates(['--context', 'p']), ['prod']);
    assert.deepEqual(await candidates(['completion', '']), ['bash', 'zsh', 'fish']);
    assert.deepEqual(await candidates(['acquire', 'x', '--ttl', '']), []);
  });

  it('files after "--" (run\'s command) and for --kubeconfig', async () => {
    assert.deepEqual(await complete(['run', 'x', '--', ''], COMMANDS, lookup()), {
      candidates: [],
      directive: Directive.default,
    });
    assert.equal((await complete(['--kubeconfig', ''], COMMANDS, lookup())).directive, Directive.default);
  });

  it("prints cobra's __complete format", () => {
    assert.equal(renderCompletion({ candidates: ['a', 'b\tB'], directive: 4 }), 'a\nb\tB\n:4\n');
  });

  it('__complete reads lock names from the cluster; a failing cluster completes nothing, quietly', async () => {
    const h = harness(['__complete', 'wait', '']);
    h.store.seed(cmlock({ name: 'db-migrate' })).seed(cmlock({ name: 'deploy' }));
    assert.deepEqual(await run(h), { code: 0 });
    assert.equal(h.stdout.text, 'db-migrate\ndeploy\n:4\n');
    assert.equal(h.connects[0]?.requestTimeoutMs, 3000);
    const broken = harness(['__complete', 'wait', '']);
    broken.rt = { ...broken.rt, connect: () => Promise.reject(new Error('no kubeconfig')) };
    assert.deepEqual(await run(broken), { code: 0 });
    assert.equal(broken.stdout.text + broken.stderr.text, ':4\n');
  });
});

describe('the bash script', () => {
  it('completes through `kubectl-cmlock __complete`', { skip: !hasBash() }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmlock-completion-'));
    try {
      const main = resolve(import.meta.dirname, '../../../src/main.ts');
      const bin = join(dir, 'kubectl-cmlock');
      writeFileSync(
        bin,
        `#!/bin/sh\nexec "${process.execPath}" --disable-warning=ExperimentalWarning "${main}" "$@"\n`,
      );
      chmodSync(bin, 0o755);
      const script = join(dir, 'completion.bash');
      writeFileSync(script, completionScript('bash'));
      const reply = (words: string[]) =>
        execFileSync(
          'bash',
          [
            '-c',
            `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kubectl_cmlock; printf '%s\\n' "\${COMPREPLY[@]}"`,
            'bash',
            script,
            ...words,
          ],
          { env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir, KUBECONFIG: join(dir, 'none') }, encoding: 'utf8' },
        );
      assert.equal(reply(['kubectl-cmlock', 're']), 'release\nrenew\n');
      assert.equal(reply(['kubectl-cmlock', 'ls', '-o', '']), 'wide\njson\nyaml\nname\n');
      // bash splits `--output=y` into three words and replaces only the last one.
      assert.equal(reply(['kubectl-cmlock', 'ls', '--output', '=', 'y']), 'yaml\n');
      assert.equal(reply(['kubectl-cmlock', 'ls', '--output', '=']), '=wide\n=json\n=yaml\n=name\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hasBash(): boolean {
  try {
    execFileSync('bash', ['-c', 'true']);
    return true;
  } catch {
    return false;
  }
}
