// cmlock stalled while CMD is not (SIGSTOP to cmlock alone: what a debugger, a frozen cgroup or heavy swapping
// does): nobody renews, and cmlock cannot act. Its watchdog, which it told the renew deadline after the last
// renewal, must stop CMD's whole tree (SIGTERM, then SIGKILL after --kill-after) before the lease can end for
// anyone else; another client gets the lock only after that. When cmlock is continued, it reports the loss: 6.
//
// --ttl 6s --kill-after 1s: renew every 2s, renew deadline 4s (the watchdog acts 0.5s after it), SIGKILL by
// 5.5s, lease end 6s after the server stamped the last renewal (+1s allowance before anyone may take it over).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processGroupExists } from '../../src/run/child.ts';
import { cmdTree, groupGone, lastWork, readLog } from './cmd-tree.ts';
import { eventually, testNamespace, uniqueName } from './harness.ts';
import { killGroup, seconds, startCmlock, tempDir, versionLeaseEnd, watchLock } from './run-helpers.ts';

test('cmlock SIGSTOPped past its lease: the watchdog stops CMD’s tree before the lease ends; the next holder only after', async (t) => {
  const ns = await testNamespace(t, 'stall');
  const name = uniqueName('stall');
  const dir = tempDir(t);
  const cmd = cmdTree(dir);
  const watch = watchLock(ns, name);
  t.after(() => watch.stop());
  const run = startCmlock(['run', name, '-n', ns, '--ttl', '6s', '--kill-after', '1s', '--', ...cmd.argv]);
  const pgid = await cmd.started();
  t.after(() => killGroup(pgid));
  t.after(() => {
    try {
      process.kill(run.pid, 'SIGKILL');
    } catch {
      // exited
    }
  });
  // Stop it right after a renewal, so that the whole renew deadline lies ahead.
  const renewals = () => watch.versions().filter((v) => v.holder !== '').length;
  const seen = renewals();
  await eventually(async () => renewals() > seen, 10_000, 'a renewal');
  process.kill(run.pid, 'SIGSTOP');
  const stoppedAt = Date.now();

  const other = startCmlock(['acquire', name, '-n', ns, '--identity', 'other@elsewhere', '--timeout', '30s']);
  await eventually(async () => groupGone(pgid), 15_000, "CMD's tree is gone (zombies at most)");
  const goneAt = Date.now();
  const otherResult = await other.result;
  assert.equal(otherResult.code, 0, otherResult.stderr);
  const otherHeldAt = watch.versions().find((v) => v.holder === 'other@elsewhere')?.seenAt ?? NaN;

  const ours = watch.versions().filter((v) => v.holder !== '' && v.holder !== 'other@elsewhere');
  const last = ours.at(-1);
  assert.ok(last);
  const leaseEnd = versionLeaseEnd(last);
  const terms = readLog(cmd.log).filter((l) => l.kind === 'term');
  const firstTerm = Math.min(...terms.map((l) => l.at));
  t.diagnostic(
    `SIGSTOP at +0s; SIGTERM reached CMD at ${seconds(firstTerm - stoppedAt)}; tree gone by ${seconds(goneAt - stoppedAt)}; ` +
      `lease end ${seconds(leaseEnd - stoppedAt)}; the other client held it by ${seconds(otherHeldAt - stoppedAt)}`,
  );
  assert.ok(terms.length >= 1, 'CMD got SIGTERM (its handler ran)');
  assert.ok(goneAt < leaseEnd, `CMD's tree was gone ${goneAt - leaseEnd} ms after the lease ended`);
  assert.ok(lastWork(cmd.log) < otherHeldAt, 'no work once the other client held the lock');
  assert.ok(otherHeldAt > goneAt, 'the other client got the lock only after CMD was gone');

  process.kill(run.pid, 'SIGCONT');
  const r = await run.result;
  assert.equal(processGroupExists(pgid), false, 'cmlock reaped CMD');
  assert.equal(r.code, 6, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `kubectl-cmlock: run went silent \\(stopped or stalled\\) past its renew deadline; sent SIGTERM to its process group ${pgid}, SIGKILL follows in 1s\n`,
    ),
  );
  assert.match(r.stderr, new RegExp(`error: lost lock "${name}": `));
  assert.doesNotMatch(r.stderr, /-\d+(\.\d+)?m?s\b/, 'no negative durations');
});
