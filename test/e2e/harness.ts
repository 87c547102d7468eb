// End-to-end helpers: run `kubectl cmlock ...` exactly as a user would (kubectl finds the plugin on PATH),
// in a sealed environment (temporary HOME, the test cluster's kubeconfig, no inherited KUBECONFIG), against
// the real control plane that scripts/e2e.ts started.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { readState, repoRoot, type ClusterState } from '../../scripts/cluster-lib.ts';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment variables (merged over the sealed base). */
  env?: Record<string, string>;
  /** Directories put first on PATH. Default: the plugin directory under test. */
  pathDirs?: string[];
  /** Kill the process (SIGKILL) after this long and fail. Default 60 s: a hang must not stall the suite. */
  timeoutMs?: number;
  input?: string;
}

export function clusterState(): ClusterState {
  const state = readState();
  if (!state) throw new Error('the test cluster is not running: run the e2e suite with `npm run test:e2e`');
  return state;
}

export function clusterKubeconfig(): string {
  return clusterState().kubeconfig;
}

/** Where the `kubectl-cmlock` under test lives: the single binary (dist/) or the development launcher (bin/). */
export function pluginDir(): string {
  return process.env.CMLOCK_PLUGIN_DIR || join(repoRoot, 'bin');
}

const kubectlDir = dirname(
  realpathSync(spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim()),
);
const sealedHome = mkdtempSync(join(tmpdir(), 'cmlock-e2e-home-'));

export function sealedEnv(opts: RunOptions = {}): Record<string, string> {
  const dirs = opts.pathDirs ?? [pluginDir()];
  return {
    HOME: sealedHome,
    PATH: [...dirs, kubectlDir, '/usr/bin', '/bin'].join(':'),
    KUBECONFIG: clusterKubeconfig(),
    LANG: 'C.UTF-8',
    ...opts.env,
  };
}

/** Starts a sealed process without waiting for it (for signals, races and kills). */
export function startSealed(cmd: string, args: string[], opts: RunOptions = {}): ChildProcess {
  return spawn(cmd, args, { env: sealedEnv(opts), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Collects a started process's output and exit, killing it after timeoutMs. `input: null` leaves stdin open. */
export function collect(child: ChildProcess, timeoutMs = 60_000, input?: string | null): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (input !== null) child.stdin?.end(input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${child.spawnargs.join(' ')}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function runSealed(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return collect(startSealed(cmd, args, opts), opts.timeoutMs, opts.input);
}

/** `kubectl cmlock ARGS` through kubectl's plugin discovery. */
export function cmlock(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runSealed('kubectl', ['cmlock', ...args], opts);
}

/** Plain kubectl against the test cluster (admin unless --context is given in args). */
export function kubectl(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runSealed('kubectl', args, opts);
}

/** Like kubectl(), but throws unless it exits 0; returns stdout. */
export async function kubectlOk(args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/**
 * A fresh namespace for one test, with the lock Role bound to the `locker` user, deleted after the test.
 * Tests never share names, so they may run in parallel.
 */
export async function testNamespace(t: TestContext, prefix = 'e2e'): Promise<string> {
  const ns = uniqueName(prefix);
  await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['apply', '-n', ns, '-f', join(repoRoot, 'deploy', 'rbac.yaml')]);
  await kubectlOk(['create', 'rolebinding', 'cmlock-locker', '--role=cmlock', '--user=locker', '-n', ns]);
  t.after(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });
  return ns;
}

/** Polls `check` until it returns true (a condition, not a sleep), failing after timeoutMs. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
