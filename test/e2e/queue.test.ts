// Waiting in line (issue 13), through kubectl against the real API server: waiters are served in the order they
// joined the queue; a waiter SIGKILLed in line is skipped and the line moves on; Ctrl-C leaves the queue at once;
// a dead holder is taken over by the first in line only, after its lease; --timeout 0 and wait never queue; a Go
// library lock's release (a plain delete) hands on to the queue in order; ls, describe, -o json, ls -w and the
// status line show the queue; the Go library sees a queued lock and a semaphore as held. Each waiter is started
// once the one before it is in the queue (arrival order is the order of the joining writes).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cmlock, eventually, kubectlOk, testNamespace, uniqueName } from './harness.ts';
import {
  applyConfigMap,
  assertErrorLine,
  cmlockOk,
  createPod,
  getConfigMap,
  ms,
  parseLock,
  show,
  startCmlock,
  type Started,
} from './lock-helpers.ts';
import { assertNoPanic, goPeer, peerPod } from './go-peer.ts';
import { inQueue, outOfOrder, queueOf, watchLock } from './queue-helpers.ts';
import { readIfExists, tempDir } from './run-helpers.ts';

const identities = (queue: { identity: string }[]) => queue.map((w) => w.identity.replace(/\/run-.*$/, ''));

test('10 waiters are served in arrival order; the 3rd, SIGKILLed in line, is skipped and the line moves on', async (t) => {
  const ns = await testNamespace(t, 'queue');
  const name = uniqueName('line');
  const log = join(tempDir(t), 'holds');
  await cmlockOk(['acquire', name, '-n', ns, '--identity', 'holder', '--ttl', '10m']);
  const watch = watchLock(t, ns, name);
  const waiters: Started[] = [];
  for (let i = 0; i < 10; i++) {
    const cmd = `echo "$CMLOCK_HOLDER $CMLOCK_FENCE" >> '${log}'; sleep 0.1`;
    waiters.push(startCmlock(['run', name, '-n', ns, '--identity', `w${i}`, '--timeout', '3m', '--', 'sh', '-c', cmd]));
    await inQueue(ns, name, `w${i}/`);
  }
  assert.deepEqual(identities(await queueOf(ns, name)), ['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9']);
  await waiters[9]?.waitForStderr(/; 10th in line of 10; waited /);

  const dead = waiters[2];
  assert.ok(dead);
  dead.child.kill('SIGKILL');
  assert.equal((await dead.done).signal, 'SIGKILL');
  const released = Date.now();
  await cmlockOk(['release', name, '-n', ns, '--identity', 'holder']);
  const results = await Promise.all(waiters.filter((w) => w !== dead).map((w) => w.done));
  for (const r of results) assert.equal(r.code, 0, show(r));
  t.diagnostic(`the line of 9 (and one dead entry, skipped) drained ${Date.now() - released} ms after the release`);

  const holds = (readIfExists(log) ?? '')
    .trim()
    .split('\n')
    .map((line) => {
      const [holder = '', fence = ''] = line.split(' ');
      return { holder: holder.replace(/\/run-.*$/, ''), fence: BigInt(fence) };
    });
  assert.deepEqual(
    holds.map((h) => h.holder),
    ['w0', 'w1', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9'],
    'arrival order; the dead one never held it',
  );
  holds.forEach((h, i) => assert.ok(i === 0 || h.fence > (holds[i - 1]?.fence ?? 0n), 'fences increase'));
  assert.deepEqual(outOfOrder(watch.versions()), [], 'every admission went to the first in line');
  assert.equal(await getConfigMap(ns, name), undefined, 'the last one out deleted it');
});

test('Ctrl-C in line leaves the queue at once; ls, describe and -o json show the queue in order', async (t) => {
  const ns = await testNamespace(t, 'queue');
  const name = uniqueName('ctrlc');
  await cmlockOk(['acquire', name, '-n', ns, '--identity', 'holder', '--ttl', '10m', '--reason', 'busy']);
  const alice = startCmlock(['acquire', name, '-n', ns, '--identity', 'alice', '--reason', 'first']);
  await inQueue(ns, name, 'alice');
  const bob = startCmlock(['acquire', name, '-n', ns, '--identity', 'bob', '--timeout', '2m']);
  await inQueue(ns, name, 'bob');
  await bob.waitForStderr(/^waiting for lock ".*": held by holder since .*; 2nd in line of 2; waited \d+s$/m);

  const [table, wide, json, described] = await Promise.all([
    cmlockOk(['ls', '-n', ns, '--no-headers']),
    cmlockOk(['ls', '-n', ns, '-o', 'wide', '--no-headers']),
    cmlockOk(['ls', '-n', ns, '-o', 'json']),
    cmlockOk(['describe', name, '-n', ns]),
  ]);
  assert.deepEqual(
    table.stdout
      .trim()
      .split(/\s{3,}/)
      .slice(5),
    ['2', 'busy'],
    'WAITING 2',
  );
  assert.equal(
    wide.stdout
      .trim()
      .split(/\s{3,}/)
      .at(-1),
    'alice',
    'NEXT: the first in line',
  );
  const [item] = (JSON.parse(json.stdout) as { items: { waiters?: { identity: string; since: string }[] }[] }).items;
  assert.deepEqual(
    item?.waiters?.map((w) => w.identity),
    ['alice', 'bob'],
  );
  // `since` is each waiter's own reading of the server's clock (learned from Date headers, whole seconds): the
  // order is the queue's, the times agree to within that second.
  const [first, second] = (item?.waiters ?? []).map((w) => ms(w.since));
  assert.ok(first !== undefined && second !== undefined && first <= second + 1000, JSON.stringify(item?.waiters));
  const queue = described.stdout.split('\nWaiting:\n')[1]?.split('\nEvents:')[0]?.split('\n') ?? [];
  assert.match(queue[0] ?? '', /^ {2}#\s+Identity\s+User\s+Host\s+Kind\s+Since\s+Reason$/, described.stdout);
  assert.match(queue[2] ?? '', /^ {2}1\s+alice\s+admin\s+\S+\s+exclusive\s+\S+Z \(\d+s ago\)\s+first$/);
  assert.match(queue[3] ?? '', /^ {2}2\s+bob\s+admin\s/);

  alice.child.kill('SIGINT');
  assert.equal((await alice.done).code, 130);
  assert.deepEqual(identities(await queueOf(ns, name)), ['bob'], 'gone from the queue as it exited');
  const after = await cmlockOk(['describe', name, '-n', ns]);
  assert.doesNotMatch(after.stdout, /alice/);
  assert.match(after.stdout, /^ {2}1\s+bob\s/m);

  await cmlockOk(['release', name, '-n', ns, '--identity', 'holder']);
  const got = await bob.done;
  assert.equal(got.code, 0, show(got));
  assert.match(got.stdout, /^acquired lock/);
});

test('a holder SIGKILLed with a queue behind it is taken over by the first in line only, after its lease', async (t) => {
  const ns = await testNamespace(t, 'queue');
  const name = uniqueName('dead');
  const holder = startCmlock([
    'run',
    name,
    '-n',
    ns,
    '--identity',
    'doomed',
    '--ttl',
    '4s',
    '--kill-after',
    '1s',
    '--',
    'sleep',
    '300',
  ]);
  await eventually(
    async () => (await getConfigMap(ns, name))?.data?.['holderIdentity']?.startsWith('doomed/') === true,
    30_000,
    'the run holds the lock',
  );
  const first = startCmlock(['acquire', name, '-n', ns, '--identity', 'first', '--timeout', '60s']);
  await inQueue(ns, name, 'first');
  const second = startCmlock(['acquire', name, '-n', ns, '--identity', 'second', '--timeout', '60s']);
  await inQueue(ns, name, 'second');
  const watch = watchLock(t, ns, name);
  holder.child.kill('SIGKILL');
  await holder.done;
  const last = await getConfigMap(ns, name); // the holder's last renewal: its lease ends 4 s after it
  const leaseEnd = ms(last?.data?.['renewTime'] ?? '') + 4000;

  const got = await first.done;
  assert.equal(got.code, 0, show(got));
  assert.match(got.stdout, new RegExp(`^took over expired lock "${name}" from doomed/run-`));
  const taken = await getConfigMap(ns, name);
  assert.equal(taken?.data?.['holderIdentity'], 'first');
  assert.ok(ms(taken?.data?.['acquireTime'] ?? '') > leaseEnd, 'not before the lease ended');
  assert.equal(second.exited(), false, 'the second in line stayed quiet');
  assert.deepEqual(identities(await queueOf(ns, name)), ['second']);
  assert.deepEqual(outOfOrder(watch.versions()), []);
  const versions = watch.versions();
  const admissions = versions.filter((v, i) => i > 0 && v.acquisitionId !== versions[i - 1]?.acquisitionId);
  assert.deepEqual(
    admissions.map((v) => v.holder),
    ['first'],
    'one write took it over, by the first in line',
  );

  second.child.kill('SIGINT');
  assert.equal((await second.done).code, 130);
});

test('--timeout 0 and wait never queue; a Go library lock released by a plain delete goes to the queue in order', async (t) => {
  const ns = await testNamespace(t, 'queue');
  const name = uniqueName('go');
  // A Go library lock: only expiresAt (an hour ahead) and its Pod as owner.
  const uid = await createPod(ns, 'go-worker');
  await applyConfigMap(ns, {
    metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'go-worker', uid }] },
    data: { expiresAt: String(Math.floor(Date.now() / 1000) + 3600) },
  });
  const a = startCmlock(['acquire', name, '-n', ns, '--identity', 'a', '--timeout', '2m', '-o', 'json']);
  await inQueue(ns, name, 'a');
  const b = startCmlock(['acquire', name, '-n', ns, '--identity', 'b', '--timeout', '2m', '-o', 'json']);
  await inQueue(ns, name, 'b');
  const queued = await getConfigMap(ns, name);
  assert.equal(queued?.data?.['holderIdentity'], undefined, "the Go library's record is as it wrote it");
  assert.ok(queued?.data?.['expiresAt'], 'and it still reads its expiresAt');

  const [once, waitOnce] = await Promise.all([
    cmlock(['acquire', name, '-n', ns, '--identity', 'c', '--timeout', '0']),
    cmlock(['wait', name, '-n', ns, '--timeout', '0']),
  ]);
  assertErrorLine(once, 3, new RegExp(`^error: lock "${name}" is held by pod/go-worker .*; 2 waiting; use --timeout`));
  assertErrorLine(waitOnce, 3, new RegExp(`^error: lock "${name}" is held by pod/go-worker`));
  const after = await getConfigMap(ns, name);
  assert.equal(after?.metadata.resourceVersion, queued?.metadata.resourceVersion, 'neither wrote anything');

  // The Go program releases: it deletes the ConfigMap by name. The first in line creates it again, with the rest of
  // the queue in it; the second gets it from the first.
  await kubectlOk(['delete', 'configmap', name, '-n', ns]);
  const first = await a.done;
  assert.equal(first.code, 0, show(first));
  assert.deepEqual(
    parseLock(first.stdout, ['waiters']).waiters?.map((w) => w.identity),
    ['b'],
  );
  assert.equal(b.exited(), false);
  await cmlockOk(['release', name, '-n', ns, '--identity', 'a']);
  const second = await b.done;
  assert.equal(second.code, 0, show(second));
  assert.equal(parseLock(second.stdout).holder, 'b');
  await cmlockOk(['release', name, '-n', ns, '--identity', 'b']);
});

