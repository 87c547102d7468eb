// node scripts/list-cost.ts [--configmaps 3000] [--locks 3] [--value-bytes 1024] [--data random|repeated] [--runs 7]
//                            [--baseline OTHER/kubectl-cmlock] [--keep]
// What it costs to find Go-library locks (no managed-by label: only their shape tells them apart) in a namespace
// full of unrelated ConfigMaps, against the running test cluster (.cluster/kubeconfig, context admin): a full list,
// a metadata-only list (PartialObjectMetadataList: labels and ownerReferences, no data), the label-selected list
// (ls before issue 12), what ls does now (src/lock/listing.ts: the label-selected list and a metadata-only list of
// the ConfigMaps without the label at once, then a GET per Go-shaped candidate), and `kubectl get cm` for scale.
// Bytes on the wire (identity and gzip), bytes decoded, and the median time of a request including JSON.parse,
// runs interleaved. Then, end to end, `kubectl cmlock ls` (dist/kubectl-cmlock, from npm run build:binary) next to
// `kubectl get cm`: median wall time and peak RSS of the whole process; --baseline times another build's ls too
// (e.g. one of main before issue 12). Numbers for issue 12; never a test.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { clusterDir, readState, repoRoot } from './cluster-lib.ts';

const { values } = parseArgs({
  options: {
    configmaps: { type: 'string', default: '3000' },
    // cmlock locks in the namespace besides the unrelated ConfigMaps (issue 15: 3, and 3,000 among 3,000).
    locks: { type: 'string', default: '3' },
    'value-bytes': { type: 'string', default: '1024' },
    // random: base64 noise, the worst case for gzip; repeated: one letter, the best case.
    data: { type: 'string', default: 'random' },
    runs: { type: 'string', default: '7' },
    keep: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const COUNT = Number(values.configmaps);
const LOCKS = Number(values.locks);
const VALUE_BYTES = Number(values['value-bytes']);
const RUNS = Number(values.runs);

const state = readState();
if (!state) throw new Error('the test cluster is not running: npm run cluster:start');
const kubeconfigPath = join(clusterDir, 'kubeconfig');
interface Kubeconfig {
  users: { name: string; user: { token?: string } }[];
}
const token = (parse(readFileSync(kubeconfigPath, 'utf8')) as Kubeconfig).users.find((u) => u.name === 'admin')?.user
  .token;
if (!token) throw new Error('no admin token in the kubeconfig');
const server = new URL(state.server);
const agent = new Agent({ keepAlive: true, ca: readFileSync(join(clusterDir, 'ca.crt')), maxSockets: 16 });

interface Answer {
  status: number;
  wireBytes: number;
  body: Buffer;
}

function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        method,
        path,
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          resolve({ status: res.statusCode ?? 0, wireBytes: raw.length, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const kubectl = (args: string[]) =>
  spawnSync('kubectl', ['--kubeconfig', kubeconfigPath, '--context', 'admin', ...args], { encoding: 'utf8' });

const ns = `listcost-${randomBytes(3).toString('hex')}`;
const podOwner = { apiVersion: 'v1', kind: 'Pod', name: 'go-app', uid: '' };

async function setUp(): Promise<void> {
  const created = await call('POST', '/api/v1/namespaces', {}, JSON.stringify({ metadata: { name: ns } }));
  if (created.status !== 201) throw new Error(`namespace: ${created.status} ${created.body.toString()}`);
  const pod = await call(
    'POST',
    `/api/v1/namespaces/${ns}/pods`,
    {},
    JSON.stringify({
      metadata: { name: 'go-app' },
      spec: { containers: [{ name: 'c', image: 'registry.invalid/x' }] },
    }),
  );
  podOwner.uid = (JSON.parse(pod.body.toString()) as { metadata: { uid: string } }).metadata.uid;
  const value = (): string =>
    values.data === 'repeated'
      ? 'x'.repeat(VALUE_BYTES)
      : randomBytes(VALUE_BYTES).toString('base64').slice(0, VALUE_BYTES);
  const started = Date.now();
  for (let i = 0; i < COUNT; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, COUNT - i) }, (_, j) =>
        call(
          'POST',
          `/api/v1/namespaces/${ns}/configmaps`,
          {},
          JSON.stringify({
            metadata: { name: `app-config-${i + j}`, labels: { app: `app-${(i + j) % 40}` } },
            data: { 'settings.yaml': value() },
          }),
        ),
      ),
    );
  }
  for (let i = 0; i < LOCKS; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, LOCKS - i) }, (_, j) =>
        call(
          'POST',
          `/api/v1/namespaces/${ns}/configmaps`,
          {},
          JSON.stringify({
            metadata: { name: `cmlock-${i + j}`, labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' } },
            data: { holderIdentity: 'alice', expiresAt: '4102444800', leaseDurationSeconds: '3600' },
          }),
        ),
      ),
    );
  }
  for (let i = 0; i < 3; i++) {
    await call(
      'POST',
      `/api/v1/namespaces/${ns}/configmaps`,
      {},
      JSON.stringify({
        metadata: { name: `go-lock-${i}`, ownerReferences: [{ ...podOwner, controller: true }] },
        data: { expiresAt: '4102444800' },
      }),
    );
  }
  process.stderr.write(
    `list-cost: ${COUNT} ConfigMaps of ${VALUE_BYTES} B created in ${ns} in ${Date.now() - started} ms\n`,
  );
}

