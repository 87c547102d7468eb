// The library's public surface, stated as a test: the names the entry point exports (a change to them is a
// deliberate API change, see the README's "Library" section and CHANGELOG.md), and what importing it loads: none
// of the command line (yargs, cli-table3, src/cli, src/output, src/run) and not the Kubernetes client, which a
// Lock loads on its first call. test/e2e/library.test.ts checks the same of the packed, installed package.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../../scripts/paths.ts';

test('the entry point exports exactly the documented names', async () => {
  const entry = (await import('../../../src/lib/index.ts')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(entry).sort(), [
    'CmlockError',
    'ConfigError',
    'Lease',
    'Lock',
    'LockHeldError',
    'LockLostError',
    'LockMissingError',
    'NotYourLockError',
    'UsageError',
  ]);
});

/** Every module URL a fresh Node process loads to import `entry`, from a resolve hook. */
function modulesLoadedBy(entry: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    await import(${JSON.stringify(entry)});
    console.log(JSON.stringify(seen));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: repoRoot });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test('importing it loads neither the command line nor the Kubernetes client', () => {
  const loaded = modulesLoadedBy(join(repoRoot, 'src', 'lib', 'index.ts'));
  assert.ok(
    loaded.some((url) => url.endsWith('/src/lib/lock.ts')),
    'the hook saw the library load',
  );
  const unwanted = loaded.filter((url) =>
    /\/node_modules\/(yargs|yargs-parser|cli-table3|string-width|@kubernetes\/client-node)\/|\/src\/(cli|output|run|kube)\//.test(
      url,
    ),
  );
  assert.deepEqual(unwanted, []);
});
