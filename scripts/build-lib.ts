// npm run build:lib: the library entry point (src/lib/index.ts) as the package's "exports" use it, into dist/lib/
// (git-ignored; `npm pack` runs this first through "prepack"):
//   index.js, chunks/*.js   ESM for Node 24+, our sources only: every npm package stays an import, resolved from
//                           the user's node_modules (@kubernetes/client-node is a peer, yaml a dependency).
//                           src/kube is a chunk of its own, imported on a Lock's first call.
//   types/**/*.d.ts         the declarations, from tsc; @internal members stripped.
// Not minified, and class names kept: errors are told apart by `name` as well as by instanceof.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from './paths.ts';

export const libDir = join(repoRoot, 'dist', 'lib');

export async function buildLib(): Promise<void> {
  rmSync(libDir, { recursive: true, force: true });
  await build({
    absWorkingDir: repoRoot,
    entryPoints: ['src/lib/index.ts'],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    outdir: libDir,
    chunkNames: 'chunks/[name]-[hash]',
    keepNames: true,
    logLevel: 'warning',
  });
  const tsc = spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.lib.json'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.lib.json exited ${tsc.status}`);
  rewriteDeclarationImports(join(libDir, 'types'));
}

/**
 * tsc keeps our `./x.ts` specifiers in declarations (rewriteRelativeImportExtensions rewrites only JavaScript);
 * published declarations name the `.js` files that exist beside them, as every consumer's settings resolve.
 */
function rewriteDeclarationImports(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/((?:from |import\()['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2'));
  }
}

if (import.meta.main) await buildLib();
