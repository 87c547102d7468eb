// `ls -w` through the command line, over the in-memory API server: the table, then one row per change, until
// Ctrl-C (the runtime's signal), which ends it with the cancellation error main.ts turns into a quiet exit 130.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../../src/cli/app.ts';
import { CancelledError } from '../../../src/errors.ts';
import { harness, run, type Harness } from './fakes.ts';

/** Starts `argv` (a command that runs until interrupted) without waiting for it. */
function start(h: Harness): Promise<unknown> {
  return runCli(h.rt).then(
    (code) => ({ code }),
    (error: unknown) => ({ error }),
  );
}

function next(h: Harness, argv: string[]): Harness {
  return harness(argv, { store: h.store, clock: h.clock });
}

describe('ls -w', () => {
  it('prints the table, then a row per change (taken, expired, taken over, released) until interrupted', async () => {
    const h = harness(['acquire', 'db-migrate', '--ttl', '30s', '--reason', 'schema v42']);
    await run(h);
    const ls = next(h, ['ls', '-w']);
    const watching = start(ls);
    await h.clock.advance(0);
    await run(next(h, ['acquire', 'drain', '--identity', 'bob@ci', '--ttl', '5m']));
    await h.clock.advance(40_000); // db-migrate's lease runs out: no API event, a timer says so
    await run(next(h, ['acquire', 'db-migrate', '--identity', 'bob@ci', '--timeout', '0']));
    await run(next(h, ['release', 'drain', '--identity', 'bob@ci']));
    ls.abort.abort(new CancelledError('interrupted by SIGINT'));
    const result = (await watching) as { error?: unknown };
    assert.ok(result.error instanceof CancelledError, `cancelled, got ${String(result.error)}`);
    assert.equal(
      ls.stdout.text,
      [
        'NAME         HOLDER        STATUS     AGE   EXPIRES   WAITING   REASON',
        'db-migrate   alice@host1   Held       0s    in 30s    0         schema v42',
        'drain        bob@ci        Held       0s    in 5m     0         <none>',
        'db-migrate   alice@host1   Expired    31s   expired 1s ago   0         schema v42',
        'db-migrate   bob@ci        Held       0s    in 60m           0         <none>',
        'drain        bob@ci        Released   40s   in 4m20s         0         <none>',
        '',
      ].join('\n'),
    );
    assert.equal(ls.stderr.text, '');
    assert.deepEqual(
      h.store.calls.filter((c) => c === 'list' || c === 'watchList'),
      ['list', 'watchList'],
      'one list, one watch: no polling',
    );
  });

  it('nothing there yet: a note on stderr, and the header comes with the first row', async () => {
    const ls = harness(['ls', '-w']);
    const watching = start(ls);
    await ls.clock.advance(0);
    assert.equal(ls.stderr.text, 'No locks found in namespace "team-a" yet; watching for changes.\n');
    assert.equal(ls.stdout.text, '');
    await run(next(ls, ['acquire', 'x', '--ttl', '1m']));
    ls.abort.abort(new CancelledError('interrupted by SIGINT'));
    await watching;
    assert.equal(
      ls.stdout.text,
      'NAME   HOLDER        STATUS     AGE   EXPIRES   WAITING   REASON\nx      alice@host1   Held       0s    in 60s    0         <none>\n',
    );
  });

  it('-o json: one JSON event a line, the first list as ADDED', async () => {
    const h = harness(['acquire', 'a', '--ttl', '1m']);
    await run(h);
    const ls = next(h, ['ls', '-w', '-o', 'json']);
    const watching = start(ls);
    await h.clock.advance(0);
    await run(next(h, ['release', 'a']));
    ls.abort.abort(new CancelledError('interrupted by SIGINT'));
    await watching;
    const events = ls.stdout.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: { name: string; holder: string } });
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.name} ${e.object.holder}`),
      ['ADDED a alice@host1', 'DELETED a alice@host1'],
    );
    assert.equal(ls.stderr.text, '');
  });
});
