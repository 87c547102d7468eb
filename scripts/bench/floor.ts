// The floors the bench prints beside cmlock: what any kubectl plugin that is a Node single executable pays
// before it does anything of its own. One program, built like cmlock (same Node, same V8 flags, same stripped
// base), run three ways:
//   kubectl benchfloor                 starts and exits: kubectl's plugin dispatch plus Node's start-up
//   kubectl benchfloor get PATH        one GET over node:https (the CA and token of the bench's kubeconfig),
//                                      the body to stdout: Node's start-up, TLS and one request
//   benchfloor watch PATH              one watch held open: the idle memory of a Node watcher
// It reads no kubeconfig (no YAML parser): the bench writes the server, CA and token to a JSON file first.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { clusterDir } from '../cluster-lib.ts';

/** The environment variable that names the JSON file with the floor's server, CA and token. */
export const FLOOR_CONFIG_ENV = 'CMLOCK_BENCH_FLOOR';

export const FLOOR_SCRIPT = `// bench floor: see scripts/bench/floor.ts
const [mode, path] = process.argv.slice(2);
if (mode === 'get' || mode === 'watch') {
  const https = require('node:https');
  const c = JSON.parse(require('node:fs').readFileSync(process.env.${FLOOR_CONFIG_ENV}, 'utf8'));
  const headers = { Authorization: 'Bearer ' + c.token, Accept: 'application/json' };
  https.get(new URL(path, c.server), { ca: c.ca, headers }, (res) => {
    if (mode === 'watch') return res.on('data', () => {});
    const chunks = [];
    res.on('data', (d) => chunks.push(d));
    res.on('end', () => process.stdout.write(Buffer.concat(chunks)));
  });
}
`;

/** Writes the floor's connection file from the control plane's admin kubeconfig; returns its path. */
export function writeFloorConfig(dir: string): string {
  const config = parse(readFileSync(join(clusterDir, 'admin.kubeconfig'), 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
    users: { user: { token?: string } }[];
  };
  const cluster = config.clusters[0]?.cluster;
  const token = config.users[0]?.user.token;
  if (!cluster || !token) throw new Error('admin.kubeconfig: expected one cluster and one token user');
  const ca = cluster['certificate-authority-data'];
  const file = join(dir, 'floor.json');
  writeFileSync(
    file,
    JSON.stringify({ server: cluster.server, ca: ca && Buffer.from(ca, 'base64').toString('utf8'), token }),
    { mode: 0o600 },
  );
  return file;
}
