// The API server made unreachable during `run` (a fault proxy black-holes every connection: requests get no
// answer at all): renewals fail until the renew deadline, CMD gets SIGTERM, then SIGKILL after --kill-after if it
// is still there, all before the lease can run out on the server; cmlock exits 6. A competing `run` that talks to
// the server directly proves the other side: it only gets the lock after the lease, after CMD was stopped.
//
// --ttl 15s --kill-after 3s: renew every 4.75s, renew deadline 9.5s after the last successful renewal was sent,
// SIGKILL by 12.5s, lease end 15s after the server stamped that renewal.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { eventually, testNamespace, uniqueName } from './harness.ts';
import {
  alive,
  fileAppears,
  proxiedCluster,
  seconds,
  stampTo,
  stamps,
  startCmlock,
  stderrMatches,
  tempDir,
  versionLeaseEnd,
  watchLock,
} from './run-helpers.ts';

const TIMINGS = ['--ttl', '15s', '--kill-after', '3s'];
const KILL_AFTER_MS = 3000;

describe('API server black-holed during run', { concurrency: true }, () => {
  for (const onTerm of ['exits', 'ignores'] as const) {
    test(`CMD that ${onTerm} SIGTERM is stopped before the lease runs out; exit 6`, async (t) => {
      const ns = await testNamespace(t, 'lost');
      const name = uniqueName('lost');
      const dir = tempDir(t);
      const { proxy, env } = await proxiedCluster(t);
      const watch = watchLock(ns, name);
      t.after(() => watch.stop());

      const ready = join(dir, 'ready');
      const term = join(dir, 'term');
      const trap = onTerm === 'exits' ? `${stampTo(term)}; exit 0` : stampTo(term);
      const holder = startCmlock(
        [
          'run',
          name,
          '-n',
          ns,
          ...TIMINGS,
          '--',
          'sh',
          '-c',
          `trap '${trap.replaceAll("'", `'"'"'`)}' TERM; echo $$ > '${ready}'; while :; do sleep 0.1; done`,
        ],
        { env },
      );
      const cmdPid = Number((await fileAppears(ready)).trim());

      // A competitor straight to the server, waiting for the same lock.
      const competitorStarted = join(dir, 'competitor');
      const competitor = startCmlock(['run', name, '-n', ns, ...TIMINGS, '--', 'sh', '-c', stampTo(competitorStarted)]);
      await stderrMatches(competitor, new RegExp(`waiting for lock "${name}"`));

      await proxy.setMode({ kind: 'blackhole' });
      const cutAt = Date.now();
      let cmdGoneAt = NaN;
      await eventually(
        async () => {
          if (alive(cmdPid)) return false;
          cmdGoneAt = Date.now();
          return true;
        },
        30_000,
        'CMD is gone',
      );

      const r = await holder.result;
      assert.equal(r.code, 6, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^error: lost lock "${name}": could not renew it for \\d+s .*; stopped sh$`, 'm'),
      );
      const [termAt = NaN] = stamps(await fileAppears(term));

      const c = await competitor.result;
      assert.equal(c.code, 0, c.stderr);
      const [competitorAt = NaN] = stamps(await fileAppears(competitorStarted));

      const versions = watch.versions().filter((v) => v.holder !== '');
      const first = versions[0]?.holder;
      const last = versions.filter((v) => v.holder === first).at(-1);
      assert.ok(last, 'the holder was seen on the server');
      const leaseEnd = versionLeaseEnd(last);
      const at = (ms: number) => seconds(ms - cutAt);
      t.diagnostic(
        `black-holed at +0s; SIGTERM to CMD at ${at(termAt)}; CMD gone at ${at(cmdGoneAt)}; ` +
          `lease end on the server ${at(leaseEnd)}; competitor's CMD started at ${at(competitorAt)}; ` +
          `holder exited 6 at ${at(holder.exitedAt() ?? NaN)}`,
      );

      assert.ok(termAt < leaseEnd, 'SIGTERM came before the lease ran out');
      assert.ok(cmdGoneAt < leaseEnd, 'CMD was gone before the lease ran out');
      if (onTerm === 'ignores') {
        // SIGKILL came --kill-after after SIGTERM (the test polls every 100 ms: allow for that).
        assert.ok(cmdGoneAt - termAt >= KILL_AFTER_MS - 200, `SIGKILL ${cmdGoneAt - termAt} ms after SIGTERM`);
        assert.ok(cmdGoneAt - termAt < KILL_AFTER_MS + 2000, `SIGKILL ${cmdGoneAt - termAt} ms after SIGTERM`);
      }
      assert.ok(competitorAt > leaseEnd, 'no one else got the lock before the lease ran out');
      assert.ok(competitorAt > cmdGoneAt, 'no one else got the lock before CMD was stopped');
    });
  }
});
