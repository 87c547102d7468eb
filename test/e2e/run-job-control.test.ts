// Ctrl-Z on `kubectl cmlock run` in a real terminal (a pty with an interactive bash, test/e2e/terminal.ts). CMD
// runs in a session of its own, so the terminal's SIGTSTP reaches cmlock alone; cmlock must stop CMD's whole tree
// with itself, and on `fg` continue it only once the lock is proved still held on the server. If the job stayed
// suspended past the lease and someone else took the lock, CMD must do no more work at all, not even its SIGTERM
// handler: it is killed while still stopped, and run exits 6. (bash goes on with a command list when its job
// stops, so run's exit code is read from `fg`, which returns the job's.)
//
// --ttl 6s --kill-after 1s: renew every 2s, renew deadline 4s, SIGKILL by 5s, lease end 6s (+1s allowance).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { processGroupExists } from '../../src/run/child.ts';
import { cmdTree, groupGone, groupStopped, lastWork, readLog, untilGroupStopped } from './cmd-tree.ts';
import { cmlock, eventually, testNamespace, uniqueName } from './harness.ts';
import { alive, killGroup, readIfExists, seconds, serverLock, tempDir } from './run-helpers.ts';
import { startTerminal } from './terminal.ts';

const TIMINGS = ['--ttl', '6s', '--kill-after', '1s'];

describe('Ctrl-Z on run in a terminal', { concurrency: true }, () => {
  test('suspended past the lease, the lock taken meanwhile: CMD did no more work; after fg it is killed, exit 6', async (t) => {
    const ns = await testNamespace(t, 'tstp');
    const name = uniqueName('tstp');
    const dir = tempDir(t);
    const cmd = cmdTree(dir);
    const term = startTerminal();
    t.after(() => term.close());

    term.type(`kubectl cmlock run ${name} -n ${ns} ${TIMINGS.join(' ')} -- ${cmd.argv.join(' ')}\n`);
    const pgid = await cmd.started();
    t.after(() => killGroup(pgid));

    const ctrlZ = Date.now();
    term.type('\x1a');
    await term.waitFor(/Stopped/);
    await untilGroupStopped(pgid);
    const stoppedBy = Date.now();

    // Someone else waits for the lock; it gets it once the unrenewed lease has run out on the server.
    const otherStarted = Date.now();
    const other = await cmlock(['acquire', name, '-n', ns, '--identity', 'other@elsewhere', '--timeout', '30s']);
    assert.equal(other.code, 0, other.stderr);
    const otherHasIt = Date.now();
    assert.equal((await serverLock(ns, name))?.data['holderIdentity'], 'other@elsewhere');
    assert.ok(groupStopped(pgid), 'CMD is still stopped while the other holds the lock');

    const from = term.screen().length;
    term.type('fg; echo "rc=$?"\n');
    const [, rc] = await term.waitFor(/rc=(\d+)/, 30_000, from);
    assert.equal(rc, '6');
    const screen = term.screen().slice(from);
    assert.match(
      screen,
      new RegExp(
        `error: lost lock "${name}": lock "${name}" is held by other@elsewhere .*not by you .*\\(noticed after a stop of \\d+s\\); ` +
          'killed sh while it was stopped, without a grace period: its lease had lapsed, so it may do no more work',
      ),
    );
    await eventually(async () => !processGroupExists(pgid), 5_000, "CMD's group is gone");

    const log = readLog(cmd.log);
    const last = lastWork(cmd.log);
    t.diagnostic(
      `Ctrl-Z at +0s; CMD's last work ${seconds(last - ctrlZ)}; tree stopped by ${seconds(stoppedBy - ctrlZ)}; ` +
        `the other client waited from ${seconds(otherStarted - ctrlZ)} and held it by ${seconds(otherHasIt - ctrlZ)}`,
    );
    assert.ok(last < otherStarted, `CMD worked ${last - otherStarted} ms after the other client began to acquire`);
    assert.ok(last <= stoppedBy, 'no work once the tree was stopped');
    assert.deepEqual(
      log.filter((l) => l.kind === 'term'),
      [],
      'no SIGTERM handler ran: CMD was killed while stopped',
    );
    assert.equal((await serverLock(ns, name))?.data['holderIdentity'], 'other@elsewhere', 'their lock untouched');
  });

  test('Ctrl-Z, then fg within the lease: verified on the server, CMD resumes and finishes; its code passes', async (t) => {
    const ns = await testNamespace(t, 'tstp');
    const name = uniqueName('tstp');
    const dir = tempDir(t);
    const cmd = cmdTree(dir, 60, 7);
    const term = startTerminal();
    t.after(() => term.close());

    term.type(`kubectl cmlock run ${name} -n ${ns} ${TIMINGS.join(' ')} -- ${cmd.argv.join(' ')}\n`);
    const pgid = await cmd.started();
    t.after(() => killGroup(pgid));
    const before = await serverLock(ns, name);
    assert.ok(before);

    term.type('\x1a');
    await term.waitFor(/Stopped/);
    await untilGroupStopped(pgid);
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500)); // suspended a while: well within the renew deadline
    const from = term.screen().length;
    const fgAt = Date.now();
    term.type('fg; echo "rc=$?"\n');
    await term.waitFor(
      new RegExp(`lock "${name}" verified after a stop of [0-9hms]+: still held, renewed; sh continued`),
      30_000,
      from,
    );
    const [, rc] = await term.waitFor(/rc=(\d+)/, 30_000, from);
    assert.equal(rc, '7', term.screen().slice(from));

    const ticks = readLog(cmd.log).filter((l) => l.kind === 'tick' && l.who === 'cmd');
    assert.equal(ticks.length, 60, 'CMD finished its work');
    const during = ticks.filter((l) => l.at > stoppedAt && l.at < fgAt);
    assert.deepEqual(during, [], 'no work while suspended');
    assert.ok(
      ticks.some((l) => l.at >= fgAt),
      'work after fg',
    );
    assert.equal(await serverLock(ns, name), undefined, 'released after CMD exited');
  });
});

