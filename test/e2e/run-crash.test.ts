// `run` itself killed with SIGKILL while CMD runs (what an OOM kill, `kill -9`, or a CI runner killing the job's
// process group does). CMD lives in a process group of its own, so nothing would stop it: it would go on past
// the lease that nobody renews any more, beside the next holder. run's watchdog must stop it instead: SIGTERM
// at once, SIGKILL after --kill-after for a CMD that ignores SIGTERM, both before the lease can end.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { processGroupExists } from '../../src/run/child.ts';
import { eventually, testNamespace, uniqueName } from './harness.ts';
import {
  fileAppears,
  killGroup,
  readIfExists,
  seconds,
  stampTo,
  stamps,
  startCmlock,
  tempDir,
  versionLeaseEnd,
  watchLock,
} from './run-helpers.ts';

async function killRunWhileCmdRuns(t: TestContext, onTerm: string) {
  const ns = await testNamespace(t, 'crash');
  const name = uniqueName('crash');
  const dir = tempDir(t);
  const watch = watchLock(ns, name);
  t.after(() => watch.stop());
  const ready = join(dir, 'pgid');
  const termed = join(dir, 'termed');
  const holder = startCmlock([
    'run',
    name,
    '-n',
    ns,
    '--ttl',
    '9s',
    '--kill-after',
    '2s',
    '--',
    'sh',
    '-c',
    // A child in the group too, to show the whole group is stopped, not just CMD.
    `stamp() { ${stampTo(termed)}; }; trap 'stamp; ${onTerm}' TERM; sleep 300 & echo $$ > '${ready}'; while :; do sleep 0.1; done`,
  ]);
  const pgid = Number((await fileAppears(ready)).trim());
  t.after(() => killGroup(pgid));

  const killedAt = Date.now();
  process.kill(holder.pid, 'SIGKILL');
  await eventually(async () => !processGroupExists(pgid), 20_000, "CMD's whole process group is gone");
  const goneAt = Date.now();
  const r = await holder.result;
  assert.equal(r.signal, 'SIGKILL');

  const held = watch.versions().filter((v) => v.holder !== '');
  const last = held.at(-1);
  assert.ok(last, 'the holder was seen on the server');
  const leaseEnd = versionLeaseEnd(last);
  const [termAt = NaN] = stamps(readIfExists(termed));
  t.diagnostic(
    `killed at +0s; SIGTERM reached CMD at ${seconds(termAt - killedAt)}; group gone by ${seconds(goneAt - killedAt)}; ` +
      `lease end ${seconds(leaseEnd - killedAt)}`,
  );
  assert.ok(termAt - killedAt < 2000, 'SIGTERM promptly');
  assert.ok(goneAt < leaseEnd, `CMD's group was gone ${goneAt - leaseEnd} ms after the lease ended`);
  assert.match(
    r.stderr,
    new RegExp(`kubectl-cmlock: run died without stopping its command; sent SIGTERM to its process group ${pgid}`),
  );
  return { termAt, goneAt, killedAt };
}

test('run SIGKILLed: its watchdog sends CMD’s process group SIGTERM before the lease can end', async (t) => {
  await killRunWhileCmdRuns(t, 'kill $!; exit 143');
});

test('run SIGKILLed, CMD ignores SIGTERM: its watchdog SIGKILLs the group after --kill-after, before the lease ends', async (t) => {
  const { termAt, goneAt } = await killRunWhileCmdRuns(t, ':');
  assert.ok(goneAt - termAt >= 1900, `SIGKILL ${goneAt - termAt} ms after SIGTERM, not the 2s grace`);
});
