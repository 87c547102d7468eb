// The single executable's main script, bundled by scripts/bundle.ts. It runs the application (asset
// app.cjs) and, on first use, the deferred packages (client-node.cjs) from the executable's assets, compiled
// through a V8 code cache kept in the user's cache directory:
//   $XDG_CACHE_HOME, else %LOCALAPPDATA% (Windows), ~/Library/Caches (macOS), ~/.cache; then kubectl-cmlock/
// The first run compiles as usual and writes the cache when it exits; later runs skip most parsing and
// compiling (a third to a half less CPU for `--help` and `ls`: npm run bench, "warm" against "cold").
// The cache is made by the binary that uses it, on the user's machine, so the executable stays
// byte-for-byte reproducible (Node's build-time `useCodeCache` differs on every build) and it works on
// every platform (a code cache made on linux-amd64 is rejected by the cross-built others).
// Any failure to read or write the cache is ignored: it only costs speed.

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { getAsset } from 'node:sea';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

/** Asset key → sha256 prefix of its code (set at build time): V8 checks a cache only against the length. */
declare const __CMLOCK_ASSET_HASHES__: Record<string, string>;
/** The V8 flags the executable starts with (scripts/packaging/sea.ts V8_FLAGS). */
declare const __CMLOCK_V8_FLAGS__: string;

function cacheDir(): string | undefined {
  const env = process.env;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'kubectl-cmlock');
  if (process.platform === 'win32') return env.LOCALAPPDATA && join(env.LOCALAPPDATA, 'kubectl-cmlock', 'cache');
  const home = homedir();
  if (!home) return undefined;
  return process.platform === 'darwin'
    ? join(home, 'Library', 'Caches', 'kubectl-cmlock')
    : join(home, '.cache', 'kubectl-cmlock');
}

function saveOnExit(script: Script, file: string, key: string): void {
  process.once('exit', () => {
    try {
      // V8 accepts a cache only under the flags it is loaded with: the executable's own, under which every script
      // is loaded; src/main.ts may have turned the optimizing compilers off since (a command that mostly waits).
      setFlagsFromString(`--opt --maglev ${__CMLOCK_V8_FLAGS__}`);
      const data = script.createCachedData(); // after running: includes the functions compiled lazily
      const dir = dirname(file);
      mkdirSync(dir, { recursive: true });
      for (const old of readdirSync(dir)) {
        if (old.startsWith(`${key}-`) && old !== file.slice(dir.length + 1)) rmSync(join(dir, old), { force: true });
      }
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, file);
    } catch {
      // read-only or missing home: no cache
    }
  });
}

function load(key: string): unknown {
  const code = getAsset(key, 'utf8');
  let file: string | undefined;
  let cachedData: Buffer | undefined;
  try {
    const dir = cacheDir();
    if (dir) {
      file = join(dir, `${key}-${__CMLOCK_ASSET_HASHES__[key]}-${process.version}-${process.arch}.v8`);
      cachedData = readFileSync(file);
    }
  } catch {
    // no cache yet
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
  const script = new Script(wrapped, { filename: key, cachedData });
  if (file && (!cachedData || script.cachedDataRejected)) saveOnExit(script, file, key);
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void).call(
    module.exports,
    module.exports,
    require,
    module,
    __filename,
    __dirname,
  );
  return module.exports;
}

(globalThis as Record<symbol, unknown>)[Symbol.for('kubectl-cmlock.load')] = load;
load('app.cjs');
