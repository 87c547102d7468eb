// node scripts/list-cost.ts [--configmaps 3000] [--value-bytes 1024] [--data random|repeated] [--runs 7] [--keep]
// What it costs to find Go-library locks (no managed-by label: only their shape tells them apart) in a namespace
// full of unrelated ConfigMaps, against the running test cluster (.cluster/kubeconfig, context admin): a full list,
// a metadata-only list (PartialObjectMetadataList: labels and ownerReferences, no data), today's label-selected
// list, and `kubectl get cm` for scale. Bytes on the wire (identity and gzip), bytes decoded, and the median time
// of a request including JSON.parse, runs interleaved. Numbers for issue 12; never a test.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { clusterDir, readState } from './cluster-lib.ts';

const { values } = parseArgs({
  options: {
    configmaps: { type: 'string', default: '3000' },
    'value-bytes': { type: 'string', default: '1024' },
    // random: base64 noise, the worst case for gzip; repeated: one letter, the best case.
    data: { type: 'string', default: 'random' },
    runs: { type: 'string', default: '7' },
    keep: { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.configmaps);
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
  for (let i = 0; i < 3; i++) {
    await call(
      'POST',
      `/api/v1/namespaces/${ns}/configmaps`,
      {},
      JSON.stringify({
        metadata: { name: `cmlock-${i}`, labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' } },
        data: { holderIdentity: 'alice', expiresAt: '4102444800', leaseDurationSeconds: '3600' },
      }),
    );
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
  ownerReferences?: { kind: string }[];
}
interface List {
  metadata: { continue?: string };
  items: { metadata: ObjectMeta; data?: Record<string, string> }[];
}

/** The shape test that a metadata-only list allows: no managed-by label, and a Pod among the owners. */
const goCandidate = (m: ObjectMeta) =>
  m.labels?.['app.kubernetes.io/managed-by'] === undefined && (m.ownerReferences ?? []).some((o) => o.kind === 'Pod');

const METADATA = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const TABLE =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

interface Variant {
  name: string;
  accept?: string;
  query: string;
  /** Follow-up GETs for candidates (metadata-only lists cannot see data). */
  getCandidates?: boolean;
}

const variants: Variant[] = [
  { name: 'full list, one request', query: '' },
  { name: 'full list, pages of 500', query: 'limit=500' },
  { name: 'metadata-only list, one request', accept: METADATA, query: '' },
  { name: 'metadata-only list, pages of 500', accept: METADATA, query: 'limit=500' },
  { name: 'metadata-only + GET each candidate', accept: METADATA, query: 'limit=500', getCandidates: true },
  { name: 'label-selected list (ls today)', query: 'labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubectl-cmlock' },
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
      `\n${COUNT} unrelated ConfigMaps of ${VALUE_BYTES} B (${values.data}) + 3 cmlock locks + 3 Go locks; median of ${RUNS}`,
    );
  } finally {
    if (!values.keep) await call('DELETE', `/api/v1/namespaces/${ns}`);
    agent.destroy();
  }
}

await main();
