// The library end to end, as its users get it: the packed package installed into a scratch project, and a small
// program (test/e2e/library/program.ts, typechecked there with the project's tsc, and run both as TypeScript and
// stripped to plain JavaScript) taking the same locks as `kubectl cmlock` on the real control plane.
//   - one lock, contended by both programs and by `kubectl cmlock run`: an exact counter, no overlapping holds,
//     fences that only increase;
//   - `hold` aborts its function's signal when the lock is broken with `kubectl cmlock release --force`;
//   - Ctrl-C (SIGINT aborting the signal) while waiting leaves the holder's lock as it was, and nothing else;
//   - a semaphore (`limit: 2`) shared by both programs and `kubectl cmlock run --limit 2`: two at once, never three.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { cmlock, collect, eventually, kubectl, startSealed, testNamespace, uniqueName } from './harness.ts';
import { modulesLoadedByImport, packAndInstall, typecheck, type Scratch } from './library-package.ts';
import { show } from './lock-helpers.ts';
import {
  counterSection,
  holdProblems,
  mostAtOnce,
  MONO_NS,
  readHolds,
  readIfExists,
  seconds,
  serverLock,
  tempDir,
} from './run-helpers.ts';

/** The two programs: TypeScript with a client-node KubeConfig, plain JavaScript with the library's default. */
const PROGRAMS = [
  { lang: 'TypeScript', file: (s: Scratch) => s.ts, connect: 'kubeconfig' },
  { lang: 'JavaScript', file: (s: Scratch) => s.js, connect: 'default' },
] as const;

interface Program {
  child: ChildProcess;
  stdout: () => string;
  done: ReturnType<typeof collect>;
}

