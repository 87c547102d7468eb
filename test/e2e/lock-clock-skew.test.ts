// A client whose clock is ten minutes fast and one ten minutes slow (libfaketime, Debian package "libfaketime",
// preloaded into the plugin through kubectl's environment) neither steal a live lock nor miss an expired one by
// more than a couple of seconds: expiry is judged on the API server's clock.
//
// The skew is proven first, so this cannot pass by accident: a plugin run the same way through kubectl reports a
// clock ten minutes off, and the cmlock processes under test have libfaketime mapped with that setting.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cmlock, pluginDir, runSealed, testNamespace, uniqueName } from './harness.ts';
import {
  acquireJson,
  assertErrorLine,
  cmlockOk,
  type LockJson,
  ms,
  parseLock,
  show,
  startCmlock,
} from './lock-helpers.ts';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const SKEW_MS = 10 * 60_000;

function skewed(offset: '+10m' | '-10m'): Record<string, string> {
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}
const FAST = skewed('+10m');
const SLOW = skewed('-10m');

/** A kubectl plugin that prints its wall clock (epoch ms), run exactly like the plugin under test. */
function clockPluginDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-clock-'));
  const file = join(dir, 'kubectl-cmlockclock');
  writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" -e 'console.log(Date.now())'\n`, { mode: 0o755 });
  return dir;
}

/** pid and every descendant (kubectl execs the plugin, but a wrapper might not). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** The skew is in effect in the (still running) cmlock process: libfaketime mapped, FAKETIME set as asked. */
function assertSkewedProcess(pid: number | undefined, offset: string): void {
  assert.ok(pid !== undefined);
  const tree = processTree(pid);
  const node = tree.find((p) => {
    try {
      return readFileSync(`/proc/${p}/maps`, 'utf8').includes('libfaketime');
    } catch {
      return false;
    }
  });
  assert.ok(node !== undefined, `libfaketime is loaded into the cmlock process (pids ${tree.join(', ')})`);
  const env = readFileSync(`/proc/${node}/environ`, 'utf8').split('\0');
  assert.ok(env.includes(`FAKETIME=${offset}`), `FAKETIME=${offset} in its environment`);
}

test('a client ten minutes fast or slow neither steals a live lock nor misses an expired one', async (t) => {
  assert.ok(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing: install the Debian package "libfaketime"`);

  // 1. The skew reaches a plugin started by kubectl, with the environment the tests give it.
  const probeDir = clockPluginDir();
  const [fast, slow] = await Promise.all(
    [FAST, SLOW].map((env) => runSealed('kubectl', ['cmlockclock'], { env, pathDirs: [probeDir, pluginDir()] })),
  );
  const now = Date.now();
  assert.ok(Math.abs(Number(fast?.stdout) - (now + SKEW_MS)) < 30_000, `fast clock: ${fast?.stdout} vs ${now}`);
  assert.ok(Math.abs(Number(slow?.stdout) - (now - SKEW_MS)) < 30_000, `slow clock: ${slow?.stdout} vs ${now}`);

  const ns = await testNamespace(t, 'skew');
  const name = uniqueName('skew');

  // 2. A live lock (5m left): neither steals it. Judged on their own clocks, the fast one would see it expired
  //    long ago, and the slow one would say it expires in 15m.
  const live = await acquireJson(ns, name, ['--identity', 'holder', '--ttl', '5m']);
  const [fastTry, slowTry, fastLs] = await Promise.all([
    cmlock(['acquire', name, '-n', ns, '--identity', 'fast', '--timeout', '0'], { env: FAST }),
    cmlock(['acquire', name, '-n', ns, '--identity', 'slow', '--timeout', '0'], { env: SLOW }),
    cmlock(['ls', '-n', ns, '-o', 'json'], { env: FAST }),
  ]);
  for (const r of [fastTry, slowTry]) {
    const line = assertErrorLine(
      r,
      3,
      new RegExp(`^error: lock "${name}" is held by holder .*, expires \\S+ \\(in \\S+\\); use --timeout`),
    );
    const [, m = '0', s = '0'] = /\(in (?:(\d+)m)?(?:(\d+)s)?\); use --timeout/.exec(line) ?? [];
    const left = Number(m) * 60 + Number(s);
    assert.ok(left > 0 && left <= 300, `expires in ${left}s (at most 5m), on the server's clock: ${line}`);
  }
  assert.equal(fastLs.code, 0, show(fastLs));
  const listed = (JSON.parse(fastLs.stdout) as { items: LockJson[] }).items;
  assert.deepEqual(
    listed.map((l) => [l.holder, l.status, l.fence]),
    [['holder', 'Held', live.fence]],
  );

  // 3. Both wait for it in line, then the holder shortens its lease to 3s: the first in line takes it over when it
  //    expires on the server's clock, not 10 minutes early or late; the other takes over from it in turn.
  const waiters = [
    { env: FAST, id: 'fast', offset: '+10m' },
    { env: SLOW, id: 'slow', offset: '-10m' },
  ].map(({ env, id, offset }) => ({
    id,
    offset,
    process: startCmlock(
      ['acquire', name, '-n', ns, '--identity', id, '--ttl', '3s', '--timeout', '60s', '-o', 'json'],
      {
        env,
      },
    ),
  }));
  for (const w of waiters) {
    await w.process.waitForStderr(new RegExp(`waiting for lock "${name}": held by holder`));
    assertSkewedProcess(w.process.child.pid, w.offset);
  }
  const shortened = parseLock(
    (await cmlockOk(['renew', name, '-n', ns, '--identity', 'holder', '--ttl', '3s', '-o', 'json'])).stdout,
    ['waiters'], // both wait in line
  );
  const results = await Promise.all(waiters.map((w) => w.process.done));
  for (const r of results) assert.equal(r.code, 0, show(r));
  const [first, second] = results
    .map((r) => parseLock(r.stdout, ['waiters']))
    .sort((a, b) => ms(a.acquireTime) - ms(b.acquireTime));
  assert.ok(first && second);
  for (const [taker, from] of [
    [first, shortened],
    [second, first],
  ] as const) {
    const late = ms(taker.acquireTime) - ms(from.expiresAt);
    assert.ok(
      late >= 0 && late <= 3000,
      `${taker.holder} took over ${late} ms after ${from.holder}'s lease ended (${from.expiresAt} -> ${taker.acquireTime})`,
    );
    assert.ok(BigInt(taker.fence) > BigInt(from.fence));
  }
});
