// npm run test:e2e: starts the real control plane if it is not running, runs the end-to-end suite through
// `kubectl cmlock`, and stops the cluster again if this run started it.
import { spawn } from 'node:child_process';
import { repoRoot, startCluster, stopCluster } from './cluster-lib.ts';

const files = process.argv.slice(2);
const { started } = await startCluster();
// Tests that stop or restart the API server live in test/e2e/serial/ and run alone, after the others.
const phases = files.length
  ? [{ files, concurrency: 1 }]
  : [
      { files: ['test/e2e/*.test.ts'], concurrency: 2 },
      { files: ['test/e2e/serial/*.test.ts'], concurrency: 1 },
    ];
let code: number | null = 0;
try {
  for (const phase of phases) {
    const child = spawn(
      process.execPath,
      ['--test', '--test-reporter=spec', `--test-concurrency=${phase.concurrency}`, ...phase.files],
      { cwd: repoRoot, stdio: 'inherit' },
    );
    const phaseCode = await new Promise<number | null>((done) => child.on('exit', done));
    if (phaseCode !== 0) code = phaseCode ?? 1;
  }
} finally {
  if (started && !process.env.CMLOCK_KEEP_CLUSTER) await stopCluster();
}
process.exit(code ?? 1);
