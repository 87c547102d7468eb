// `kubectl cmlock ls` in every format (table, wide, json, yaml, name), --no-headers, -A and -l; `describe` with
// its Events. Two namespaces of our own, so -A can be checked without knowing what else the cluster holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { eventually, kubectlOk, testNamespace, uniqueName } from './harness.ts';
import { acquireJson, cells, cmlockOk, LOCK_VIEW_FIELDS, type LockJson, parseLock, show } from './lock-helpers.ts';

test('ls: table, wide, json, yaml, name, --no-headers, -A and -l', async (t) => {
  const [ns, other] = await Promise.all([testNamespace(t, 'ls'), testNamespace(t, 'ls')]);
  const [db, web] = [uniqueName('db'), uniqueName('web')];
  const [a, b, c] = await Promise.all([
    acquireJson(ns, db, ['--identity', 'alice-ops', '--ttl', '30m', '--reason', 'schema v42', '-l', 'team=db']),
    acquireJson(ns, web, ['--identity', 'bob', '--ttl', '1s', '-l', 'team=web,tier=front']),
    acquireJson(other, 'elsewhere', ['--identity', 'carol', '--ttl', '30m']),
  ]);
  // A ConfigMap that is not a lock is not listed.
  await kubectlOk(['create', 'configmap', 'not-a-lock', '-n', ns, '--from-literal=holderIdentity=x']);

  // The 1s lock expires; STATUS says so (judged on the server's clock).
  let rows: string[][] = [];
  await eventually(
    async () => {
      rows = cells((await cmlockOk(['ls', '-n', ns])).stdout);
      return rows.find((r) => r[0] === web)?.[2] === 'Expired';
    },
    30_000,
    `ls shows ${web} Expired`,
  );
  assert.deepEqual(rows[0], ['NAME', 'HOLDER', 'STATUS', 'AGE', 'EXPIRES', 'WAITING', 'REASON']);
  assert.equal(rows.length, 3, `a header and two locks, sorted by name:\n${rows.join('\n')}`);
  const [dbRow, webRow] = rows.slice(1);
  assert.deepEqual(dbRow?.slice(0, 3), [db, 'alice-ops', 'Held']);
  assert.match(dbRow?.[4] ?? '', /^in (29m|30m)/);
  assert.deepEqual(dbRow?.slice(5), ['0', 'schema v42'], 'nobody waiting');
  assert.deepEqual(webRow?.slice(0, 3), [web, 'bob', 'Expired']);
  assert.match(webRow?.[4] ?? '', /^expired \d+s ago$/);
  assert.deepEqual(webRow?.slice(5), ['0', '<none>']);

  const [noHeaders, wide, json, yaml, names, all, selected, selectedNames, allJson] = await Promise.all([
    cmlockOk(['ls', '-n', ns, '--no-headers']),
    cmlockOk(['ls', '-n', ns, '-o', 'wide']),
    cmlockOk(['ls', '-n', ns, '-o', 'json']),
    cmlockOk(['ls', '-n', ns, '-o', 'yaml']),
    cmlockOk(['ls', '-n', ns, '-o', 'name']),
    cmlockOk(['ls', '-A']),
    cmlockOk(['ls', '-n', ns, '-l', 'team=db']),
    cmlockOk(['ls', '-n', ns, '-l', 'team', '-l', 'tier=front', '-o', 'name']),
    cmlockOk(['ls', '--all-namespaces', '-l', 'team=db', '-o', 'json']),
  ]);

  assert.deepEqual(
    cells(noHeaders.stdout).map((r) => r.slice(0, 3)),
    [
      [db, 'alice-ops', 'Held'],
      [web, 'bob', 'Expired'],
    ],
  );

  const wideRows = cells(wide.stdout);
  assert.deepEqual(wideRows[0], [
    'NAME',
    'HOLDER',
    'STATUS',
    'AGE',
    'EXPIRES',
    'WAITING',
    'REASON',
    'USER',
    'HOST',
    'FENCE',
    'OWNER',
    'ACQUIRED',
    'NEXT',
  ]);
  assert.deepEqual(wideRows[1]?.slice(7, 11), ['admin', a.host, a.fence, '<none>']);
  assert.equal(wideRows[1]?.[11], a.acquireTime.replace(/\.\d+Z$/, 'Z'));
  assert.equal(wideRows[1]?.[12], '<none>', 'nobody first in line');
  assert.deepEqual(wideRows[2]?.slice(9, 10), [b.fence]);

  const list = JSON.parse(json.stdout) as { items: LockJson[] };
  assert.deepEqual(Object.keys(list), ['items']);
  assert.deepEqual(
    list.items.map((i) => [i.name, i.holder, i.status, i.fence]),
    [
      [db, 'alice-ops', 'Held', a.fence],
      [web, 'bob', 'Expired', b.fence],
    ],
  );
  for (const item of list.items) assert.deepEqual(Object.keys(item).sort(), [...LOCK_VIEW_FIELDS].sort());
  const [dbItem] = list.items;
  assert.equal(dbItem?.namespace, ns);
  assert.equal(dbItem?.user, 'admin');
  assert.equal(dbItem?.reason, 'schema v42');
  assert.equal(dbItem?.leaseDurationSeconds, 1800);
  assert.equal(dbItem?.expiresAt, a.expiresAt);
  assert.equal(dbItem?.foreign, false);
  assert.deepEqual(dbItem?.labels, { 'app.kubernetes.io/managed-by': 'kubectl-cmlock', team: 'db' });

  const fromYaml = parse(yaml.stdout) as { items: LockJson[] };
  assert.deepEqual(
    fromYaml.items.map((i) => ({ ...i, renewTime: '' })),
    list.items.map((i) => ({ ...i, renewTime: '' })),
    'yaml and json print the same objects',
  );

  assert.equal(names.stdout, `cmlock/${db}\ncmlock/${web}\n`);

  const allRows = cells(all.stdout);
  // HOLDERS appears when a shared lock or semaphore is listed: other tests' namespaces may hold some meanwhile.
  assert.deepEqual(
    allRows[0]?.filter((h) => h !== 'HOLDERS'),
    ['NAMESPACE', 'NAME', 'HOLDER', 'STATUS', 'AGE', 'EXPIRES', 'WAITING', 'REASON'],
  );
  const ours = allRows.filter((r) => r[0] === ns || r[0] === other);
  assert.deepEqual(
    ours.map((r) => r.slice(0, 4)),
    [
      [ns, db, 'alice-ops', 'Held'],
      [ns, web, 'bob', 'Expired'],
      [other, 'elsewhere', 'carol', 'Held'],
    ].sort((x, y) => (x[0] ?? '').localeCompare(y[0] ?? '')),
  );
  assert.equal(c.namespace, other);

  assert.deepEqual(
    cells(selected.stdout).map((r) => r[0]),
    ['NAME', db],
  );
  assert.equal(selectedNames.stdout, `cmlock/${web}\n`, 'several -l are ANDed; a bare key means "has the label"');
  const allSelected = (JSON.parse(allJson.stdout) as { items: LockJson[] }).items.filter((i) => i.namespace === ns);
  assert.deepEqual(
    allSelected.map((i) => i.name),
    [db],
  );
});

