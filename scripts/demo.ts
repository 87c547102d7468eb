// npm run demo: a short scripted runbook against the real local control plane (scripts/cluster-lib.ts), to read
// on a terminal. Two operators contend for db-migrate, one waits and gets it the moment the other releases, `run`
// protects a command, a crashed holder's lock runs out and is taken over, `describe` shows the history. Every step
// prints the exact `kubectl cmlock ...` command and runs it, through kubectl's plugin discovery, against the
// API server: nothing is simulated. It leaves the cluster running, and no lock or process behind.
//
// Environment: CMLOCK_PLUGIN_DIR (the directory holding kubectl-cmlock; default dist/ when the single executable
// was built, else bin/), CMLOCK_DEMO_NAMESPACE (default cmlock-demo; the tests use their own), NO_COLOR.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { clusterDir, repoRoot, startCluster } from './cluster-lib.ts';

const NAMESPACE = process.env.CMLOCK_DEMO_NAMESPACE || 'cmlock-demo';
const LOCK = 'db-migrate';
const MANAGED_BY = 'app.kubernetes.io/managed-by=kubectl-cmlock';
const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
/** On a terminal, a beat between steps so a person can read along; none when the output is captured. */
const PACE_MS = process.stdout.isTTY === true ? 900 : 0;

const style = (code: string) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const bold = style('1');
const command = style('1;36');
const dim = style('2');
const heading = style('1;33');

const out = (text = ''): void => void process.stdout.write(`${text}\n`);
const pause = (): Promise<void> => new Promise((r) => setTimeout(r, PACE_MS));

class DemoError extends Error {}

function pluginDir(): string {
  if (process.env.CMLOCK_PLUGIN_DIR) return process.env.CMLOCK_PLUGIN_DIR;
  return existsSync(join(repoRoot, 'dist', 'kubectl-cmlock')) ? join(repoRoot, 'dist') : join(repoRoot, 'bin');
}

