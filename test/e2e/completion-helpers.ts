// Asking for completion the way a shell does through kubectl: `kubectl __complete cmlock WORDS...`, which runs
// kubectl_complete-cmlock from PATH (kubectl 1.26+) and prints one candidate a line, then cobra's directive.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/cluster-lib.ts';
import { kubectl, pluginDir } from './harness.ts';
import { show } from './lock-helpers.ts';

/**
 * PATH for completion: the plugin under test and a kubectl_complete-cmlock next to it (an unpacked archive has
 * one), else a copy of bin/kubectl_complete-cmlock alone in a directory, which then runs kubectl-cmlock from PATH.
 */
function completionPath(): string[] {
  if (existsSync(join(pluginDir(), 'kubectl_complete-cmlock'))) return [pluginDir()];
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-complete-'));
  copyFileSync(join(repoRoot, 'bin', 'kubectl_complete-cmlock'), join(dir, 'kubectl_complete-cmlock'));
  return [dir, pluginDir()];
}
const pathDirs = completionPath();

/** `kubectl __complete cmlock WORDS...`: the candidates (without descriptions) and the directive. */
export async function complete(words: string[]): Promise<{ candidates: string[]; directive: string }> {
  const r = await kubectl(['__complete', 'cmlock', ...words], { pathDirs });
  assert.equal(r.code, 0, show(r));
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const directive = lines.pop() ?? '';
  assert.match(directive, /^:\d+$/, show(r));
  assert.doesNotMatch(r.stderr, /does not provide a matching completion executable/, 'kubectl found no completer');
  return { candidates: lines.map((l) => l.split('\t')[0] ?? ''), directive };
}
