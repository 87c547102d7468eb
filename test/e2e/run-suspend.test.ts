// A machine suspend, simulated: cmlock's wall clock jumps hours ahead while its monotonic clock does not (what a
// closed laptop lid does to a process: Node's timers run on the monotonic clock, which stops while suspended,
// while the API server's clock and every lease on it go on). libfaketime, preloaded into cmlock with its offset in
// a file that the test rewrites, makes the jump; FAKETIME_DONT_FAKE_MONOTONIC leaves the monotonic clock alone.
// run must treat it as "maybe lost": stop CMD's whole tree, verify the lock on the server, and continue CMD only
// once that succeeded; if the lock is someone else's by then, kill CMD while it is still stopped.
//
// A fault proxy between cmlock and the API server slows (or refuses) the verification, so that "CMD stays
// stopped until the lock is verified" is visible.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cmdTree, groupGone, groupStates, groupStopped, lastWork, readLog } from './cmd-tree.ts';
import { cmlock, eventually, testNamespace, uniqueName } from './harness.ts';
import {
  killGroup,
  proxiedCluster,
  seconds,
  serverLock,
  startCmlock,
  stderrMatches,
  tempDir,
  watchLock,
  type Started,
} from './run-helpers.ts';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/** The environment that makes a process's wall clock follow the offset in `file` ("+0" now, "+3600" later). */
function fakeClock(file: string): Record<string, string> {
  writeFileSync(file, '+0\n');
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/** Polls until the tree is stopped; returns when (wall-clock ms). A failure says what cmlock said meanwhile. */
async function stoppedTime(pgid: number, run: Started): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (!groupStopped(pgid)) {
    if (Date.now() > deadline) {
      throw new Error(`CMD's tree is not stopped: ${JSON.stringify(groupStates(pgid))}; cmlock said: ${run.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now();
}

describe('a suspend, simulated (the wall clock jumps ahead of the monotonic one)', { concurrency: true }, () => {
  test('CMD is stopped at once and continued only after the lock was verified on the server', async (t) => {
    assert.ok(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing: install the Debian package "libfaketime"`);
    const ns = await testNamespace(t, 'susp');
    const name = uniqueName('susp');
    const dir = tempDir(t);
    const cmd = cmdTree(dir);
    const offset = join(dir, 'faketime');
    const { proxy, env } = await proxiedCluster(t);
    const watch = watchLock(ns, name);
    t.after(() => watch.stop());
    const run = startCmlock(['run', name, '-n', ns, '--ttl', '20s', '--kill-after', '2s', '--', ...cmd.argv], {
      env: { ...env, ...fakeClock(offset) },
    });
    const pgid = await cmd.started();
    t.after(() => killGroup(pgid));

    await proxy.setMode({ kind: 'delay', ms: 1500 }); // the verification takes seconds: CMD must wait for it
    const jumpAt = Date.now();
    writeFileSync(offset, '+3600\n');
    const stoppedAt = await stoppedTime(pgid, run);
    await stderrMatches(
      run,
      new RegExp(
        `lock "${name}" verified after the clock jumped 1h ahead \\(a suspend\\?\\): still held, renewed; sh continued`,
      ),
    );
    const verifiedAt = Date.now();
    await proxy.setMode({ kind: 'pass' });
    // The renewal that proved the lock held, as the API server applied it (seen straight from the server).
    const renewal = watch.versions().find((v) => v.seenAt > jumpAt && v.holder !== '');
    assert.ok(renewal, 'a renewal after the jump');
    await eventually(async () => readLog(cmd.log).some((l) => l.at > verifiedAt), 10_000, 'CMD works again');
    const ticks = readLog(cmd.log).map((l) => l.at);
    const resumedAt = Math.min(...ticks.filter((at) => at > stoppedAt));
    const lastBefore = Math.max(...ticks.filter((at) => at <= stoppedAt));
    t.diagnostic(
      `jump at +0s; CMD stopped by ${seconds(stoppedAt - jumpAt)} (last work ${seconds(lastBefore - jumpAt)}); ` +
        `renewal applied by ${seconds(renewal.seenAt - jumpAt)}; CMD worked again at ${seconds(resumedAt - jumpAt)}`,
    );
    assert.ok(stoppedAt - jumpAt < 2000, `CMD stopped ${stoppedAt - jumpAt} ms after the jump`);
    assert.ok(resumedAt > renewal.seenAt, 'CMD did no work between the jump and the renewal that verified the lock');

    process.kill(run.pid, 'SIGTERM');
    const r = await run.result;
    assert.equal(r.code, 143, r.stderr);
    assert.equal(await serverLock(ns, name), undefined, 'released');
  });

  test('the lock was taken while "suspended": CMD stays stopped, then is killed while stopped; exit 6', async (t) => {
    assert.ok(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing: install the Debian package "libfaketime"`);
    const ns = await testNamespace(t, 'susp');
    const name = uniqueName('susp');
    const dir = tempDir(t);
    const cmd = cmdTree(dir);
    const offset = join(dir, 'faketime');
    const { proxy, env } = await proxiedCluster(t);
    const run = startCmlock(['run', name, '-n', ns, '--ttl', '20s', '--kill-after', '2s', '--', ...cmd.argv], {
      env: { ...env, ...fakeClock(offset) },
    });
    const pgid = await cmd.started();
    t.after(() => killGroup(pgid));

    await proxy.setMode({ kind: 'reset' }); // cmlock cannot reach the server after the "resume"
    const jumpAt = Date.now();
    writeFileSync(offset, '+7200\n');
    const stoppedAt = await stoppedTime(pgid, run);
    await stderrMatches(run, new RegExp(`warning: cannot verify lock "${name}" after the clock jumped 2h ahead`));

    // Meanwhile the lock changes hands, as it would have during a long suspend.
    const otherStarted = Date.now();
    const forced = await cmlock(['release', name, '-n', ns, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const other = await cmlock(['acquire', name, '-n', ns, '--identity', 'other@elsewhere', '--timeout', '0']);
    assert.equal(other.code, 0, other.stderr);
    assert.ok(groupStopped(pgid), 'CMD is still stopped');

    await proxy.setMode({ kind: 'pass' });
    const r = await run.result;
    assert.equal(r.code, 6, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `error: lost lock "${name}": lock "${name}" is held by other@elsewhere .*\\(noticed after the clock jumped 2h ahead \\(a suspend\\?\\)\\); ` +
          'killed sh while it was stopped, without a grace period',
      ),
    );
    await eventually(async () => groupGone(pgid), 5_000, "CMD's tree is gone");
    const log = readLog(cmd.log);
    t.diagnostic(
      `jump at +0s; CMD stopped by ${seconds(stoppedAt - jumpAt)}; last work ${seconds(lastWork(cmd.log) - jumpAt)}; ` +
        `the lock changed hands from ${seconds(otherStarted - jumpAt)}`,
    );
    assert.ok(lastWork(cmd.log) <= stoppedAt, 'no work after CMD was stopped');
    assert.deepEqual(
      log.filter((l) => l.kind === 'term'),
      [],
      'no SIGTERM handler ran',
    );
    assert.equal((await serverLock(ns, name))?.data['holderIdentity'], 'other@elsewhere', 'their lock untouched');
  });
});
