// Locks written by the Go library (test/go-peer) as cmlock shows them: `ls` in every form (table, --no-headers,
// wide, json, yaml, name, -A, -A -o wide, -l, -w) and lock-name completion find them by their shape (the library
// writes no managed-by label), next to ConfigMaps that are not locks; describe dates them from creationTimestamp
// and calls out a lock born expired; expiresAt edge values read as the library reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { complete } from './completion-helpers.ts';
import { cmlock, eventually, testNamespace, uniqueName } from './harness.ts';
import { assertNoPanic, goPeer, goPeerOk, peerHolds, peerPod, startGoPeer, type PeerPod } from './go-peer.ts';
import {
  acquireJson,
  applyConfigMap,
  assertErrorLine,
  cells,
  cmlockOk,
  type LockJson,
  mustGetConfigMap,
  parseLock,
  show,
} from './lock-helpers.ts';
import { startCmlock } from './run-helpers.ts';

/** RFC 3339 to the second, as tables print times. */
const toSecond = (time: string): string => time.replace(/\.\d+Z$/, 'Z');

test('ls, ls -w and completion show Go-library locks in every format, and no ConfigMap that is not a lock', async (t) => {
  const [ns, other] = await Promise.all([testNamespace(t, 'gols'), testNamespace(t, 'gols')]);
  const [p, q] = await Promise.all([peerPod(ns, uniqueName('go-app')), peerPod(other, uniqueName('go-app'))]);
  // Names sort in this order.
  const [db, forever, ours, elsewhere, late] = [
    uniqueName('a-db'),
    uniqueName('b-forever'),
    uniqueName('c-ours'),
    uniqueName('d-elsewhere'),
    uniqueName('e-late'),
  ];
  await Promise.all([
    goPeerOk(p, ['acquire', db, '--timeout', '1h', '--labels', 'team=db']),
    goPeerOk(p, ['acquire', forever, '--timeout', '0']),
    acquireJson(ns, ours, ['--identity', 'alice@laptop', '--ttl', '30m']),
    goPeerOk(q, ['acquire', elsewhere, '--timeout', '1h']),
    // Not locks: plain settings, and settings that a Pod owns (data that is not the library's).
    applyConfigMap(ns, { metadata: { name: 'settings' }, data: { expiresAt: 'x', mode: 'fast' } }),
    applyConfigMap(ns, {
      metadata: { name: 'pod-cache', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: p.pod, uid: p.uid }] },
      data: { cache: 'warm' },
    }),
  ]);
  const [dbCm, foreverCm] = await Promise.all([mustGetConfigMap(ns, db), mustGetConfigMap(ns, forever)]);
  const created = (cm: typeof dbCm): string => cm.metadata.creationTimestamp ?? '';
  const holder = `pod/${p.pod}`;

  const [table, noHeaders, wide, json, yaml, names, all, allWide, selected] = await Promise.all([
    cmlockOk(['ls', '-n', ns]),
    cmlockOk(['ls', '-n', ns, '--no-headers']),
    cmlockOk(['ls', '-n', ns, '-o', 'wide']),
    cmlockOk(['ls', '-n', ns, '-o', 'json']),
    cmlockOk(['ls', '-n', ns, '-o', 'yaml']),
    cmlockOk(['ls', '-n', ns, '-o', 'name']),
    cmlockOk(['ls', '-A']),
    cmlockOk(['ls', '-A', '-o', 'wide']),
    cmlockOk(['ls', '-n', ns, '-l', 'team=db', '-o', 'name']),
  ]);

  // One subtest per form, so that each one that fails says so.
  await t.test('table and --no-headers', () => {
    const rows = cells(table.stdout);
    assert.deepEqual(
      rows.map((r) => r.slice(0, 3)),
      [
        ['NAME', 'HOLDER', 'STATUS'],
        [db, holder, 'Held'],
        [forever, holder, 'Held'],
        [ours, 'alice@laptop', 'Held'],
      ],
      show(table),
    );
    assert.match(rows[1]?.[4] ?? '', /^in (59m|1h)/, 'EXPIRES of the Go lock');
    assert.equal(rows[2]?.[4], 'never', 'a Go lock without expiresAt never expires by time');
    const reason = rows[0]?.indexOf('REASON') ?? -1;
    assert.deepEqual(
      rows.slice(1).map((r) => r[reason]),
      ['<Go library>', '<Go library>', '<none>'],
      'REASON marks the locks the Go library wrote',
    );
    const waiting = rows[0]?.indexOf('WAITING') ?? -1;
    assert.deepEqual(
      rows.slice(1).map((r) => r[waiting]),
      ['0', '0', '0'],
      'nobody waits for them',
    );
    // Two runs a moment apart: AGE and EXPIRES may have moved on by a second.
    const timeless = (r: string[]) => r.filter((_, i) => i !== 3 && i !== 4);
    assert.deepEqual(cells(noHeaders.stdout).map(timeless), rows.slice(1).map(timeless));
  });

  await t.test('-o wide: OWNER, and ACQUIRED from creationTimestamp', () => {
    const wideRows = cells(wide.stdout);
    const wideHead = wideRows[0] ?? [];
    const column = (row: string[] | undefined, header: string): string => row?.[wideHead.indexOf(header)] ?? '';
    const dbWide = wideRows.find((r) => r[0] === db);
    assert.ok(dbWide, `the Go lock in -o wide:\n${wide.stdout}`);
    assert.equal(column(dbWide, 'OWNER'), holder);
    assert.equal(column(dbWide, 'ACQUIRED'), toSecond(created(dbCm)), 'acquired when the ConfigMap was created');
  });

  await t.test('-o json and -o yaml', () => {
    const items = (JSON.parse(json.stdout) as { items: LockJson[] }).items;
    assert.deepEqual(
      items.map((i) => [i.name, i.holder, i.status, i.foreign]),
      [
        [db, holder, 'Held', true],
        [forever, holder, 'Held', true],
        [ours, 'alice@laptop', 'Held', false],
      ],
      json.stdout,
    );
    const [dbItem, foreverItem] = items;
    assert.deepEqual(dbItem?.labels, { team: 'db' });
    assert.equal(dbItem?.owner, holder);
    assert.equal(dbItem?.expiresAt, new Date(Number(dbCm.data?.['expiresAt']) * 1000).toISOString());
    assert.equal(dbItem?.creationTimestamp, created(dbCm));
    assert.equal(foreverItem?.expiresAt, '');
    assert.equal(foreverItem?.creationTimestamp, created(foreverCm));
    assert.deepEqual(
      (parse(yaml.stdout) as { items: LockJson[] }).items.map((i) => ({ ...i, renewTime: '' })),
      items.map((i) => ({ ...i, renewTime: '' })),
      'yaml and json print the same objects',
    );
  });

  await t.test('-o name and -l', () => {
    assert.equal(names.stdout, `cmlock/${db}\ncmlock/${forever}\ncmlock/${ours}\n`);
    assert.equal(selected.stdout, `cmlock/${db}\n`, 'the labels the library was given select its lock');
  });

  await t.test('-A and -A -o wide', () => {
    const ownRows = (text: string) => cells(text).filter((r) => r[0] === ns || r[0] === other);
    assert.deepEqual(
      ownRows(all.stdout).map((r) => r.slice(0, 4)),
      [
        [ns, db, holder, 'Held'],
        [ns, forever, holder, 'Held'],
        [ns, ours, 'alice@laptop', 'Held'],
        [other, elsewhere, `pod/${q.pod}`, 'Held'],
      ].sort((x, y) => (x[0] ?? '').localeCompare(y[0] ?? '')),
      show(all),
    );
    assert.deepEqual(
      ownRows(allWide.stdout).map((r) => r[1]),
      ownRows(all.stdout).map((r) => r[1]),
      '-A -o wide lists the same locks',
    );
  });

  await t.test('lock-name completion', async () => {
    assert.deepEqual((await complete(['release', '-n', ns, ''])).candidates, [db, forever, ours]);
    assert.deepEqual((await complete(['describe', '-n', ns, 'b-'])).candidates, [forever]);
  });

  // Last: it releases one of the locks.
  await t.test('ls -w: in the first table, then taken and released while it watches', async (st) => {
    const watch = startCmlock(['ls', '-w', '-n', ns]);
    st.after(() => watch.child.kill('SIGKILL'));
    let watched = '';
    watch.child.stdout?.on('data', (d: Buffer | string) => (watched += d.toString()));
    const untilRow = (name: string, who: string, status: string) =>
      eventually(
        async () => {
          if (watch.exitedAt() !== undefined) throw new Error(`ls -w exited:\n${watched}\n${watch.stderr()}`);
          return cells(watched).some((r) => r[0] === name && r[1] === who && r[2] === status);
        },
        20_000,
        `ls -w shows ${name} ${who} ${status}`,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; it printed:\n${watched}`);
      });
    await untilRow(ours, 'alice@laptop', 'Held');
    await untilRow(db, holder, 'Held');
    await untilRow(forever, holder, 'Held');
    await goPeerOk(p, ['acquire', late, '--timeout', '1h']);
    await untilRow(late, holder, 'Held');
    await goPeerOk(p, ['release', db]);
    await untilRow(db, holder, 'Released');
    assert.ok(!cells(watched).some((r) => r[0] === 'settings' || r[0] === 'pod-cache'), watched);
  });
});

test('describe a Go-library lock: acquired when it was created; one born expired is called out', async (t) => {
  const ns = await testNamespace(t, 'godesc');
  const [a, b] = await Promise.all([peerPod(ns, uniqueName('go-a')), peerPod(ns, uniqueName('go-b'))]);
  const name = uniqueName('born');

  // b's Acquire (timeout 4 s) fails at 0 s, 1 s and 3 s, then sleeps 4 s; a lets go meanwhile, so b creates the
  // lock at about 7 s with expiresAt = start + 4 s: in the past from the moment it exists.
  const first = startGoPeer(a, ['hold', name, '--timeout', '10m']);
  t.after(() => first.finish());
  await peerHolds(first);
  const late = startGoPeer(b, ['acquire', name, '--timeout', '4s']);
  await eventually(
    async () => /trying again in 4s/.test(late.stderr()) || late.exited(),
    30_000,
    'the late Go peer sleeps 4 s',
  );
  first.finish();
  assert.equal((await first.done).code, 0, 'a released its lock');
  const born = await late.done;
  assertNoPanic(born, 'the late Go peer');
  assert.equal(born.code, 0, show(born));
  const cm = await mustGetConfigMap(ns, name);
  const createdMs = Date.parse(cm.metadata.creationTimestamp ?? '');
  const expiresMs = Number(cm.data?.['expiresAt']) * 1000;
  assert.ok(expiresMs < createdMs, `born expired: expiresAt ${expiresMs} before creation ${createdMs}`);

  const described = await cmlockOk(['describe', name, '-n', ns]);
  const view = parseLock((await cmlockOk(['describe', name, '-n', ns, '-o', 'json'])).stdout);
  assert.match(described.stdout, new RegExp(`^Holder:\\s+pod/${b.pod}$`, 'm'));
  assert.match(described.stdout, /^Status:\s+Expired$/m);
  assert.equal(view.creationTimestamp, cm.metadata.creationTimestamp);

  await t.test('Acquired is when the ConfigMap was created', () => {
    assert.match(
      described.stdout,
      new RegExp(`^Acquired:\\s+${toSecond(cm.metadata.creationTimestamp ?? '')} \\(\\d+s ago\\)$`, 'm'),
      described.stdout,
    );
  });
  await t.test('a lock born expired is called out', () => {
    assert.match(
      described.stdout,
      /expired before it was created|created already expired|born expired/i,
      described.stdout,
    );
  });
  // Last: it takes the lock.
  await t.test('acquire takes it over at once, as the Go library would, and warns', async () => {
    const over = await cmlock(['acquire', name, '-n', ns, '--identity', 'bob', '--timeout', '0']);
    assert.equal(over.code, 0, show(over));
    assert.match(over.stdout, new RegExp(`^took over expired lock "${name}" from pod/${b.pod} `));
    assert.equal(
      over.stderr,
      `warning: lock "${name}" was created already expired (the Go library's Acquire waited past its timeout); ` +
        `pod/${b.pod} may still think it holds it\n`,
    );
  });
});

