// `kubectl cmlock acquire` against the real API server: a free lock, a held one (exit 3 naming the holder and
// until when), an expired one (taken over), one's own lock again, and a waiter that gets a released lock at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmlock, testNamespace, uniqueName } from './harness.ts';
import { acquireJson, assertErrorLine, cmlockOk, mustGetConfigMap, ms, show, startCmlock } from './lock-helpers.ts';

/** RFC 3339 to the second, as cmlock prints times. */
const toSecond = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

test('acquire a free lock, then again as the same user: exit 0, fence named, expiry extended, same fence', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('free');
  const before = Date.now();
  const first = await cmlockOk(['acquire', name, '-n', ns, '--ttl', '5m', '--reason', 'schema v42', '-l', 'team=db']);
  const m = new RegExp(
    `^acquired lock "${name}" in namespace "${ns}" \\(fence (\\d+), expires \\d\\d:\\d\\d:\\d\\dZ\\)\\n$`,
  ).exec(first.stdout);
  assert.ok(m, show(first));
  assert.equal(first.stderr, '', 'nothing on stderr when all is well');
  const fence = m[1] ?? '';

  const cm = await mustGetConfigMap(ns, name);
  assert.equal(cm.metadata.labels?.['app.kubernetes.io/managed-by'], 'kubectl-cmlock');
  assert.equal(cm.metadata.labels?.['team'], 'db');
  const data = cm.data ?? {};
  assert.equal(data['reason'], 'schema v42');
  assert.match(data['holderIdentity'] ?? '', /.+@.+/, 'the default identity is USER@HOST');
  assert.equal(data['user'], 'admin', 'the authenticated user, from the server');
  // The Go library's key: Unix seconds, about five minutes from now (this machine's clock is the server's).
  const expiresAt = Number(data['expiresAt']);
  assert.ok(Math.abs(expiresAt - (before / 1000 + 300)) < 60, `expiresAt ${data['expiresAt']}`);

  // Again, from a separate invocation by the same user on the same host: harmless, extends the lease.
  const again = await cmlockOk(['acquire', name, '-n', ns, '--ttl', '10m']);
  assert.match(
    again.stdout,
    new RegExp(`^lock "${name}" already held by you; expiry extended to \\d\\d:\\d\\d:\\d\\dZ\\n$`),
  );
  const after = (await mustGetConfigMap(ns, name)).data ?? {};
  assert.equal(after['acquisitionId'], data['acquisitionId'], 'the same acquisition');
  assert.equal(after['acquireTime'], data['acquireTime']);
  assert.equal(after['holderIdentity'], data['holderIdentity']);
  assert.ok(
    Number(after['expiresAt']) >= expiresAt + 290,
    `expiry extended: ${data['expiresAt']} -> ${after['expiresAt']}`,
  );

  // The fence the user sees is unchanged by re-acquiring.
  const view = await acquireJson(ns, name, ['--ttl', '10m']);
  assert.equal(view.fence, fence, 'the same fence');
  assert.equal(view.status, 'Held');
  assert.equal(view.reason, 'schema v42', 'the reason is kept when none is given');
});

test('acquire a lock someone else holds: exit 3 at once, one line naming the holder and until when', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('held');
  const named = await cmlockOk([
    'acquire',
    name,
    '-n',
    ns,
    '--identity',
    'alice-ops',
    '--ttl',
    '10m',
    '--reason',
    'deploy',
    '-o',
    'name',
  ]);
  assert.equal(named.stdout, `cmlock/${name}\n`);
  const cm = await mustGetConfigMap(ns, name);
  const data = cm.data ?? {};
  const expiry = toSecond(ms(data['renewTime'] ?? '') + Number(data['leaseDurationSeconds']) * 1000);

  const r = await cmlock(['acquire', name, '-n', ns, '--identity', 'bob', '--timeout', '0']);
  const line = assertErrorLine(
    r,
    3,
    new RegExp(
      `^error: lock "${name}" is held by alice-ops \\(user admin\\) since \\S+Z, reason "deploy", expires (\\S+) \\(in (\\d+)m`,
    ),
  );
  assert.ok(
    new RegExp(`expires ${expiry} \\(in (9m\\d*s?|10m)\\)`).test(line),
    `until when, on the server's clock: ${line}`,
  );
  const unchanged = await mustGetConfigMap(ns, name);
  assert.equal(unchanged.metadata.resourceVersion, cm.metadata.resourceVersion, 'the lock is untouched');

  // With a timeout: waits that long, then the same answer.
  const started = Date.now();
  const waited = await cmlock(['acquire', name, '-n', ns, '--identity', 'bob', '--timeout', '2s']);
  assertErrorLine(
    waited,
    3,
    new RegExp(`^error: timed out after 2s waiting for lock "${name}" \\(held by alice-ops \\(user admin\\)`),
    {
      waited: true,
    },
  );
  assert.ok(Date.now() - started >= 2000, 'it waited for the timeout');
  // It waited in line and left it at the timeout: the holder's record is as it was, and nobody waits.
  const after = await mustGetConfigMap(ns, name);
  assert.deepEqual({ ...after.data, fence: undefined }, { ...cm.data, fence: undefined });
  // Its token: the create's resourceVersion, already written down by the update that made the lock its own owner.
  assert.equal(after.data?.['fence'], cm.data?.['fence'] ?? cm.metadata.resourceVersion, "the holder's fence, kept");
});

test('acquire an expired lock: taken over, saying from whom, with a higher fence, not before it expired', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('expired');
  const first = await acquireJson(ns, name, ['--identity', 'alice-ops', '--ttl', '2s']);
  const firstExpiry = ms(first.expiresAt);
  assert.equal(firstExpiry - ms(first.renewTime), 2000);

  const r = await cmlockOk(['acquire', name, '-n', ns, '--identity', 'bob', '--timeout', '30s']);
  const m = new RegExp(`^took over expired lock "${name}" from alice-ops \\(fence (\\d+), expires \\S+\\)\\n$`).exec(
    r.stdout,
  );
  assert.ok(m, show(r));
  assert.ok(BigInt(m[1] ?? '0') > BigInt(first.fence), `fence ${m[1]} > ${first.fence}`);

  const cm = await mustGetConfigMap(ns, name);
  const data = cm.data ?? {};
  assert.equal(data['holderIdentity'], 'bob');
  assert.ok(
    ms(data['acquireTime'] ?? '') >= firstExpiry,
    `taken over at ${data['acquireTime']}, not before ${first.expiresAt}`,
  );
});

test('a waiting acquire gets the lock as soon as it is released (a watch, not the expiry)', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('handoff');
  await acquireJson(ns, name, ['--identity', 'alice-ops', '--ttl', '10m']);
  const waiter = startCmlock(['acquire', name, '-n', ns, '--identity', 'bob', '--timeout', '90s']);
  await waiter.waitForStderr(new RegExp(`waiting for lock "${name}": held by alice-ops`));
  assert.equal(waiter.exited(), false);

  await cmlockOk(['release', name, '-n', ns, '--identity', 'alice-ops']);
  const releasedAt = Date.now();
  const r = await waiter.done;
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`^acquired lock "${name}" in namespace "${ns}" \\(fence \\d+`));
  assert.ok(Date.now() - releasedAt < 15_000, 'woken by the release, not by the 10m expiry');
  assert.doesNotMatch(r.stderr, /error/);
  assert.equal((await mustGetConfigMap(ns, name)).data?.['holderIdentity'], 'bob');
});
