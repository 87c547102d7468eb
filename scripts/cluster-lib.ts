// Starts and stops the real local control plane (test/control-plane) used by the e2e tests and the demo, and
// builds the Go-library test peer (test/go-peer). Both Go programs are built once and cached outside the
// repository, keyed on the hash of their sources, so a fresh clone on a machine that built them before starts in
// seconds.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from './paths.ts';

export { cacheDir, repoRoot };
export const clusterDir = join(repoRoot, '.cluster');
const kubeVersion = 'v1.36.3';

export interface ClusterState {
  pid: number;
  server: string;
  kubeconfig: string;
  control: string;
  version: string;
}

const say = (line: string): void => {
  process.stderr.write(`cluster: ${line}\n`);
};

/** A Go program of the test tooling, built from its own module and cached as <cache>/<name>-<hash>. */
interface GoProgram {
  name: string;
  /** The module directory: its go.mod, go.sum and top-level *.go files are the cache key. */
  dir: string;
  /** Mixed into the key: what the sources do not say (the version that ldflags stamp in). */
  salt: string;
  ldflags: string;
  /** What is being built and how long it takes, for the line printed before a build. */
  announce: string;
}

function sourceHash(program: GoProgram): string {
  const h = createHash('sha256');
  h.update(program.salt);
  for (const f of readdirSync(program.dir).sort()) {
    if (f === 'go.mod' || f === 'go.sum' || f.endsWith('.go')) {
      h.update(f);
      h.update(readFileSync(join(program.dir, f)));
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** Returns the path of the program's binary, building it when the cached one is missing or stale. */
async function ensureGoBinary(program: GoProgram): Promise<string> {
  const bin = join(cacheDir(), `${program.name}-${sourceHash(program)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir(), { recursive: true });
  say(program.announce);
  const started = Date.now();
  const ticker = setInterval(() => say(`still building... ${Math.round((Date.now() - started) / 1000)}s`), 60_000);
  // Concurrent builds (two test processes) each write their own file; the rename makes either one the result.
  const tmp = `${bin}.tmp-${process.pid}`;
  const build = spawn('go', ['build', '-o', tmp, '-ldflags', program.ldflags, '.'], {
    cwd: program.dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false' },
  });
  const status = await new Promise<number | null>((done) => build.on('exit', done));
  clearInterval(ticker);
  if (status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build of ${program.name} failed (exit ${status})`);
  }
  renameSync(tmp, bin);
  say(`built in ${Math.round((Date.now() - started) / 1000)}s: ${bin}`);
  return bin;
}

const versionPkg = 'k8s.io/component-base/version';

/** The control-plane binary (test/control-plane), built on first use. */
export const ensureBinary = (): Promise<string> =>
  ensureGoBinary({
    name: 'controlplane',
    dir: join(repoRoot, 'test', 'control-plane'),
    salt: kubeVersion,
    ldflags: [
      '-s -w',
      `-X ${versionPkg}.gitVersion=${kubeVersion}`,
      `-X ${versionPkg}.gitMajor=1`,
      `-X ${versionPkg}.gitMinor=36`,
      `-X ${versionPkg}.gitTreeState=clean`,
    ].join(' '),
    announce:
      `building the test control plane (kube-apiserver + kube-controller-manager ${kubeVersion}, etcd) from the Go ` +
      'module proxy. First build on 2 cores: about 10-20 minutes; later builds reuse the Go cache.',
  });

/** The Go-library test peer (test/go-peer), built on first use. */
export const ensureGoPeer = (): Promise<string> =>
  ensureGoBinary({
    name: 'go-peer',
    dir: join(repoRoot, 'test', 'go-peer'),
    salt: '',
    ldflags: '-s -w',
    announce:
      'building the Go peer (test/go-peer, client-go) from the Go module proxy: about 2-6 minutes on 2 cores the ' +
      'first time (135 s of CPU), seconds once the Go build cache is warm.',
  });

export function readState(): ClusterState | undefined {
  const file = join(clusterDir, 'state.json');
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
  return isOurProcess(state.pid) ? state : undefined;
}

function readPid(): number | undefined {
  const file = join(clusterDir, 'controlplane.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return isOurProcess(pid) ? pid : undefined;
}

function isOurProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('controlplane');
  } catch {
    return false;
  }
}

function kubectl(args: string[], input?: string): string {
  const r = spawnSync('kubectl', ['--kubeconfig', join(clusterDir, 'kubeconfig'), '--context', 'admin', ...args], {
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The lock Role that ships in deploy/rbac.yaml, bound to the `locker` user in namespace default. */
export function applyRbac(namespace = 'default'): void {
  kubectl(['apply', '-n', namespace, '-f', join(repoRoot, 'deploy', 'rbac.yaml')]);
  const binding = kubectl([
    'create',
    'rolebinding',
    'cmlock-locker',
    '--role=cmlock',
    '--user=locker',
    '-n',
    namespace,
    '--dry-run=client',
    '-o',
    'yaml',
  ]);
  kubectl(['apply', '-f', '-'], binding);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the cluster unless it already runs. Returns its state and whether this call started it. */
export async function startCluster(): Promise<{ state: ClusterState; started: boolean }> {
  const running = readState();
  if (running) {
    say(`already running: ${running.server} (kubeconfig ${running.kubeconfig})`);
    return { state: running, started: false };
  }
  const stray = readPid();
  if (stray) await stopCluster();
  const bin = await ensureBinary();
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  rmSync(join(clusterDir, 'state.json'), { force: true });
  const logPath = join(clusterDir, 'controlplane.log');
  const log = openSync(logPath, 'w');
  say('starting etcd, kube-apiserver and kube-controller-manager on 127.0.0.1 (usually 10-30s)...');
  const started = Date.now();
  const child = spawn(bin, ['up', '--dir', clusterDir], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the control plane');
  writeFileSync(join(clusterDir, 'controlplane.pid'), `${child.pid}\n`);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const deadline = Date.now() + 240_000;
  let nextNote = Date.now() + 15_000;
  for (;;) {
    const state = readState();
    if (state) break;
    if (exited !== undefined) {
      throw new Error(`control plane exited (code ${exited}) during start-up; see ${logPath}:\n${tail(logPath)}`);
    }
    if (Date.now() > deadline) {
      await stopCluster();
      throw new Error(`control plane not ready after 240s; see ${logPath}:\n${tail(logPath)}`);
    }
    if (Date.now() > nextNote) {
      say(`waiting for the control plane (${Math.round((Date.now() - started) / 1000)}s)...`);
      nextNote = Date.now() + 15_000;
    }
    await sleep(200);
  }
  applyRbac();
  const state = readState();
  if (!state) throw new Error('control plane stopped right after start-up');
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${state.server}`);
  say(`try: kubectl --kubeconfig ${join(clusterDir, 'kubeconfig')} get --raw /readyz`);
  return { state, started: true };
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Stops the supervisor (its components die with it). Idempotent. */
export async function stopCluster(): Promise<boolean> {
  const pid = readPid();
  if (!pid) {
    rmSync(join(clusterDir, 'controlplane.pid'), { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isOurProcess(pid) && Date.now() < deadline) await sleep(100);
  if (isOurProcess(pid)) process.kill(pid, 'SIGKILL');
  while (isOurProcess(pid)) await sleep(50);
  rmSync(join(clusterDir, 'controlplane.pid'), { force: true });
  rmSync(join(clusterDir, 'state.json'), { force: true });
  return true;
}

async function control(state: ClusterState, action: 'stop' | 'start'): Promise<void> {
  const res = await fetch(`${state.control}/apiserver/${action}`, { method: 'POST' });
  if (!res.ok) throw new Error(`apiserver ${action} failed: ${await res.text()}`);
}

/** Stops only the API server (etcd keeps its data) until startApiServer. */
export const stopApiServer = (state: ClusterState): Promise<void> => control(state, 'stop');
export const startApiServer = (state: ClusterState): Promise<void> => control(state, 'start');
