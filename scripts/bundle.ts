// npm run bundle [-- --entry FILE] [--no-minify]
// Bundles the CLI for a Node single executable, whose `require` loads built-in modules only, into
// CommonJS files under dist/:
//   kubectl-cmlock.cjs              the application: src/ and every dependency except the deferred ones;
//                                   runs on its own too (`node dist/kubectl-cmlock.cjs --help`)
//   kubectl-cmlock.client-node.cjs  @kubernetes/client-node, only the names src/ imports, loaded on first use
//   kubectl-cmlock.sea.cjs          the executable's main script (src/sea-main.ts): runs the
//                                   two above from the executable's assets through a per-user code cache
//
// Why client-node is apart: V8 pre-parses every byte of a script it runs, even code it never calls.
// client-node and its dependencies are 94% of the code; in the application script they cost `--help` more
// than the whole CLI. Apart, commands that never touch the cluster never parse them.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { bundleFile, nodeVersion, repoRoot } from './packaging/config.ts';
import {
  deferPackages,
  fastStringWidth,
  clientNodeTreeShaking,
  lazyClientNodeImports,
  leaveOutUndici,
  lightAssertForYargs,
  noYargsHelpCache,
  stubOptionalRequires,
} from './packaging/esbuild-plugins.ts';
import { importedNames } from './packaging/imports.ts';
import { V8_FLAGS } from './packaging/sea.ts';

export interface BundleOptions {
  entry?: string;
  /** The application bundle; the other files go next to it. */
  outfile?: string;
  minify?: boolean;
  /** Keep the deferred packages out of the application script (default). false: one script. */
  defer?: boolean;
}

export interface BundleResult {
  /** The executable's main script. */
  main: string;
  /** The application bundle (runnable with node). */
  app: string;
  /** SEA asset key → file. */
  assets: Record<string, string>;
  /** Every output file with its size in bytes. */
  sizes: Record<string, number>;
}

/** Packages compiled on first use instead of at start-up, and their asset key inside the executable. */
export const deferred: Record<string, string> = { '@kubernetes/client-node': 'client-node.cjs' };
export const appAsset = 'app.cjs';

/**
 * ESM-only dependencies read `import.meta.url` (yargs: `createRequire(import.meta.url)`), which is empty in
 * CommonJS output. Inside the executable `__filename` is the executable itself, a fine base for both uses.
 */
const importMetaUrlShim = 'var __cmlock_import_meta_url=require("node:url").pathToFileURL(__filename).href;';

function common(minify: boolean): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${nodeVersion.split('.')[0]}`,
    minify,
    // Licence headers of the inlined packages go to <outfile>.LEGAL.txt.
    legalComments: 'external',
    // An entry outside the repository (a stand-in during development) still resolves our node_modules.
    nodePaths: [join(repoRoot, 'node_modules')],
    absWorkingDir: repoRoot,
    define: { 'import.meta.url': '__cmlock_import_meta_url' },
    banner: { js: importMetaUrlShim },
    metafile: true,
    logLevel: 'warning',
    // ASCII with escapes: V8 keeps a script's source as long as the script, one byte a character when all
    // of it is Latin-1 and two bytes otherwise (a single … in the application doubled its 0.4 MB).
    charset: 'ascii',
  };
}

const shortHash = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);

/** Files (absolute) of the bundle that import `namespacedPath` (as esbuild names a resolved import). */
function importersOf(meta: Metafile, namespacedPath: string): string[] {
  return Object.entries(meta.inputs)
    .filter(([, input]) => input.imports.some((i) => i.path === namespacedPath))
    .map(([file]) => resolve(repoRoot, file));
}

export async function bundle(opts: BundleOptions = {}): Promise<BundleResult> {
  const entry = resolve(opts.entry ?? join(repoRoot, 'src', 'main.ts'));
  const app = resolve(opts.outfile ?? bundleFile);
  const outDir = dirname(app);
  const minify = opts.minify ?? true;
  const defer = opts.defer ?? true;
  const fileOf = (key: string): string => join(outDir, `kubectl-cmlock.${key}`);
  mkdirSync(outDir, { recursive: true });
  const sizes: Record<string, number> = {};
  const record = (file: string, meta: Metafile | undefined): Metafile => {
    if (!meta) throw new Error('esbuild returned no metafile');
    for (const [f, o] of Object.entries(meta.outputs)) sizes[resolve(repoRoot, f)] = o.bytes;
    writeFileSync(`${file}.meta.json`, JSON.stringify(meta));
    return meta;
  };

  const a = await build({
    ...common(minify),
    entryPoints: [entry],
    outfile: app,
    plugins: [
      stubOptionalRequires,
      fastStringWidth,
      lightAssertForYargs,
      noYargsHelpCache,
      leaveOutUndici,
      clientNodeTreeShaking,
      ...(defer ? [deferPackages(deferred, fileOf)] : []),
    ],
  });
  const appMeta = record(app, a.metafile);

  const assets: Record<string, string> = { [appAsset]: app };
  for (const [pkg, key] of Object.entries(defer ? deferred : {})) {
    const names = importedNames(importersOf(appMeta, `cmlock-deferred:${pkg}`), pkg);
    const reexport =
      names === '*'
        ? `export * from ${JSON.stringify(pkg)};`
        : `export { ${names.join(', ')} } from ${JSON.stringify(pkg)};`;
    const file = fileOf(key);
    const d = await build({
      ...common(minify),
      stdin: { contents: reexport, resolveDir: repoRoot, loader: 'js', sourcefile: `deferred:${pkg}` },
      outfile: file,
      plugins: [stubOptionalRequires, fastStringWidth, leaveOutUndici, lazyClientNodeImports, clientNodeTreeShaking],
    });
    record(file, d.metafile);
    assets[key] = file;
  }

  const main = fileOf('sea.cjs');
  const hashes = Object.fromEntries(Object.entries(assets).map(([key, file]) => [key, shortHash(file)]));
  const s = await build({
    ...common(minify),
    entryPoints: [join(repoRoot, 'src', 'sea-main.ts')],
    outfile: main,
    define: {
      __CMLOCK_ASSET_HASHES__: JSON.stringify(hashes),
      __CMLOCK_V8_FLAGS__: JSON.stringify(V8_FLAGS.join(' ')),
    },
    banner: {},
  });
  record(main, s.metafile);
  return { main, app, assets, sizes };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      entry: { type: 'string' },
      outfile: { type: 'string' },
      'no-minify': { type: 'boolean', default: false },
    },
  });
  const r = await bundle({ entry: values.entry, outfile: values.outfile, minify: !values['no-minify'] });
  for (const [f, bytes] of Object.entries(r.sizes)) {
    if (f.endsWith('.cjs')) console.error(`bundle: ${relative(process.cwd(), f)} (${(bytes / 1024).toFixed(0)} KiB)`);
  }
}
