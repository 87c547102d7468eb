// The watchdog with real processes: a stand-in for cmlock (watchdog-parent.ts) starts CMD in its own process
// group; when the stand-in is SIGKILLed, the watchdog stops CMD's group (SIGTERM, then SIGKILL after the grace);
// when the stand-in says it is done with CMD, the watchdog leaves the group alone and exits.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
async function startParent(t: TestContext, mode: 'hold' | 'disown', killAfterMs: number, script: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-watchdog-'));
  const parent = spawn(process.execPath, [parentScript, mode, String(killAfterMs), 'sh', '-c', script, dir], {
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
  const pgid = Number(stdout.trim());
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
  return { parent, pgid, dir, closed, exited, stderr: () => stderr };
}

describe('run watchdog', { skip: process.platform === 'win32' ? 'no process groups' : false }, () => {
  test('cmlock SIGKILLed: CMD’s whole group gets SIGTERM at once', async (t) => {
    const p = await startParent(
      t,
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
    const p = await startParent(t, 'hold', 700, 'trap "date +%s%N >> $0/term" TERM; while :; do sleep 0.1; done');
    await until(() => watchdogRunning(p.pgid), 10_000, 'the watchdog runs');
    p.parent.kill('SIGKILL');
    await until(() => existsSync(join(p.dir, 'term')), 10_000, 'CMD got SIGTERM');
    const termAt = Number(readFileSync(join(p.dir, 'term'), 'utf8').trim()) / 1e6;
    await until(() => !processGroupExists(p.pgid), 10_000, 'the whole group is gone');
    const goneAt = Date.now();
    assert.ok(goneAt - termAt >= 650, `SIGKILL came ${goneAt - termAt} ms after SIGTERM, before the 0.7s grace`);
    assert.ok(processGroupExists(p.pgid) === false);
  });

  test('cmlock done with CMD: the watchdog exits and leaves the group alone', async (t) => {
    const p = await startParent(t, 'disown', 100, 'while :; do sleep 0.1; done');
    assert.equal(await p.exited, 0);
    await until(() => !watchdogRunning(p.pgid), 10_000, 'the watchdog has exited');
    assert.equal(processGroupExists(p.pgid), true, 'CMD still runs');
    assert.equal(p.stderr(), '');
  });
});