test('ls -w shows waiters joining and leaving (WAITING, and NEXT with -o wide)', async (t) => {
  const ns = await testNamespace(t, 'queue');
  const name = uniqueName('watch');
  await cmlockOk(['acquire', name, '-n', ns, '--identity', 'holder', '--ttl', '10m']);
  const ls = startCmlock(['ls', '-w', '-n', ns, '-o', 'wide', '--no-headers']);
  const rows = () =>
    ls
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith(name))
      .map((l) => {
        const cells = l.split(/\s{3,}/);
        return `${cells[5]} ${cells.at(-1)}`;
      });
  const seen = (want: string[]) =>
    eventually(async () => rows().join('|') === want.join('|'), 30_000, `ls -w rows ${want.join(', ')}`);
  await seen(['0 <none>']);
  const a = startCmlock(['acquire', name, '-n', ns, '--identity', 'alice']);
  await seen(['0 <none>', '1 alice']);
  const b = startCmlock(['acquire', name, '-n', ns, '--identity', 'bob']);
  await seen(['0 <none>', '1 alice', '2 alice']);
  a.child.kill('SIGINT');
  await seen(['0 <none>', '1 alice', '2 alice', '1 bob']);
  b.child.kill('SIGINT');
  await seen(['0 <none>', '1 alice', '2 alice', '1 bob', '0 <none>']);
  ls.child.kill('SIGINT');
  assert.equal((await ls.done).code, 130);
});

