// `kubectl cmlock wait` over the in-memory store and a fake clock: its status line on a terminal and off one,
// and the moments it returns.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../../src/cli/app.ts';
import { BOB, cmlock } from '../lock/fakes.ts';
import { harness } from './fakes.ts';

describe('wait command', () => {
  it('on a terminal: one line redrawn in place every second, cleared when the lock is released', async () => {
    const h = harness(['wait', 'db-migrate'], { stderrTTY: true, stderrColumns: 200 });
    const held = cmlock({ holder: BOB });
    h.store.seed(held);
    const done = runCli(h.rt);
    await h.clock.advance(5000);
    const frames = h.stderr.text.split('\r\u001b[2K');
    assert.equal(frames[0], '');
    assert.equal(frames.length - 1, 6, 'at once, then once a second');
    assert.match(
      frames.at(-1) ?? '',
      /^waiting for lock "db-migrate": held by bob@host2 since \S+ \(\S+ ago\), expires in \S+; waited 5s$/,
    );
    assert.ok(!h.stderr.text.includes('\n'));
    await h.store.delete('db-migrate', { uid: held.uid, resourceVersion: held.resourceVersion });
    assert.equal(await h.clock.run(done), 0);
    assert.ok(h.stderr.text.endsWith('\r\u001b[2K'), 'the line is cleared');
    assert.equal(h.stdout.text, '');
  });

  it('a terminal that reports 0 columns gets an 80-column line, not a 20-character stub', async () => {
    const h = harness(['wait', 'db-migrate', '--timeout', '1s'], { stderrTTY: true, stderrColumns: 0 });
    h.store.seed(cmlock({ holder: BOB }));
    await h.clock.run(runCli(h.rt)).catch(() => undefined);
    const frames = h.stderr.text.split('\r\u001b[2K').filter((f) => f !== '');
    assert.ok(frames.length > 0);
    assert.ok(
      frames.every((f) => f.length === 79),
      JSON.stringify(frames),
    );
  });

  it('off a terminal: a plain line at once and every 30 s; returns when the lock expires', async () => {
    const h = harness(['wait', 'db-migrate']);
    h.store.seed(cmlock({ holder: BOB, ttlSeconds: 75 }));
    assert.equal(await h.clock.run(runCli(h.rt)), 0);
    const lines = h.stderr.text.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => /waited (\S+)$/.exec(l)?.[1]),
      ['0s', '30s', '60s'],
    );
    assert.ok(lines.every((l) => l.startsWith('waiting for lock "db-migrate": held by bob@host2')));
  });
});
