// npm run test:e2e [-- --binary] [FILES...]: starts the real control plane if it is not running, runs the
// end-to-end suite through `kubectl cmlock`, and stops the cluster again if this run started it.
// --binary puts the single executable (dist/kubectl-cmlock, from npm run build:binary) on PATH instead of the
// development launcher in bin/, so the whole suite runs against what users install. The Go-library test peer
// (test/go-peer) is built or found in the cache first and handed to the tests as CMLOCK_GO_PEER.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGoPeer, repoRoot, startCluster, stopCluster } from './cluster-lib.ts';

const args = process.argv.slice(2);
const files = args.filter((a) => a !== '--binary');
if (args.includes('--binary')) {
  const binary = join(repoRoot, 'dist', 'kubectl-cmlock');
  if (!existsSync(binary)) {
    process.stderr.write('e2e: dist/kubectl-cmlock is missing: run `npm run build:binary` first\n');
    process.exit(1);
  }
  // A directory with only the two plugin executables: dist/ also holds kubectl-cmlock.cjs, which kubectl would
  // list as a plugin. The completion helper is copied, not linked, so it finds the binary beside it.
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-plugin-'));
  symlinkSync(binary, join(dir, 'kubectl-cmlock'));
  copyFileSync(join(repoRoot, 'bin', 'kubectl_complete-cmlock'), join(dir, 'kubectl_complete-cmlock'));
  process.env.CMLOCK_PLUGIN_DIR = dir;
}
process.stderr.write(`e2e: testing ${process.env.CMLOCK_PLUGIN_DIR ?? join(repoRoot, 'bin')}/kubectl-cmlock\n`);
// Built here, once, rather than by each test process that needs it (they run two at a time).
process.env.CMLOCK_GO_PEER = await ensureGoPeer();
const { started } = await startCluster();
// Tests that stop or restart the API server, and the 500-process stress test (which would starve the timing
// bounds of anything beside it), live in test/e2e/serial/ and run alone, after the others.
const phases = files.length
  ? [{ files, concurrency: 1 }]
  : [
      { files: ['test/e2e/*.test.ts'], concurrency: 2 },
      { files: ['test/e2e/serial/*.test.ts'], concurrency: 1 },
    ];
let code: number | null = 0;
try {
  for (const phase of phases) {
    // --test-force-exit: a test file's process exits once its tests are done. Without it, one was seen (under a
    // load average of 50) spinning for 40 minutes in Node's own exit clean-up (FreeEnvironment -> CleanupHandles
    // -> uv_run, one libuv request on a socket the fault proxy had reset never completing), after all its tests
    // had passed: CI would have hung until its time limit.
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-force-exit',
        '--test-reporter=spec',
        `--test-concurrency=${phase.concurrency}`,
        ...phase.files,
      ],
      { cwd: repoRoot, stdio: 'inherit' },
    );
    const phaseCode = await new Promise<number | null>((done) => child.on('exit', done));
    if (phaseCode !== 0) code = phaseCode ?? 1;
  }
} finally {
  if (started && !process.env.CMLOCK_KEEP_CLUSTER) await stopCluster();
}
process.exit(code ?? 1);