interface ObjectMeta {
  name: string;
  labels?: Record<string, string>;
  ownerReferences?: { kind: string; controller?: boolean }[];
}
interface List {
  metadata: { continue?: string };
  items: { metadata: ObjectMeta; data?: Record<string, string> }[];
}

/** The shape test that a metadata-only list allows (src/lock/go-library.ts): no managed-by label, one Pod owner. */
const goCandidate = (m: ObjectMeta) =>
  m.labels?.['app.kubernetes.io/managed-by'] === undefined &&
  m.ownerReferences?.length === 1 &&
  m.ownerReferences[0]?.kind === 'Pod' &&
  m.ownerReferences[0].controller === true;

const METADATA = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const TABLE =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

interface Variant {
  name: string;
  accept?: string;
  query: string;
  /** Follow-up GETs for candidates (metadata-only lists cannot see data). */
  getCandidates?: boolean;
  /** Several variants at once, as one (what ls sends). */
  together?: Variant[];
}

const LABELLED = 'labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubectl-cmlock';
const UNLABELLED = 'labelSelector=%21app.kubernetes.io%2Fmanaged-by';

const variants: Variant[] = [
  { name: 'full list, one request', query: '' },
  { name: 'full list, pages of 500', query: 'limit=500' },
  { name: 'metadata-only list, one request', accept: METADATA, query: '' },
  { name: 'metadata-only list, pages of 500', accept: METADATA, query: 'limit=500' },
  { name: 'metadata-only + GET each candidate', accept: METADATA, query: 'limit=500', getCandidates: true },
  { name: 'label-selected list (ls before issue 12)', query: `${LABELLED}&limit=500` },
  {
    name: 'ls now: that + metadata-only !label list + GETs, at once',
    query: '',
    together: [
      { name: 'labelled', query: `${LABELLED}&limit=500` },
      { name: 'unlabelled', accept: METADATA, query: `${UNLABELLED}&limit=5000`, getCandidates: true },
    ],
  },
  { name: "kubectl get cm's request (Table)", accept: TABLE, query: 'limit=500' },
];

interface Sample {
  ms: number;
  requests: number;
  wire: number;
  decoded: number;
  found: number;
}

async function runVariant(v: Variant, gzip: boolean): Promise<Sample> {
  if (v.together) {
    const start = performance.now();
    const parts = await Promise.all(v.together.map((part) => runVariant(part, gzip)));
    const sum = (key: 'requests' | 'wire' | 'decoded' | 'found') => parts.reduce((n, p) => n + p[key], 0);
    const found = parts.reduce((n, p, i) => n + (v.together?.[i]?.getCandidates ? p.found : 0), 0);
    return {
      ms: performance.now() - start,
      requests: sum('requests'),
      wire: sum('wire'),
      decoded: sum('decoded'),
      found,
    };
  }
  const headers: Record<string, string> = { 'accept-encoding': gzip ? 'gzip' : 'identity' };
  if (v.accept) headers['accept'] = v.accept;
  const start = performance.now();
  let token = '';
  let requests = 0;
  let wire = 0;
  let decoded = 0;
  let found = 0;
  const candidates: string[] = [];
  do {
    const query = [v.query, token ? `continue=${encodeURIComponent(token)}` : ''].filter((q) => q).join('&');
    const a = await call('GET', `/api/v1/namespaces/${ns}/configmaps${query ? `?${query}` : ''}`, headers);
    if (a.status !== 200) throw new Error(`${v.name}: ${a.status} ${a.body.toString().slice(0, 200)}`);
    requests++;
    wire += a.wireBytes;
    decoded += a.body.length;
    const list = JSON.parse(a.body.toString()) as List & { rows?: unknown[] };
    if (list.items) {
      for (const item of list.items) {
        if (!goCandidate(item.metadata)) continue;
        if (v.getCandidates) candidates.push(item.metadata.name);
        // A full list sees the data (only expiresAt, or nothing); a metadata-only one counts the candidates.
        else if (v.accept !== undefined || Object.keys(item.data ?? {}).every((k) => k === 'expiresAt')) found++;
      }
    }
    token = list.metadata?.continue ?? '';
  } while (token);
  for (const name of candidates) {
    const a = await call('GET', `/api/v1/namespaces/${ns}/configmaps/${name}`, headers);
    requests++;
    wire += a.wireBytes;
    decoded += a.body.length;
    const cm = JSON.parse(a.body.toString()) as { data?: Record<string, string> };
    if (Object.keys(cm.data ?? {}).every((k) => k === 'expiresAt')) found++;
  }
  return { ms: performance.now() - start, requests, wire, decoded, found };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function kubectlGetMs(): number {
  const start = performance.now();
  const r = kubectl(['get', 'cm', '-n', ns]);
  if (r.status !== 0) throw new Error(r.stderr);
  return performance.now() - start;
}

/** Wall ms and peak RSS (KiB) of `kubectl ARGS` with the kubectl-cmlock of `pluginDir`, from GNU time. */
function timed(args: string[], pluginDir = ''): { ms: number; rssKiB: number } {
  // kubectl takes no flag before a plugin's name: the kubeconfig from the environment, the context last.
  const path = [pluginDir, process.env['PATH'] ?? ''].filter((p) => p !== '').join(':');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'kubectl', ...args, '--context', 'admin'], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfigPath, PATH: path },
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  const [seconds = '', rss = ''] = r.stderr.trim().split('\n').at(-1)?.split(' ') ?? [];
  return { ms: Number(seconds) * 1000, rssKiB: Number(rss) };
}

