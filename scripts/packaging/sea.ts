// One single executable with Node 26's `--build-sea`: it makes the blob and injects it into a copy of the
// base binary (ELF note, Mach-O segment NODE_SEA, PE resource), flips the sentinel fuse, and drops a Mach-O
// code signature, all in one step and for any target platform: what `--experimental-sea-config` + postject
// did in two. The blob is made by the Node running this script, which must be the base binary's version.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface SeaOptions {
  /** The bundled main script; the blob records its file name, so only the name is passed (reproducible). */
  main: string;
  /** Asset key → file, read with `require('node:sea').getAsset(key)`. */
  assets: Record<string, string>;
  /** Base Node binary to inject into. */
  executable: string;
  output: string;
}

/**
 * V8 flags of every run of the executable (the dev launcher bin/kubectl-cmlock passes the same). A young
 * generation of at most 2 MB per semi-space (V8's default grows to 16 MB): listing 3,000 locks peaks at
 * 100 MB instead of 109, `-o yaml` of them at 125 MB instead of 177, in the same time (npm run bench).
 * src/main.ts turns the optimizing compilers (Maglev, TurboFan) off for a command that mostly waits (run,
 * wait, ls -w), once its scripts are loaded. Tried and left out: --max-semi-space-size=1 (7% slower at 3,000
 * locks), --optimize-for-size (30-60% slower, and it once hung at exit), --lite-mode (-7 MB idle, -25% peak,
 * but 25-30% slower everywhere), --no-opt --no-maglev for every command (one-shot commands and --help took
 * 10-25 ms more CPU: perf stat), a V8 start-up snapshot (see README, Packaging).
 */
export const V8_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

export function buildSea(o: SeaOptions): void {
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-sea-'));
  try {
    const config = {
      main: basename(o.main),
      mainFormat: 'commonjs',
      executable: o.executable,
      output: o.output,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      // Node's build-time code cache: off. It differs from build to build (no reproducible release), is
      // rejected by a cross-built arm64 binary, and would cover only sea-main.ts, a loader of 1 KB: the
      // application is compiled through the per-user code cache in sea-main.ts instead.
      useCodeCache: false,
      // The executable is not `node`: NODE_OPTIONS and node flags in argv are the user's, not ours.
      execArgvExtension: 'none',
      execArgv: V8_FLAGS,
      assets: o.assets,
    };
    const file = join(dir, 'sea-config.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    const r = spawnSync(process.execPath, ['--build-sea', file], {
      cwd: dirname(o.main),
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    if (r.status !== 0) {
      throw new Error(`node --build-sea failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
