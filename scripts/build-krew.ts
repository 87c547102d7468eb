// npm run build:krew
// Builds Krew v0.4.3 (sigs.k8s.io/krew/cmd/krew) from the Go module proxy for the distribution test, once:
// the binary is cached outside the repository as <cache>/krew-<hash>/kubectl-krew, keyed on test/krew's
// go.mod and go.sum and the Go version. Put that directory on PATH and `kubectl krew` works.

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from './packaging/config.ts';
import { say } from './packaging/log.ts';

const moduleDir = join(repoRoot, 'test', 'krew');

function goVersion(): string {
  try {
    return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Go is needed to build Krew for the distribution test (the control plane needs it too)');
  }
}

function key(): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) h.update(f).update(readFileSync(join(moduleDir, f)));
  h.update(goVersion());
  return h.digest('hex').slice(0, 16);
}

/** The directory holding `kubectl-krew` for the current test/krew module, building it when missing. */
export async function ensureKrew(): Promise<string> {
  const dir = join(cacheDir(), `krew-${key()}`);
  const bin = join(dir, 'kubectl-krew');
  if (existsSync(bin)) return dir;
  say('building krew from the Go module proxy (first time: ~1-3 min)…');
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  const started = Date.now();
  const child = spawn('go', ['build', '-trimpath', '-o', tmp, 'sigs.k8s.io/krew/cmd/krew'], {
    cwd: moduleDir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  if (code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build of krew failed (exit ${code}); see the output above`);
  }
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin);
  say(`built krew in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
  return dir;
}

if (import.meta.main) {
  console.log(join(await ensureKrew(), 'kubectl-krew'));
}