/** `kubectl cmlock ls` (and --baseline's) against `kubectl get cm`, interleaved; skipped without the binary. */
function endToEnd(): void {
  const binary = join(repoRoot, 'dist', 'kubectl-cmlock');
  if (!existsSync(binary)) {
    console.log('\n(npm run build:binary first to also time `kubectl cmlock ls` end to end)');
    return;
  }
  // Each build alone in a directory put first on PATH, where kubectl finds it.
  const plugins: [string, string][] = [['ls', binary]];
  if (values.baseline !== undefined) plugins.push(['ls (baseline)', values.baseline]);
  const dirs = plugins.map(([name, file], i) => {
    const dir = join(repoRoot, 'dist', `list-cost-plugin-${i}`);
    mkdirSync(dir, { recursive: true });
    rmSync(join(dir, 'kubectl-cmlock'), { force: true });
    symlinkSync(file, join(dir, 'kubectl-cmlock'));
    return [name, dir] as const;
  });
  const ls = ['cmlock', 'ls', '-n', ns];
  const get = ['get', 'cm', '-n', ns];
  const runs = new Map<string, { ms: number; rssKiB: number }[]>();
  const add = (name: string, sample: { ms: number; rssKiB: number }) =>
    runs.set(name, [...(runs.get(name) ?? []), sample]);
  for (const [, dir] of dirs) timed(ls, dir); // the code cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, dir] of dirs) add(`kubectl cmlock ${name}`, timed(ls, dir));
    add('kubectl get cm', timed(get));
  }
  const of = (key: string, field: 'ms' | 'rssKiB') => median((runs.get(key) ?? []).map((r) => r[field]));
  console.log(`\nend to end, median of ${RUNS} (ratios to kubectl get cm):`);
  for (const key of runs.keys()) {
    const ms = of(key, 'ms');
    const rss = of(key, 'rssKiB');
    console.log(
      `  ${key.padEnd(28)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / of('kubectl get cm', 'ms')).toFixed(2)}x   ` +
        `${(rss / 1024).toFixed(0).padStart(4)} MiB  ${(rss / of('kubectl get cm', 'rssKiB')).toFixed(2)}x`,
    );
  }
}

async function main(): Promise<void> {
  await setUp();
  try {
    const samples = new Map<string, Sample[]>();
    const kubectlMs: number[] = [];
    // Warm the watch cache and the connections once.
    for (const v of variants) await runVariant(v, true);
    for (let run = 0; run < RUNS; run++) {
      for (const v of variants) {
        for (const gzip of [false, true]) {
          const key = `${v.name}|${gzip}`;
          samples.set(key, [...(samples.get(key) ?? []), await runVariant(v, gzip)]);
        }
      }
      kubectlMs.push(kubectlGetMs());
    }
    const kubectlMedian = median(kubectlMs);
    const rows: string[][] = [
      [
        'variant',
        'requests',
        'wire B (identity)',
        'wire B (gzip)',
        'decoded B',
        'ms identity',
        'ms gzip',
        'Go locks found',
      ],
    ];
    for (const v of variants) {
      const plain = samples.get(`${v.name}|false`) ?? [];
      const gz = samples.get(`${v.name}|true`) ?? [];
      rows.push([
        v.name,
        String(plain[0]?.requests ?? 0),
        String(plain[0]?.wire ?? 0),
        String(gz[0]?.wire ?? 0),
        String(plain[0]?.decoded ?? 0),
        median(plain.map((s) => s.ms)).toFixed(1),
        median(gz.map((s) => s.ms)).toFixed(1),
        String(plain[0]?.found ?? 0),
      ]);
    }
    rows.push(['kubectl get cm (process, end to end)', '', '', '', '', kubectlMedian.toFixed(1), '', '']);
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
    console.log(
      `\n${COUNT} unrelated ConfigMaps of ${VALUE_BYTES} B (${values.data}) + ${LOCKS} cmlock locks + 3 Go locks; ` +
        `median of ${RUNS}`,
    );
    endToEnd();
  } finally {
    if (!values.keep) await call('DELETE', `/api/v1/namespaces/${ns}`);
    agent.destroy();
  }
}

await main();