/** A shell word as a person would type it. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A kubeconfig like the cluster's whose contexts use the demo namespace, so commands need no -n. */
function demoKubeconfig(source: string): string {
  const config = parse(readFileSync(source, 'utf8')) as { contexts?: { context?: Record<string, unknown> }[] };
  for (const entry of config.contexts ?? []) if (entry.context) entry.context.namespace = NAMESPACE;
  const path = join(clusterDir, `${NAMESPACE}.kubeconfig`);
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Everything started, so that nothing outlives the demo. */
const children = new Set<ChildProcess>();
/** Processes started by a `run` that the demo crashes on purpose (its CMD lives in a session of its own). */
const orphans = new Set<number>();

let env: NodeJS.ProcessEnv = {};
let adminKubeconfig = '';

/** Plain kubectl as the cluster admin, for setup and clean-up (not part of the runbook). */
function admin(args: string[], input?: string): string {
  const r = spawnSync('kubectl', ['--kubeconfig', adminKubeconfig, '--context', 'admin', ...args], {
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new DemoError(`kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

interface Started {
  child: ChildProcess;
  /** Resolves with the exit code and the output once the process has exited. */
  done: Promise<Result>;
  /** Output so far. */
  output(): string;
  /** Called after each chunk of output. */
  listeners: Set<() => void>;
}

/** Starts `kubectl cmlock ARGS`, copying its output to ours as it comes (each line after `label`, if any). */
function start(args: string[], label = ''): Started {
  const child = spawn('kubectl', ['cmlock', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const listeners = new Set<() => void>();
  let stdout = '';
  let stderr = '';
  const forward = (to: NodeJS.WriteStream, chunk: string) => {
    to.write(label === '' ? chunk : chunk.replace(/^(?=.)/gm, dim(label)));
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    forward(process.stdout, d);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    forward(process.stderr, d);
  });
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done, output: () => stdout + stderr, listeners };
}

function show(args: string[], suffix = ''): void {
  out(command(`$ kubectl cmlock ${args.map(quote).join(' ')}${suffix}`));
}

const EXIT_MEANING: Record<number, string> = { 3: 'held by someone else', 4: 'not the holder', 5: 'not found' };

/** Prints and runs one command; fails the demo unless it exits with `expect`. */
async function run(args: string[], expect = 0, label = ''): Promise<Result> {
  show(args);
  const r = await start(args, label).done;
  if (r.code !== 0) out(dim(`(exit ${r.code}${EXIT_MEANING[r.code ?? -1] ? `: ${EXIT_MEANING[r.code ?? -1]}` : ''})`));
  if (r.code !== expect) throw new DemoError(`kubectl cmlock ${args.join(' ')} exited ${r.code}, expected ${expect}`);
  return r;
}

/** Resolves as soon as `p`'s output matches; fails if it exits first. */
function until(p: Started, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pattern.test(p.output())) return;
      p.listeners.delete(check);
      resolve();
    };
    p.listeners.add(check);
    check();
    void p.done.then(() => {
      if (!pattern.test(p.output())) reject(new DemoError(`${what}: the process exited first:\n${p.output()}`));
    });
  });
}

let stepNumber = 0;
const STEPS = 7;
async function step(title: string, ...explanation: string[]): Promise<void> {
  await pause();
  out();
  out(heading(`[${++stepNumber}/${STEPS}] ${title}`));
  for (const line of explanation) out(dim(`# ${line}`));
}

/** The children of a process (the CMD that `run` started), from /proc, else pgrep. */
function childrenOf(pid: number): number[] {
  if (existsSync('/proc/self/stat')) {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          // Field 4 of /proc/PID/stat is the parent pid; the command name (field 2) may contain spaces.
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
        } catch {
          return false;
        }
      })
      .map(Number);
  }
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Ends whatever is still running and deletes whatever lock is left in the demo namespace. */
function cleanUp(): void {
  for (const child of children) {
    if (child.pid === undefined) continue;
    // A `run` killed outright leaves its command running (in a session of its own): end both.
    for (const pid of childrenOf(child.pid)) orphans.add(pid);
    kill(child.pid, 'SIGKILL');
  }
  for (const pid of orphans) kill(pid, 'SIGKILL');
  if (adminKubeconfig !== '') {
    try {
      admin(['delete', 'configmap', '-n', NAMESPACE, '-l', MANAGED_BY, '--ignore-not-found', '--wait=false']);
    } catch {
      // best effort: the cluster may be gone
    }
  }
}

async function demo(): Promise<void> {
  out(bold('kubectl cmlock: a one-minute runbook against a real Kubernetes API server'));
  const { state } = await startCluster();
  adminKubeconfig = state.kubeconfig;
  const plugin = pluginDir();
  if (admin(['get', 'namespace', NAMESPACE, '--ignore-not-found', '-o', 'name']) === '') {
    admin(['create', 'namespace', NAMESPACE]);
  }
  admin(['apply', '-n', NAMESPACE, '-f', join(repoRoot, 'deploy', 'rbac.yaml')]);
  const leftovers = admin(['get', 'configmap', '-n', NAMESPACE, '-l', MANAGED_BY, '-o', 'name']).trim();
  if (leftovers !== '') {
    admin(['delete', 'configmap', '-n', NAMESPACE, '-l', MANAGED_BY]);
    out(dim(`(deleted locks an interrupted earlier demo left in namespace ${NAMESPACE})`));
  }
  const kubeconfig = demoKubeconfig(state.kubeconfig);
  // The user's own identity and Pod settings would change who holds what: the script says who is who.
  const ignored = new Set(['CMLOCK_IDENTITY', 'POD_NAME', 'POD_NAMESPACE']);
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !ignored.has(key))),
    KUBECONFIG: kubeconfig,
    PATH: `${plugin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  };

  out();
  out(`API server ${state.server} (kube-apiserver ${state.version}), namespace "${NAMESPACE}".`);
  out(
    `The plugin is ${relative(process.cwd(), join(plugin, 'kubectl-cmlock')) || 'kubectl-cmlock'}; kubectl finds it on PATH.`,
  );
  out('To type along in another terminal:');
  out(command(`$ export KUBECONFIG=${kubeconfig} PATH=${plugin}:$PATH`));
  out(dim('# Alice and Bob share one kube user here; --identity says who is who (default: USER@HOST).'));

  await step(
    'Alice takes the migration lock',
    'acquire creates a ConfigMap named after the lock: whoever creates it first holds it.',
  );
  await run(['acquire', LOCK, '--ttl', '10m', '--reason', 'schema v42', '--identity', 'alice@laptop']);

  await step('Bob tries too, and is told who has it', '--timeout 0 tries once: exit code 3 means held.');
  await run(['acquire', LOCK, '--timeout', '0', '--identity', 'bob@ci'], 3);
  await run(['ls']);

  await step(
    'Bob waits; he gets the lock the moment Alice releases it',
    "Bob's acquire (in his terminal) watches the lock: no polling, no sleep-and-retry.",
  );
  const bobArgs = ['acquire', LOCK, '--reason', 'deploy 1.8', '--identity', 'bob@ci'];
  show(bobArgs, dim('    # Bob, meanwhile'));
  const bob = start(bobArgs, '  [bob] ');
  await until(bob, /waiting for lock/, "Bob's acquire waits");
  await pause();
  const release = run(['release', LOCK, '--identity', 'alice@laptop']);
  const [released, acquired] = await Promise.all([
    release.then(() => Date.now()),
    until(bob, /acquired lock/, 'Bob gets the lock').then(() => Date.now()),
  ]);
  const bobResult = await bob.done;
  if (bobResult.code !== 0) throw new DemoError(`Bob's acquire exited ${bobResult.code}`);
  out(
    dim(
      acquired <= released
        ? "# Bob had the lock before Alice's release command had even exited: his watch saw the deletion."
        : `# Bob had the lock ${acquired - released} ms after Alice's release command exited.`,
    ),
  );
  await run(['release', LOCK, '--identity', 'bob@ci']);

  await step(
    'run: hold the lock exactly while a command runs',
    'run takes the lock, renews it in the background, releases it when the command exits and passes on its',
    'exit code. The command gets CMLOCK_FENCE, a fencing token to hand to the system it changes. Here the',
    'command is a stand-in: it lists the locks, then "migrates".',
  );
  await run(
    [
      'run',
      LOCK,
      '--identity',
      'alice@laptop',
      '--reason',
      'schema v42',
      '--',
      'sh',
      '-c',
      'kubectl cmlock ls; echo "migrating with fence $CMLOCK_FENCE... done"',
    ],
    0,
    '  [run] ',
  );
  out(dim('# Inside, the command saw its own lock held. It exited 0, so did run, and the lock is gone:'));
  await run(['ls']);

  await step(
    'A holder crashes; its lease runs out and Bob takes over',
    'A CI job holds the lock with a short lease (renewed every 2s while it lives)...',
  );
  const crashArgs = [
    'run',
    LOCK,
    '--identity',
    'ci-runner-7',
    '--ttl',
    '6s',
    '--kill-after',
    '2s',
    '--reason',
    'schema v43',
    '--',
    'sh',
    '-c',
    'echo "migrating..."; exec sleep 300',
  ];
  show(crashArgs, ' &');
  const job = start(crashArgs, '  [ci] ');
  await until(job, /migrating\.\.\./, 'the CI job starts');
  const jobPid = job.child.pid ?? 0;
  for (const pid of childrenOf(jobPid)) orphans.add(pid);
  await run(['ls']);
  out(dim('# ...and the runner kills it outright (kill -9, the OOM killer): no release, no more renewals.'));
  out(dim("# Its command must not outlive the lease: run's watchdog stops it at once."));
  out(command(`$ kill -KILL ${jobPid}`));
  kill(jobPid, 'SIGKILL');
  await job.done; // its output ends when the watchdog and the command have exited
  out(dim("# Bob waits for it; once the lease has run out on the API server's clock, his acquire takes over."));
  const takeoverStarted = Date.now();
  await run(['acquire', LOCK, '--reason', 'finish v43', '--identity', 'bob@ci']);
  const took = ((Date.now() - takeoverStarted) / 1000).toFixed(1);
  out(dim(`# That took ${took}s: what was left of the 6s lease, then 1s of margin for the server clock's resolution.`));

  await step('describe: the lock, and its history as Kubernetes Events');
  await run(['describe', LOCK]);

  await step('Bob is done', 'Nothing is left behind.');
  await run(['release', LOCK, '--identity', 'bob@ci']);
  await run(['ls']);

  out();
  out(bold('That was all real: every command above ran against the API server at ' + state.server + '.'));
  out();
  out(bold('Use it on your own cluster'));
  out('  1. Install it: kubectl krew index add cmlock https://github.com/kubectl-cmlock/kubectl-cmlock.git');
  out('                 kubectl krew install cmlock/cmlock');
  out('     or put the kubectl-cmlock executable from a release archive on your PATH');
  out('     (build one here with: npm run build:binary -> dist/kubectl-cmlock).');
  out('  2. It uses your kube context like kubectl: KUBECONFIG, --kubeconfig, --context, -n; in a Pod, its');
  out('     service account.');
  out('  3. Give lock users the minimal Role, in a namespace of their own:');
  out('       kubectl create namespace locks');
  out('       kubectl apply -n locks -f deploy/rbac.yaml');
  out('       kubectl create rolebinding cmlock --role=cmlock --group=ops-team -n locks');
  out('  4. kubectl cmlock acquire db-migrate -n locks --ttl 30m --reason "schema v42"');
  out('     kubectl cmlock ls -n locks -w        # watch locks being taken and released');
  out('     kubectl cmlock --help, and the runbooks in README.md.');
  out();
  out(
    `The local cluster is still running (for more demos and the tests); stop it with: ${bold('npm run cluster:stop')}`,
  );
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write('\ndemo: interrupted; cleaning up\n');
  cleanUp();
  process.exit(130);
});

try {
  await demo();
  cleanUp();
} catch (err) {
  cleanUp();
  process.stderr.write(`demo: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
