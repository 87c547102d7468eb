// The library as its users get it: `npm pack` of this repository (prepack builds dist/lib), installed into a
// scratch project that holds nothing else, with test/e2e/library/program.ts beside it, as TypeScript and, stripped
// of its types by esbuild, as plain JavaScript (program.mjs), and the README's example (example.ts).
//
// The scratch project lives in the dev cache (one per worktree) and is kept between runs, so that only the
// first install fetches @kubernetes/client-node and its dependencies from the registry (~10 s); later runs install
// just the new tarball (~1 s). The tarball is copied under a name that carries its hash, so npm always sees a
// changed package as a new one.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { cacheDir, repoRoot } from '../../scripts/paths.ts';

export interface Scratch {
  dir: string;
  /** program.ts and program.mjs in the scratch project. */
  ts: string;
  js: string;
  /** How long `npm pack` (with the library build) and `npm install` took, ms. */
  packMs: number;
  installMs: number;
}

/** npm with the project's Node first on PATH (prepack runs `node scripts/build-lib.ts`). */
function npm(args: string[], cwd: string): string {
  const env = { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function packAndInstall(): Scratch {
  const packDir = mkdtempSync(join(tmpdir(), 'cmlock-pack-'));
  const packStart = Date.now();
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', packDir], repoRoot)) as {
    filename: string;
  }[];
  const packMs = Date.now() - packStart;
  if (packed === undefined) throw new Error('npm pack made no tarball');
  const tarball = join(packDir, packed.filename);
  const hash = createHash('sha256').update(readFileSync(tarball)).digest('hex').slice(0, 16);

  const worktree = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  const dir = join(cacheDir(), 'library-e2e', worktree);
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir)) if (old.endsWith('.tgz')) rmSync(join(dir, old));
  const local = `kubectl-cmlock-${hash}.tgz`;
  copyFileSync(tarball, join(dir, local));
  rmSync(packDir, { recursive: true, force: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'cmlock-library-user', private: true, type: 'module' }),
  );
  const installStart = Date.now();
  npm(['install', `./${local}`], dir);
  const installMs = Date.now() - installStart;

  const source = readFileSync(join(repoRoot, 'test', 'e2e', 'library', 'program.ts'), 'utf8');
  const ts = join(dir, 'program.ts');
  const js = join(dir, 'program.mjs');
  writeFileSync(ts, source);
  writeFileSync(join(dir, 'example.ts'), readmeExample());
  writeFileSync(js, transformSync(source, { loader: 'ts', format: 'esm', target: 'node24' }).code);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2024',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        lib: ['es2024', 'esnext.disposable'],
        strict: true,
        noEmit: true,
        verbatimModuleSyntax: true,
        noUncheckedIndexedAccess: true,
        // client-node's declarations need @types/ws, which it does not install; the @ts-expect-error lines of
        // program.ts prove that ours are real types, not `any`.
        skipLibCheck: true,
        // The project's @types/node: the scratch project installs nothing but the package.
        typeRoots: [join(repoRoot, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['program.ts', 'example.ts'],
    }),
  );
  return { dir, ts, js, packMs, installMs };
}

/** The README's complete example: the first TypeScript block of its "Library" section. */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library'));
  const example = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (example === undefined) throw new Error('README.md: no TypeScript example in the "Library" section');
  return example;
}

/** The project's tsc on the scratch project: its output, and whether it passed. */
export function typecheck(scratch: Scratch): { ok: boolean; output: string } {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(scratch.dir, 'tsconfig.json')], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Every module URL a fresh Node process loads to import the installed package. */
export function modulesLoadedByImport(scratch: Scratch): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    await import('kubectl-cmlock');
    console.log(JSON.stringify(seen));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: scratch.dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`importing the package failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}
