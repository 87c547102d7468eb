// RBAC: a user bound only to deploy/rbac.yaml's Role (`locker`) can do every lock operation; a user without it
// (`alice`) gets one clear line naming the verb, resource and namespace refused and the `kubectl auth can-i`
// check, exit 1, no stack trace; and a user lacking just one verb is told which.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmlock, kubectl, kubectlOk, testNamespace, uniqueName } from './harness.ts';
import {
  acquireJson,
  assertErrorLine,
  cmlockOk,
  createPod,
  eventsAbout,
  getConfigMap,
  mustGetConfigMap,
  parseLock,
  show,
} from './lock-helpers.ts';

const LOCKER = ['--context', 'locker'];
const ALICE = ['--context', 'alice'];

test('the locker Role is enough for every lock operation', async (t) => {
  const ns = await testNamespace(t, 'rbac');
  const pod = uniqueName('job');
  await createPod(ns, pod);
  const name = uniqueName('lock');

  const lock = await acquireJson(ns, name, [...LOCKER, '--identity', 'l1', '--owner', `pod/${pod}`, '--ttl', '10m']);
  assert.equal(lock.user, 'locker', 'the authenticated user (SelfSubjectReview)');
  assert.equal(lock.owner, `pod/${pod}`, 'pods get, for the owner reference');

  const [ls, describe, renew, held] = await Promise.all([
    cmlockOk(['ls', '-n', ns, ...LOCKER, '-o', 'name']),
    cmlockOk(['describe', name, '-n', ns, ...LOCKER]),
    cmlockOk(['renew', name, '-n', ns, ...LOCKER, '--identity', 'l1', '--ttl', '20m', '-o', 'json']),
    // Waiting needs watch: a 1s wait that times out, not a 403.
    cmlock(['acquire', name, '-n', ns, ...LOCKER, '--identity', 'l2', '--timeout', '1s']),
  ]);
  assert.equal(ls.stdout, `cmlock/${name}\n`);
  assert.match(
    describe.stdout,
    /^Events:\n.*\n.*\n\s+Normal\s+Acquired\s.*l1 \(user locker\) acquired the lock/m,
    show(describe),
  );
  assert.equal(parseLock(renew.stdout).leaseDurationSeconds, 1200);
  assertErrorLine(
    held,
    3,
    new RegExp(`^error: timed out after 1s waiting for lock "${name}" \\(held by l1 \\(user locker\\)`),
    {
      waited: true,
    },
  );

  const forced = await cmlockOk(['release', name, '-n', ns, ...LOCKER, '--identity', 'l2', '--force']);
  assert.match(forced.stderr, new RegExp(`^warning: broke lock "${name}" held by l1`));
  assert.equal(await getConfigMap(ns, name), undefined);

  // Take it again, let it expire, take it over (update), and release it (delete).
  await acquireJson(ns, name, [...LOCKER, '--identity', 'l3', '--ttl', '1s']);
  const over = await cmlockOk(['acquire', name, '-n', ns, ...LOCKER, '--identity', 'l4', '--timeout', '30s']);
  assert.match(over.stdout, new RegExp(`^took over expired lock "${name}" from l3`));
  const released = await cmlockOk(['release', name, '-n', ns, ...LOCKER, '--identity', 'l4']);
  assert.equal(released.stderr, '');
  assert.equal(await getConfigMap(ns, name), undefined);

  // The events were recorded with locker's rights (events create).
  const reasons = (await eventsAbout(ns, name)).map((e) => e.reason).sort();
  for (const reason of ['Acquired', 'ForceReleased', 'TookOver'])
    assert.ok(reasons.includes(reason), reasons.join(','));
});

