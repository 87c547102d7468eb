// A `run` holder killed with SIGKILL (cmlock and CMD's whole group: nothing renews, nothing releases) is taken over
// by a `run` that was waiting for it: after the lease has run out, and not before. The dead holder sends no event:
// the waiter's own expiry timer gets the lock.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXPIRY_ALLOWANCE_MS } from '../../src/lock/record.ts';
import { DATE_RESOLUTION_MS } from '../../src/lock/server-clock.ts';
import { testNamespace, uniqueName } from './harness.ts';
import {
  fileAppears,
  killGroup,
  type LockVersion,
  seconds,
  stampTo,
  stamps,
  startCmlock,
  stderrMatches,
  tempDir,
  versionLeaseEnd,
  watchLock,
} from './run-helpers.ts';

test('a SIGKILLed holder is taken over by a waiting run after its lease, not before', async (t) => {
  const ns = await testNamespace(t, 'kill');
  const name = uniqueName('kill');
  const dir = tempDir(t);
  const watch = watchLock(ns, name);
  t.after(() => watch.stop());

  const holderReady = join(dir, 'holder-pgid');
  const holder = startCmlock([
    'run',
    name,
    '-n',
    ns,
    '--ttl',
    '6s',
    '--kill-after',
    '1s',
    '--',
    'sh',
    '-c',
    `echo $$ > '${holderReady}'; while :; do sleep 0.1; done`,
  ]);
  const pgid = Number((await fileAppears(holderReady)).trim());
  t.after(() => killGroup(pgid));

  const started = join(dir, 'waiter-started');
  const waiter = startCmlock([
    'run',
    name,
    '-n',
    ns,
    '--ttl',
    '6s',
    '--kill-after',
    '1s',
    '--',
    'sh',
    '-c',
    stampTo(started),
  ]);
  await stderrMatches(waiter, new RegExp(`waiting for lock "${name}"`));

  const killedAt = Date.now();
  process.kill(holder.pid, 'SIGKILL');
  killGroup(pgid);
  assert.equal((await holder.result).signal, 'SIGKILL');

  const r = await waiter.result;
  assert.equal(r.code, 0, r.stderr);
  const [startedAt = NaN] = stamps(await fileAppears(started));

  // The holder's last version on the server (a renewal in flight at the kill may have landed after it).
  const versions = watch.versions().filter((v) => v.holder !== '');
  const first = versions[0]?.holder;
  const last = versions.filter((v) => v.holder === first).at(-1);
  assert.ok(last, 'the holder was seen on the server');
  const leaseEnd = versionLeaseEnd(last);
  t.diagnostic(
    `killed at +0s; holder's lease ended at ${seconds(leaseEnd - killedAt)}; ` +
      `the waiter's CMD started at ${seconds(startedAt - killedAt)} (${seconds(startedAt - leaseEnd)} after the lease)`,
  );
  assert.ok(startedAt > leaseEnd, `the waiter started ${leaseEnd - startedAt} ms before the lease ended`);
  // The waiter takes a lock over 1 s past its expiry (EXPIRY_ALLOWANCE_MS) on its view of the server's clock, which
  // may lag by up to the Date header's resolution; then a takeover write and CMD's start.
  const bound = EXPIRY_ALLOWANCE_MS + DATE_RESOLUTION_MS + 3000;
  assert.ok(startedAt - leaseEnd < bound, `the waiter started ${startedAt - leaseEnd} ms after the lease ended`);
  // Exactly two holders were ever seen: the killed one, then the waiter, with a greater fence.
  const holders = [...new Set(versions.map((v) => v.holder))];
  assert.equal(holders.length, 2, holders.join(', '));
  const taken = versions.find((v) => v.holder === holders[1]);
  assert.ok(taken, 'the waiter was seen on the server');
  // The acquiring write carries no fence: its resourceVersion is the token.
  const fence = (v: LockVersion) => BigInt(v.fence === '' ? v.resourceVersion : v.fence);
  assert.ok(fence(taken) > fence(last), `fences ${fence(last)} then ${fence(taken)}`);
});