test('the Go library sees a queued lock, and a semaphore whose first holder’s lease ran out, as held', async (t) => {
  const ns = await testNamespace(t, 'queue');
  const peer = await peerPod(ns, uniqueName('go-app'));
  const queued = uniqueName('queued');
  await cmlockOk(['acquire', queued, '-n', ns, '--identity', 'holder', '--ttl', '10m']);
  const waiter = startCmlock(['acquire', queued, '-n', ns, '--identity', 'waiter', '--timeout', '2m']);
  await inQueue(ns, queued, 'waiter');
  const sem = uniqueName('sem');
  await cmlockOk(['acquire', sem, '-n', ns, '--limit', '2', '--identity', 'short', '--ttl', '2s']);
  await cmlockOk(['acquire', sem, '-n', ns, '--limit', '2', '--identity', 'long', '--ttl', '10m']);

  // The library tries at once, then after 1 s and 3 s: by then the short lease has run out.
  const started = Date.now();
  const [onQueued, onSem] = await Promise.all([
    goPeer(peer, ['acquire', queued, '--timeout', '4s']),
    goPeer(peer, ['acquire', sem, '--timeout', '4s']),
  ]);
  for (const r of [onQueued, onSem]) {
    assertNoPanic(r, 'go-peer acquire of a lock cmlock holds');
    assert.equal(r.code, 3, `timed out: held all along. ${show(r)}`);
  }
  const [q, s] = await Promise.all([getConfigMap(ns, queued), getConfigMap(ns, sem)]);
  assert.equal(q?.data?.['holderIdentity'], 'holder');
  assert.deepEqual(identities(await queueOf(ns, queued)), ['waiter'], 'the queue as it was');
  const holders = JSON.parse(s?.data?.['holders'] ?? '[]') as { identity: string }[];
  assert.deepEqual(
    holders.map((h) => h.identity),
    ['short', 'long'],
    'nothing broken',
  );
  assert.ok(Number(s?.data?.['expiresAt']) * 1000 > started + 5 * 60_000, "expiresAt is the long holder's");

  waiter.child.kill('SIGINT');
  assert.equal((await waiter.done).code, 130);
});
