// The watchdog with real processes, under dash and under busybox sh (neither has `read -t`): a stand-in for cmlock
// (watchdog-parent.ts) starts CMD in its own process group. When the stand-in is SIGKILLed, the watchdog stops
// CMD's group (SIGTERM, then SIGKILL after the grace); when it goes silent past the time it armed, the same; when
// it holds a stopped CMD and dies, SIGKILL at once; when it says it is done with CMD, the watchdog leaves it alone.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { processGroupExists } from '../../../src/run/child.ts';

const parentScript = join(import.meta.dirname, 'watchdog-parent.ts');

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function watchdogRunning(pgid: number): boolean {
  return spawnSync('pgrep', ['-f', `kubectl-cmlock-watchdog ${pgid} `]).status === 0;
}

/** Starts the stand-in; resolves with it and CMD's pid (= its process group) once CMD runs. */
async function startParent(t: TestContext, shell: string, mode: string, killAfterMs: number, script: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-watchdog-'));
  const parent = spawn(process.execPath, [parentScript, mode, String(killAfterMs), shell, 'sh', '-c', script, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  parent.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  parent.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // 'close' comes once every holder of its stdout and stderr has gone: CMD and the watchdog inherit them.
  const closed = new Promise<void>((resolve) => parent.once('close', () => resolve()));
  const exited = new Promise<number | null>((resolve) => parent.once('exit', (code) => resolve(code)));
  await until(() => stdout.endsWith('\n') || parent.exitCode !== null, 10_000, 'CMD is started');
  const [pgid = NaN, toldAt = NaN] = stdout.trim().split(' ').map(Number);
  assert.ok(pgid > 0, `no pid from the stand-in: ${stdout} ${stderr}`);
  t.after(() => {
    parent.kill('SIGKILL');
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone already
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { parent, pgid, toldAt, dir, closed, exited, stderr: () => stderr };
}

/** The shells the watchdog must work under; busybox where installed (.ci/run installs it). */
const SHELLS: { name: string; path: string }[] = [
  { name: 'dash', path: '/bin/dash' },
  { name: 'busybox sh', path: '/bin/busybox' },
];

/** Wall-clock ms stamps a CMD wrote, one a line (complete lines only: the file exists before its line does). */
function stampsIn(path: string): number[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  return lines.slice(0, -1).map((l) => Number(l) / 1e6);
}

const TERM_STAMP = 'trap "date +%s%N >> $0/term" TERM';

for (const shell of SHELLS) {
  const skip =
    process.platform === 'win32'
      ? 'no process groups'
      : existsSync(shell.path)
        ? false
        : `${shell.path} is not installed`;
  describe(`run watchdog under ${shell.name}`, { skip, concurrency: true }, () => {
    const sh = shell.name === 'busybox sh' ? busyboxSh() : shell.path;

    test('cmlock SIGKILLed: CMD’s whole group gets SIGTERM at once', async (t) => {
      const p = await startParent(
        t,
        sh,
        'hold',
        5000,
        'trap "touch $0/term; exit 0" TERM; sleep 300 & while :; do sleep 0.1; done',
      );
      await until(() => watchdogRunning(p.pgid), 10_000, 'the watchdog runs');
      p.parent.kill('SIGKILL');
      await until(() => existsSync(join(p.dir, 'term')), 10_000, 'CMD got SIGTERM');
      await until(() => !processGroupExists(p.pgid), 10_000, 'the whole group is gone (sleep 300 too)');
      await p.closed; // the watchdog held the parent's stderr: it has exited too
      assert.match(
        p.stderr(),
        new RegExp(
          `^kubectl-cmlock: run died without stopping its command; sent SIGTERM to its process group ${p.pgid}, SIGKILL follows in 5s\n`,
        ),
      );
    });

    test('cmlock SIGKILLed, CMD ignores SIGTERM: SIGKILL after the grace', async (t) => {
      const p = await startParent(t, sh, 'hold', 700, `${TERM_STAMP}; while :; do sleep 0.1; done`);
      await until(() => watchdogRunning(p.pgid), 10_000, 'the watchdog runs');
      p.parent.kill('SIGKILL');
      await until(() => stampsIn(join(p.dir, 'term')).length > 0, 10_000, 'CMD got SIGTERM');
      const [termAt = NaN] = stampsIn(join(p.dir, 'term'));
      await until(() => !processGroupExists(p.pgid), 10_000, 'the whole group is gone');
      const goneAt = Date.now();
      assert.ok(goneAt - termAt >= 650, `SIGKILL came ${goneAt - termAt} ms after SIGTERM, before the 0.7s grace`);
    });

    test('cmlock silent past the armed deadline (alive, but stopped): SIGTERM then, SIGKILL after the grace', async (t) => {
      const p = await startParent(t, sh, 'arm:1200', 600, `${TERM_STAMP}; while :; do sleep 0.1; done`);
      const armedAt = p.toldAt;
      await until(() => stampsIn(join(p.dir, 'term')).length > 0, 10_000, 'CMD got SIGTERM');
      const [termAt = NaN] = stampsIn(join(p.dir, 'term'));
      await until(() => !processGroupExists(p.pgid), 10_000, 'the whole group is gone');
      const goneAt = Date.now();
      assert.ok(termAt - armedAt >= 1150, `SIGTERM ${termAt - armedAt} ms after arming for 1.2s`);
      assert.ok(goneAt - termAt >= 550, `SIGKILL ${goneAt - termAt} ms after SIGTERM, before the 0.6s grace`);
      assert.equal(p.parent.exitCode, null, 'the stand-in (cmlock) is still alive: silence, not death');
      assert.match(
        p.stderr(),
        new RegExp(
          `^kubectl-cmlock: run went silent \\(stopped or stalled\\) past its renew deadline; sent SIGTERM to its process group ${p.pgid}, SIGKILL follows in 0.6s\n`,
        ),
      );
    });

    test('cmlock re-arming in time: the group is left alone, at the cost of three sleeping processes', async (t) => {
      const p = await startParent(t, sh, 'rearm:800', 500, `${TERM_STAMP}; while :; do sleep 0.1; done`);
      const until3s = Date.now() + 3000;
      while (Date.now() < until3s) {
        assert.equal(existsSync(join(p.dir, 'term')), false, 'CMD got no SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(processGroupExists(p.pgid), true);
      const processes = spawnSync('pgrep', ['-f', '-c', `kubectl-cmlock-watchdog ${p.pgid} `], { encoding: 'utf8' });
      assert.ok(Number(processes.stdout.trim()) <= 2, `watchdog shells: ${processes.stdout}`);
    });

    test('CMD held stopped by cmlock, cmlock dies: SIGKILL at once, CMD’s SIGTERM handler never runs', async (t) => {
      const p = await startParent(t, sh, 'held', 20_000, `${TERM_STAMP}; while :; do sleep 0.1; done`);
      await until(() => watchdogRunning(p.pgid), 10_000, 'the watchdog runs');
      const killedAt = Date.now();
      p.parent.kill('SIGKILL');
      await until(() => !processGroupExists(p.pgid), 20_000, 'the whole group is gone');
      assert.ok(Date.now() - killedAt < 15_000, `${Date.now() - killedAt} ms: at once, not after the 20s grace`);
      assert.equal(existsSync(join(p.dir, 'term')), false, 'no SIGTERM handler ran');
      await p.closed;
      assert.match(
        p.stderr(),
        new RegExp(
          `^kubectl-cmlock: run died while its command was stopped; sent SIGKILL to its process group ${p.pgid}\n`,
        ),
      );
    });

    test('kill time given (cmlock stopping CMD itself), cmlock dies: SIGKILL at that time, no second SIGTERM', async (t) => {
      const p = await startParent(t, sh, 'kill:1000', 5000, `${TERM_STAMP}; while :; do sleep 0.1; done`);
      const toldAt = p.toldAt;
      await until(() => watchdogRunning(p.pgid), 10_000, 'the watchdog runs');
      p.parent.kill('SIGKILL');
      await until(() => !processGroupExists(p.pgid), 10_000, 'the whole group is gone');
      const goneAt = Date.now();
      assert.ok(goneAt - toldAt >= 950, `gone ${goneAt - toldAt} ms after being told to kill at 1s`);
      assert.equal(existsSync(join(p.dir, 'term')), false, 'no SIGTERM from the watchdog');
    });

    test('cmlock done with CMD: the watchdog exits and leaves the group alone', async (t) => {
      const p = await startParent(t, sh, 'disown', 100, 'while :; do sleep 0.1; done');
      assert.equal(await p.exited, 0);
      await until(() => !watchdogRunning(p.pgid), 10_000, 'the watchdog has exited');
      assert.equal(processGroupExists(p.pgid), true, 'CMD still runs');
      assert.equal(p.stderr(), '');
    });
  });
}

/** A `sh` that is busybox (a link named sh, in a directory of its own), as in an Alpine or distroless-with-busybox image. */
function busyboxSh(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-busybox-'));
  const link = join(dir, 'sh');
  symlinkSync('/bin/busybox', link);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return link;
}