/** A lock as the Go library writes it, owned by `p`, with expiresAt exactly as given. */
async function goShapedLock(p: PeerPod, name: string, expiresAt: string): Promise<void> {
  await applyConfigMap(p.ns, {
    metadata: {
      name,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: p.pod, uid: p.uid, controller: true }],
    },
    data: { expiresAt },
  });
}

test('expiresAt edge values read as the Go library reads them: -5, 0 and +5 expired, unparseable held', async (t) => {
  const ns = await testNamespace(t, 'goedge');
  const p = await peerPod(ns, uniqueName('go-app'));
  const q = await peerPod(ns, uniqueName('go-next'));
  // [expiresAt, the expiry it means, or undefined: held for ever]. Go's strconv.ParseInt takes a sign.
  const cases: [string, string | undefined][] = [
    ['-5', '1969-12-31T23:59:55.000Z'],
    ['0', '1970-01-01T00:00:00.000Z'],
    ['+5', '1970-01-01T00:00:05.000Z'],
    ['soon', undefined],
    ['99999999999999999999', undefined], // past int64: the library cannot parse it
  ];
  const names = cases.map(() => [uniqueName('edge-cm'), uniqueName('edge-go')] as const);
  await Promise.all(cases.flatMap(([value], i) => (names[i] ?? []).map((name) => goShapedLock(p, name, value))));

  for (const [i, [value, expiry]] of cases.entries()) {
    const [forCmlock = '', forGo = ''] = names[i] ?? [];
    const what = `expiresAt ${JSON.stringify(value)}`;
    await t.test(what, async () => {
      // The library's reading first: --timeout 0 tries once, breaks a stale lock, else times out (exit 3).
      const goView = await goPeer(q, ['acquire', forGo, '--timeout', '0']);
      assertNoPanic(goView, what);
      assert.equal(
        goView.code,
        expiry === undefined ? 3 : 0,
        `the library ${expiry ? 'breaks' : 'waits for'} it: ${show(goView)}`,
      );
      const view = parseLock((await cmlockOk(['describe', forCmlock, '-n', ns, '-o', 'json'])).stdout);
      const tryOnce = await cmlock(['acquire', forCmlock, '-n', ns, '--identity', 'bob', '--timeout', '0']);
      if (expiry !== undefined) {
        assert.deepEqual([view.status, view.expiresAt], ['Expired', expiry], `cmlock reads ${what} as expired`);
        assert.equal(tryOnce.code, 0, show(tryOnce));
        assert.match(tryOnce.stdout, new RegExp(`^took over expired lock "${forCmlock}" from pod/${p.pod} `));
      } else {
        assert.deepEqual([view.status, view.expiresAt], ['Held', ''], `cmlock reads ${what} as held for ever`);
        assertErrorLine(
          tryOnce,
          3,
          new RegExp(`^error: lock "${forCmlock}" is held by pod/${p.pod} since \\S+, never expires`),
        );
      }
    });
  }
});