function startProgram(file: string, args: string[]): Program {
  const child = startSealed(process.execPath, [file, ...args]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return { child, stdout: () => out, done: collect(child, 120_000) };
}

async function printed(p: Program, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
  await eventually(async () => pattern.test(p.stdout()) || p.child.exitCode !== null, 30_000, what);
  const match = pattern.exec(p.stdout());
  assert.ok(match, `${what}; the program printed: ${p.stdout()}`);
  return match;
}

describe('the library, packed, installed and used by a program', { timeout: 10 * 60_000 }, () => {
  let scratch: Scratch;
  before(() => {
    scratch = packAndInstall();
  });

  test('npm pack and install into a scratch project', (t) => {
    t.diagnostic(
      `npm pack (library build included) ${seconds(scratch.packMs)}, npm install ${seconds(scratch.installMs)}`,
    );
    const loaded = modulesLoadedByImport(scratch);
    assert.ok(
      loaded.some((url) => url.includes('/node_modules/kubectl-cmlock/dist/lib/index.js')),
      loaded.join('\n'),
    );
    const unwanted = loaded.filter((url) =>
      /\/node_modules\/(yargs|yargs-parser|cli-table3|string-width|@kubernetes\/client-node)\//.test(url),
    );
    assert.deepEqual(unwanted, [], 'importing it loads neither the command line nor the Kubernetes client');
  });

  test('the TypeScript program and the README example typecheck against the installed declarations', () => {
    const { ok, output } = typecheck(scratch);
    assert.ok(ok, output);
  });

  test('one lock, two library programs and kubectl cmlock run: exact counter, no overlaps', async (t) => {
    const ns = await testNamespace(t, 'lib');
    const name = uniqueName('counter');
    const dir = tempDir(t);
    const counter = join(dir, 'counter');
    const log = join(dir, 'holds');
    writeFileSync(counter, '0\n');
    const LIB_ROUNDS = 6;
    const RUNS = 3;
    const RUN_ROUNDS = 4;
    const critical = counterSection(counter, log);

    const programs = PROGRAMS.map((p) =>
      startProgram(p.file(scratch), ['contend', name, ns, p.connect, counter, log, String(LIB_ROUNDS)]),
    );
    const runs = Array.from({ length: RUNS }, async () => {
      for (let round = 0; round < RUN_ROUNDS; round++) {
        const r = await cmlock(['run', name, '-n', ns, '--', 'sh', '-c', critical], { timeoutMs: 120_000 });
        assert.equal(r.code, 0, show(r));
      }
    });
    const results = await Promise.all(programs.map((p) => p.done));
    await Promise.all(runs);
    for (const r of results) assert.equal(r.code, 0, show(r));

    const total = PROGRAMS.length * LIB_ROUNDS + RUNS * RUN_ROUNDS;
    assert.equal(readIfExists(counter), `${total}\n`, 'no update was lost');
    const holds = readHolds(log);
    assert.equal(holds.length, total);
    assert.deepEqual(holdProblems(holds).problems, [], 'holds never overlap and fences increase');
    const byKind = (tag: string) => holds.filter((h) => h.holder.includes(`/${tag}-`)).length;
    assert.deepEqual([byKind('lib'), byKind('run')], [PROGRAMS.length * LIB_ROUNDS, RUNS * RUN_ROUNDS]);
    assert.equal(await serverLock(ns, name), undefined, 'no lock left behind');
  });

  test('limit 2: both programs and run --limit 2 share one semaphore, two at once and never three', async (t) => {
    const ns = await testNamespace(t, 'lib');
    const name = uniqueName('slots');
    const log = join(tempDir(t), 'holds');
    writeFileSync(log, '');
    const programs = PROGRAMS.map((p) => startProgram(p.file(scratch), ['slot', name, ns, p.connect, log, '3', '2']));
    const critical = `s=$(${MONO_NS}); sleep 0.3; e=$(${MONO_NS}); echo "$s $e $CMLOCK_FENCE $CMLOCK_HOLDER" >> '${log}'`;
    const runs = Array.from({ length: 2 }, async () => {
      for (let round = 0; round < 2; round++) {
        const r = await cmlock(['run', name, '-n', ns, '--limit', '2', '--', 'sh', '-c', critical], {
          timeoutMs: 120_000,
        });
        assert.equal(r.code, 0, show(r));
      }
    });
    const results = await Promise.all(programs.map((p) => p.done));
    await Promise.all(runs);
    for (const r of results) assert.equal(r.code, 0, show(r));
    const holds = readHolds(log);
    assert.equal(holds.length, PROGRAMS.length * 3 + 2 * 2);
    assert.equal(mostAtOnce(holds), 2, 'two at once, never three');
    assert.equal(new Set(holds.map((h) => h.fence)).size, holds.length, 'every hold its own fencing token');
    assert.equal(await serverLock(ns, name), undefined, 'no lock left behind');
  });

  test('hold: the function is aborted when the lock is broken with release --force', async (t) => {
    const ns = await testNamespace(t, 'lib');
    await Promise.all(
      PROGRAMS.map(async (p) => {
        const name = uniqueName('lost');
        const program = startProgram(p.file(scratch), ['hold-lost', name, ns, p.connect]);
        await printed(program, /^held \d+$/m, `${p.lang}: holding`);
        assert.match((await serverLock(ns, name))?.data['holderIdentity'] ?? '', /\/lib-\d+-[0-9a-f]{4}$/);
        const broke = await cmlock(['release', name, '-n', ns, '--force']);
        assert.equal(broke.code, 0, show(broke));
        const r = await program.done;
        assert.equal(r.code, 6, `${p.lang}: ${show(r)}`);
        assert.match(r.stdout, new RegExp(`^lost taken ${name}$`, 'm'), p.lang);
        assert.doesNotMatch(r.stdout, /hold resolved/);
        assert.equal(await serverLock(ns, name), undefined, `${p.lang}: the broken lock stays broken`);
      }),
    );
  });

  test('Ctrl-C while waiting: the wait ends, the holder’s lock is untouched, nothing is left behind', async (t) => {
    const ns = await testNamespace(t, 'lib');
    await Promise.all(
      PROGRAMS.map(async (p) => {
        const name = uniqueName('wait');
        const taken = await cmlock(['acquire', name, '-n', ns, '--identity', 'blocker', '--ttl', '10m']);
        assert.equal(taken.code, 0, show(taken));
        const before = await serverLock(ns, name);
        const program = startProgram(p.file(scratch), ['abort-wait', name, ns, p.connect]);
        await printed(program, /^held by blocker$/m, `${p.lang}: found it held`);
        await printed(program, /^waiting$/m, `${p.lang}: waiting`);
        program.child.kill('SIGINT');
        const r = await program.done;
        assert.equal(r.code, 130, `${p.lang}: ${show(r)}`);
        assert.match(r.stdout, /^aborted: interrupted$/m);
        const after = await serverLock(ns, name);
        // The wait joined the lock's queue and left it again (two writes): the holder's record is as it was.
        assert.deepEqual(after?.data, before?.data, `${p.lang}: the holder's lock is as it was, nobody in line`);
        const released = await cmlock(['release', name, '-n', ns, '--identity', 'blocker']);
        assert.equal(released.code, 0, show(released));
      }),
    );
    const left = await kubectl([
      'get',
      'configmaps',
      '-n',
      ns,
      '-l',
      'app.kubernetes.io/managed-by=kubectl-cmlock',
      '-o',
      'name',
    ]);
    assert.equal(left.stdout, '', 'no lock of anyone left in the namespace');
  });
});