test('ls in a namespace without locks: nothing on stdout, a note on stderr; -o json an empty list', async (t) => {
  const ns = await testNamespace(t, 'ls');
  const [table, json, names] = await Promise.all([
    cmlockOk(['ls', '-n', ns]),
    cmlockOk(['ls', '-n', ns, '-o', 'json']),
    cmlockOk(['ls', '-n', ns, '-o', 'name']),
  ]);
  assert.equal(table.stdout, '');
  assert.equal(table.stderr, `No locks found in namespace "${ns}".\n`);
  assert.deepEqual(JSON.parse(json.stdout), { items: [] });
  assert.equal(names.stdout, '');
});

test('describe: every field, and the Events (Acquired, TookOver) recorded on the lock', async (t) => {
  const ns = await testNamespace(t, 'desc');
  const name = uniqueName('desc');
  const first = await acquireJson(ns, name, ['--identity', 'alice-ops', '--ttl', '1s', '--reason', 'first']);
  // Taken over once expired: the same ConfigMap, so its Events tell both stories.
  const second = await acquireJson(ns, name, [
    '--identity',
    'bob',
    '--ttl',
    '30m',
    '--reason',
    'second',
    '--timeout',
    '30s',
    '-l',
    'team=db',
  ]);
  assert.ok(BigInt(second.fence) > BigInt(first.fence));

  const r = await cmlockOk(['describe', name, '-n', ns]);
  const fields = new Map<string, string>();
  const lines = r.stdout.split('\n');
  for (const line of lines) {
    const m = /^([A-Z][A-Za-z ]+):\s+(.*)$/.exec(line);
    if (m && !fields.has(m[1] ?? '')) fields.set(m[1] ?? '', m[2] ?? '');
  }
  assert.equal(fields.get('Name'), name, r.stdout);
  assert.equal(fields.get('Namespace'), ns);
  assert.equal(fields.get('Holder'), 'bob');
  assert.equal(fields.get('User'), 'admin');
  assert.equal(fields.get('Host'), second.host);
  assert.equal(fields.get('Status'), 'Held');
  assert.equal(fields.get('Reason'), 'second');
  assert.match(fields.get('Acquired') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+s ago\)$/);
  assert.equal(fields.get('Lease Duration'), '30m');
  assert.match(fields.get('Expires') ?? '', /^\S+Z \(in (29m|30m)/);
  assert.equal(fields.get('Fence'), second.fence);
  assert.equal(fields.get('Owner'), '<none>');
  assert.match(r.stdout, /^Labels:\s+app\.kubernetes\.io\/managed-by=kubectl-cmlock\n\s+team=db$/m);

  const events = lines.slice(lines.indexOf('Events:') + 1).filter((l) => l !== '');
  assert.match(events[0] ?? '', /^ {2}Type\s+Reason\s+Age\s+Message$/, r.stdout);
  const acquired = events.find((l) => /^ {2}Normal\s+Acquired\s/.test(l));
  assert.ok(acquired, `an Acquired event:\n${r.stdout}`);
  assert.match(
    acquired,
    new RegExp(`alice-ops \\(user admin\\) acquired the lock, fence ${first.fence}, lease 1s, reason "first"`),
  );
  const tookOver = events.find((l) => /^ {2}Normal\s+TookOver\s/.test(l));
  assert.ok(tookOver, `a TookOver event:\n${r.stdout}`);
  assert.match(tookOver, new RegExp(`bob \\(user admin\\) took over the lock from alice-ops, .*fence ${second.fence}`));

  const asJson = parseLock((await cmlockOk(['describe', name, '-n', ns, '-o', 'json'])).stdout);
  assert.deepEqual({ ...asJson, status: second.status, renewTime: '' }, { ...second, renewTime: '' }, show(r));
});