test('alice (no rights) gets one clear 403 line for every command, with the can-i check to run', async (t) => {
  const ns = await testNamespace(t, 'rbac');
  const name = uniqueName('lock');
  await acquireJson(ns, name, ['--identity', 'someone', '--ttl', '10m']);
  const commands: [string[], string][] = [
    [['acquire', name], 'create'], // acquire creates first: the server's answer tells whether it is held
    [['ls'], 'list'],
    [['describe', name], 'get'],
    [['renew', name], 'get'],
    [['release', name, '--force'], 'get'],
  ];
  const results = await Promise.all(commands.map(([args]) => cmlock([...args, '-n', ns, ...ALICE])));
  const checks: string[] = [];
  for (const [i, r] of results.entries()) {
    const [args, verb] = commands[i] ?? [[], ''];
    const line = assertErrorLine(
      r,
      1,
      new RegExp(
        `^error: forbidden: user "alice" cannot ${verb} configmaps in namespace "${ns}" \\(context "alice"\\); ` +
          `check with: kubectl auth can-i ${verb} configmaps -n ${ns} --context alice$`,
      ),
    );
    assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace for ${args.join(' ')}`);
    checks.push(line.slice(line.indexOf('kubectl auth can-i')));
  }
  // locker's rights are per namespace: -A is refused just as clearly.
  assertErrorLine(
    await cmlock(['ls', '-A', ...LOCKER]),
    1,
    /^error: forbidden: user "locker" cannot list configmaps in any namespace \(context "locker"\); check with: kubectl auth can-i list configmaps --all-namespaces --context locker$/,
  );
  // The suggested check is a real command that says why.
  const canI = (checks[0] ?? '').split(' ').slice(1);
  const no = await kubectl(canI);
  assert.equal(no.stdout.trim(), 'no', show(no));
  const yes = await kubectl([...canI.slice(0, -2), '--context', 'locker']);
  assert.equal(yes.stdout.trim(), 'yes', show(yes));
  assert.equal((await mustGetConfigMap(ns, name)).data?.['holderIdentity'], 'someone', 'nothing changed');
});

test('a user lacking only create, update, delete or watch is told exactly which', async (t) => {
  const cases = [
    { missing: 'create', args: (name: string) => ['acquire', name, '--identity', 'alice'], seed: false },
    { missing: 'update', args: (name: string) => ['renew', name, '--identity', 'alice'], seed: true },
    { missing: 'delete', args: (name: string) => ['release', name, '--identity', 'alice'], seed: true },
    // Someone else holds it: waiting for it needs watch.
    {
      missing: 'watch',
      args: (name: string) => ['acquire', name, '--identity', 'bob', '--timeout', '30s'],
      seed: true,
    },
  ];
  await Promise.all(
    cases.map(async ({ missing, args, seed }) => {
      const ns = await testNamespace(t, `no-${missing}`);
      const verbs = ['get', 'list', 'watch', 'create', 'update', 'delete'].filter((v) => v !== missing);
      await kubectlOk(['create', 'role', 'partial', `--verb=${verbs.join(',')}`, '--resource=configmaps', '-n', ns]);
      await kubectlOk(['create', 'rolebinding', 'partial', '--role=partial', '--user=alice', '-n', ns]);
      const name = uniqueName('lock');
      if (seed) await acquireJson(ns, name, ['--identity', 'alice', '--ttl', '10m']);
      const before = await getConfigMap(ns, name);
      const r = await cmlock([...args(name), '-n', ns, ...ALICE]);
      assertErrorLine(
        r,
        1,
        new RegExp(
          `^error: forbidden: user "alice" cannot ${missing} configmaps in namespace "${ns}" \\(context "alice"\\); ` +
            `check with: kubectl auth can-i ${missing} configmaps -n ${ns} --context alice$`,
        ),
        { waited: missing === 'watch' },
      );
      const after = await getConfigMap(ns, name);
      if (missing === 'watch') {
        // It joined the queue (an update, which it may do), found it cannot wait, and left: the record is as it
        // was, the holder's fence written down, and nobody waits.
        assert.deepEqual({ ...after?.data, fence: undefined }, { ...before?.data, fence: undefined });
        assert.equal(after?.data?.['waiters'], undefined, 'out of the queue again');
      } else {
        assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion, `${missing}: lock unchanged`);
      }
    }),
  );
});
