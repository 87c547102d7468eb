// `kubectl cmlock ls -w` against the real API server: the table, then one row per change as other people take,
// lose and release locks, until Ctrl-C; -o json streams one event a line and rides out a dropped connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmlock, eventually, testNamespace, uniqueName } from './harness.ts';
import { show } from './lock-helpers.ts';
import { proxiedCluster, startCmlock, type Started } from './run-helpers.ts';

/** stdout of a running process, as it arrives. */
function liveStdout(p: Started): () => string {
  let text = '';
  p.child.stdout?.on('data', (d: Buffer | string) => (text += d.toString()));
  return () => text;
}

async function untilLine(stdout: () => string, pattern: RegExp, what: string, p: Started): Promise<void> {
  await eventually(
    async () => {
      if (
        stdout()
          .split('\n')
          .some((line) => pattern.test(line))
      )
        return true;
      if (p.exitedAt() !== undefined) throw new Error(`ls -w exited before ${what}:\n${stdout()}\n${p.stderr()}`);
      return false;
    },
    15_000,
    what,
  );
}

async function ok(args: string[], env?: Record<string, string>): Promise<void> {
  const r = await cmlock(args, env ? { env } : {});
  assert.equal(r.code, 0, show(r));
}

test('ls -w: the table, then a row per change (taken, expired, released), until Ctrl-C exits 130 quietly', async (t) => {
  const ns = await testNamespace(t, 'watch');
  const [first, second, short] = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
  await ok(['acquire', first, '-n', ns, '--identity', 'alice@laptop', '--reason', 'before the watch']);

  const ls = startCmlock(['ls', '-w', '-n', ns, '--context', 'locker']);
  const stdout = liveStdout(ls);
  await untilLine(stdout, new RegExp(`^${first}\\s+alice@laptop\\s+Held\\s`), 'the first table', ls);
  assert.match(stdout(), /^NAME\s+HOLDER\s+STATUS\s+AGE\s+EXPIRES\s+WAITING\s+REASON\n/);

  await ok(['acquire', second, '-n', ns, '--identity', 'bob@ci', '--reason', 'deploy']);
  await untilLine(
    stdout,
    new RegExp(`^${second}\\s+bob@ci\\s+Held\\s+\\S+\\s+in \\S+\\s+0\\s+deploy$`),
    'the new lock',
    ls,
  );

  // A lease that runs out changes nothing on the server; the row still says so.
  await ok(['acquire', short, '-n', ns, '--identity', 'crashed@node-3', '--ttl', '2s']);
  await untilLine(stdout, new RegExp(`^${short}\\s+crashed@node-3\\s+Held\\s`), 'the short lock', ls);
  await untilLine(stdout, new RegExp(`^${short}\\s+crashed@node-3\\s+Expired\\s+\\S+\\s+expired `), 'it expires', ls);

  await ok(['release', second, '-n', ns, '--identity', 'bob@ci']);
  await untilLine(stdout, new RegExp(`^${second}\\s+bob@ci\\s+Released\\s`), 'the release', ls);

  ls.child.kill('SIGINT');
  const r = await ls.result;
  assert.equal(r.code, 130, show(r));
  assert.equal(r.stderr, '', 'Ctrl-C is quiet');
  assert.equal(r.stdout.match(/^NAME\s/gm)?.length, 1, 'the header is printed once');
  const rows = r.stdout.trimEnd().split('\n').slice(1);
  assert.deepEqual(
    rows.map((row) =>
      row
        .split(/\s{3,}/)
        .slice(0, 3)
        .join(' '),
    ),
    [
      `${first} alice@laptop Held`,
      `${second} bob@ci Held`,
      `${short} crashed@node-3 Held`,
      `${short} crashed@node-3 Expired`,
      `${second} bob@ci Released`,
    ],
  );
});

test('ls -w -A -o json: one event a line; a dropped watch connection is opened again and nothing is missed', async (t) => {
  const ns = await testNamespace(t, 'watchjson');
  const { proxy, env } = await proxiedCluster(t);
  const [one, two] = [uniqueName('one'), uniqueName('two')];

  const ls = startCmlock(['ls', '-w', '-A', '-o', 'json'], { env });
  const stdout = liveStdout(ls);
  const events = () =>
    stdout()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { type: string; object: { name: string; namespace: string; holder: string } })
      .filter((e) => e.object.namespace === ns)
      .map((e) => `${e.type} ${e.object.name} ${e.object.holder}`);
  const seen = (event: string) =>
    eventually(
      async () => {
        if (ls.exitedAt() !== undefined) throw new Error(`ls -w exited:\n${ls.stderr()}`);
        return events().includes(event);
      },
      20_000,
      `ls -w reports ${event}`,
    );

  // The watch is open once its connection has carried the list and stays open.
  await eventually(async () => proxy.stats().some((c) => c.open && c.fromServer > 0), 15_000, 'ls -w is connected');
  await ok(['acquire', one, '-n', ns, '--identity', 'alice@laptop'], env);
  await seen(`ADDED ${one} alice@laptop`);

  // Every connection reset: ls -w must watch again from where it was, and still see the next change.
  const lastId = Math.max(...proxy.stats().map((c) => c.id));
  await proxy.setMode({ kind: 'reset' });
  await proxy.resume();
  await ok(['acquire', two, '-n', ns, '--identity', 'bob@ci'], env);
  await ok(['release', one, '-n', ns, '--identity', 'alice@laptop'], env);
  await seen(`ADDED ${two} bob@ci`);
  await seen(`DELETED ${one} alice@laptop`);
  assert.ok(
    proxy.stats().some((c) => c.id > lastId),
    'ls -w connected again',
  );

  ls.child.kill('SIGTERM');
  const r = await ls.result;
  assert.equal(r.code, 143, show(r));
  assert.equal(r.stderr, '');
  assert.deepEqual(events(), [`ADDED ${one} alice@laptop`, `ADDED ${two} bob@ci`, `DELETED ${one} alice@laptop`]);
  // Re-watch once, not a reconnect loop (the acquires and releases above are through the proxy too).
  assert.ok(proxy.stats().length <= 12, `${proxy.stats().length} connections`);
});
