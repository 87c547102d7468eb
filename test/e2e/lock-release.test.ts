// `kubectl cmlock release` and `renew` against the real API server: by the holder, by someone else (exit 4, the
// lock untouched), --force (a warning and a Warning event), a missing lock (exit 5, --ignore-not-found).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { cmlock, testNamespace, uniqueName } from './harness.ts';
import {
  acquireJson,
  assertErrorLine,
  cmlockOk,
  eventsAbout,
  getConfigMap,
  mustGetConfigMap,
  ms,
  parseLock,
  show,
} from './lock-helpers.ts';

test('release by the holder deletes the lock; by anyone else it is refused with exit 4 and left untouched', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('rel');
  const yamlOut = await cmlockOk(['acquire', name, '-n', ns, '--identity', 'alice-ops', '--ttl', '10m', '-o', 'yaml']);
  const view = parse(yamlOut.stdout) as { holder: string; fence: string };
  assert.equal(view.holder, 'alice-ops');
  const before = await mustGetConfigMap(ns, name);

  const refused = await cmlock(['release', name, '-n', ns, '--identity', 'bob']);
  // "in 10m" too: the server's time is known from Date headers to the second, so a lease of 10m that began
  // less than a second ago may still show whole.
  assertErrorLine(
    refused,
    4,
    new RegExp(
      `^error: lock "${name}" is held by alice-ops \\(user admin\\) since \\S+, expires \\S+ \\(in (9m\\d+s|10m)\\), not by you \\(bob\\); use --force`,
    ),
  );
  const after = await mustGetConfigMap(ns, name);
  assert.equal(after.metadata.uid, before.metadata.uid, 'the same object');
  assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'not modified');

  const released = await cmlockOk(['release', name, '-n', ns, '--identity', 'alice-ops']);
  assert.equal(released.stdout, `released lock "${name}"\n`);
  assert.equal(released.stderr, '');
  assert.equal(await getConfigMap(ns, name), undefined, 'the ConfigMap is gone');
});

test("release --force breaks someone else's lock: exit 0, a warning naming the holder, a Warning event", async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('force');
  await acquireJson(ns, name, ['--identity', 'alice-ops', '--ttl', '10m', '--reason', 'migrating']);
  const r = await cmlockOk(['release', name, '-n', ns, '--identity', 'bob', '--force']);
  assert.equal(r.stdout, `released lock "${name}"\n`);
  assert.match(
    r.stderr,
    new RegExp(`^warning: broke lock "${name}" held by alice-ops since \\S+ \\(reason: migrating\\)\\n$`),
    show(r),
  );
  assert.equal(await getConfigMap(ns, name), undefined, 'the ConfigMap is gone');

  const events = (await eventsAbout(ns, name)).filter((e) => e.reason === 'ForceReleased');
  assert.equal(events.length, 1, JSON.stringify(events));
  const [event] = events;
  assert.equal(event?.type, 'Warning');
  assert.equal(event?.involvedObject.kind, 'ConfigMap');
  assert.match(event?.message ?? '', /^bob \(user admin\) force-released the lock held by alice-ops/);
});

test('release of a missing lock: exit 5; with --ignore-not-found exit 0 and silent', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('missing');
  const [missing, ignored] = await Promise.all([
    cmlock(['release', name, '-n', ns]),
    cmlock(['release', name, '-n', ns, '--ignore-not-found']),
  ]);
  assertErrorLine(missing, 5, new RegExp(`^error: lock "${name}" not found in namespace "${ns}"$`));
  assert.equal(ignored.code, 0, show(ignored));
  assert.equal(ignored.stdout + ignored.stderr, '');
});

test('renew moves the expiry later and keeps the fence; a non-holder gets exit 4; a missing lock exit 5', async (t) => {
  const ns = await testNamespace(t);
  const name = uniqueName('renew');
  const first = await acquireJson(ns, name, ['--identity', 'alice-ops', '--ttl', '1m']);
  const cm = await mustGetConfigMap(ns, name);

  const renewed = await cmlockOk(['renew', name, '-n', ns, '--identity', 'alice-ops', '--ttl', '20m', '-o', 'json']);
  const view = parseLock(renewed.stdout);
  assert.equal(view.fence, first.fence, 'the same acquisition, the same fence');
  assert.equal(view.acquireTime, first.acquireTime);
  assert.equal(view.leaseDurationSeconds, 1200);
  assert.ok(ms(view.renewTime) >= ms(first.renewTime));
  assert.ok(ms(view.expiresAt) >= ms(first.expiresAt) + 19 * 60_000, `${first.expiresAt} -> ${view.expiresAt}`);
  const data = (await mustGetConfigMap(ns, name)).data ?? {};
  assert.ok(Number(data['expiresAt']) >= Number(cm.data?.['expiresAt']) + 19 * 60, 'the Go library sees it too');

  // Without -o, a line; without --ttl, the same lease again from now.
  const again = await cmlockOk(['renew', name, '-n', ns, '--identity', 'alice-ops']);
  assert.match(again.stdout, new RegExp(`^renewed lock "${name}"; expires \\d\\d:\\d\\d:\\d\\dZ\\n$`));
  const renewedData = (await mustGetConfigMap(ns, name)).data ?? {};
  assert.equal(renewedData['leaseDurationSeconds'], '1200');

  const rv = (await mustGetConfigMap(ns, name)).metadata.resourceVersion;
  const [notHolder, missing] = await Promise.all([
    cmlock(['renew', name, '-n', ns, '--identity', 'bob']),
    cmlock(['renew', `${name}-nope`, '-n', ns, '--identity', 'alice-ops']),
  ]);
  assertErrorLine(notHolder, 4, new RegExp(`^error: lock "${name}" is held by alice-ops .*, not by you \\(bob\\)`));
  assertErrorLine(missing, 5, new RegExp(`^error: lock "${name}-nope" not found in namespace "${ns}"$`));
  assert.equal((await mustGetConfigMap(ns, name)).metadata.resourceVersion, rv, 'untouched by the refused renew');
});