test('Ctrl-Z, then bg: verified like fg, CMD goes on in the background, and `wait` gets its code', async (t) => {
  const ns = await testNamespace(t, 'tstp');
  const name = uniqueName('tstp');
  const dir = tempDir(t);
  const cmd = cmdTree(dir, 60, 5);
  const term = startTerminal();
  t.after(() => term.close());
  term.type(`kubectl cmlock run ${name} -n ${ns} ${TIMINGS.join(' ')} -- ${cmd.argv.join(' ')}\n`);
  const pgid = await cmd.started();
  t.after(() => killGroup(pgid));
  term.type('\x1a');
  await term.waitFor(/Stopped/);
  await untilGroupStopped(pgid);
  const from = term.screen().length;
  term.type('bg\n');
  await term.waitFor(
    new RegExp(`lock "${name}" verified after a stop of [0-9hms]+: still held, renewed; sh continued`),
    30_000,
    from,
  );
  term.type('wait %1; echo "rc=$?"\n');
  const [, rc] = await term.waitFor(/rc=(\d+)/, 30_000, from);
  assert.equal(rc, '5');
  assert.equal(readLog(cmd.log).filter((l) => l.kind === 'tick' && l.who === 'cmd').length, 60);
  assert.equal(await serverLock(ns, name), undefined, 'released');
});

test('the terminal goes away while run is suspended: the shell’s signal reaches CMD once the lock is verified; released; nothing spins', async (t) => {
  const ns = await testNamespace(t, 'tstp');
  const name = uniqueName('tstp');
  const dir = tempDir(t);
  const cmd = cmdTree(dir);
  const term = startTerminal();
  t.after(() => term.close());
  // Its stderr to a file: the terminal it would print to is about to go away.
  const errFile = join(dir, 'run.err');
  term.type(`kubectl cmlock run ${name} -n ${ns} ${TIMINGS.join(' ')} -- ${cmd.argv.join(' ')} 2>${errFile}\n`);
  const pgid = await cmd.started();
  t.after(() => killGroup(pgid));
  const run = runPid(name);
  t.after(() => killPid(run));
  term.type('\x1a');
  await term.waitFor(/Stopped/);
  await untilGroupStopped(pgid);

  // bash, going away, ends its stopped job: SIGHUP and SIGCONT, or (terminate_stopped_jobs) SIGTERM and SIGCONT.
  term.close();
  await eventually(
    async () => !alive(run),
    20_000,
    'cmlock has exited (a process spinning on a dead terminal would not)',
  );
  await eventually(async () => groupGone(pgid), 5_000, "CMD's tree is gone");
  const said = readIfExists(errFile) ?? '';
  assert.match(
    said,
    new RegExp(`lock "${name}" verified after a stop of [0-9hms]+: still held, renewed; sh continued`),
  );
  assert.equal(await serverLock(ns, name), undefined, 'the lock was released');
});

/** The pid of the cmlock process running `run NAME` (kubectl execs the plugin, so it is the job itself). */
function runPid(name: string): number {
  const found = spawnSync('pgrep', ['-f', `run ${name} `], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n');
  const pid = Number(found[0]);
  assert.ok(pid > 0, `no process runs ${name}`);
  return pid;
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
