import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { LockWatchPrinter, type LockWatchOptions } from '../../../src/output/watch.ts';
import { displayWidth } from '../../../src/output/width.ts';
import { HOSTILE_ROW, NOW, view } from './fixtures.ts';

const printer = (o: Partial<LockWatchOptions> = {}) =>
  new LockWatchPrinter({ output: 'table', allNamespaces: false, noHeaders: false, ...o });

describe('LockWatchPrinter (ls -w)', () => {
  it('prints the table once, then one row per change in the same columns, headers never repeated', () => {
    const p = printer();
    const text =
      p.listed([view()], NOW) +
      p.changed({ type: 'MODIFIED', lock: view({ holder: 'bob@ci', reason: 'hotfix' }) }, NOW) +
      p.changed({ type: 'EXPIRED', lock: view({ status: 'Expired' }) }, NOW + 1_800_000) +
      p.changed({ type: 'DELETED', lock: view() }, NOW);
    assert.equal(
      text,
      'NAME         HOLDER         STATUS     AGE   EXPIRES   WAITING   REASON\n' +
        'db-migrate   alice@laptop   Held       5m    in 25m    0         schema v42\n' +
        'db-migrate   bob@ci         Held       5m    in 25m    0         hotfix\n' +
        'db-migrate   alice@laptop   Expired    35m   expired 5m ago   0         schema v42\n' +
        // A wider cell widens its column for the rows after it.
        'db-migrate   alice@laptop   Released   5m    in 25m           0         schema v42\n',
    );
  });

  it('an empty first list prints nothing; the header comes with the first row', () => {
    const p = printer();
    assert.equal(p.listed([], NOW), '');
    assert.equal(
      p.changed({ type: 'ADDED', lock: view() }, NOW),
      'NAME         HOLDER         STATUS     AGE   EXPIRES   WAITING   REASON\n' +
        'db-migrate   alice@laptop   Held       5m    in 25m    0         schema v42\n',
    );
  });

  it('--no-headers, -A and -o wide', () => {
    const p = printer({ noHeaders: true, allNamespaces: true, output: 'wide' });
    const text = p.listed([view()], NOW) + p.changed({ type: 'DELETED', lock: view({ namespace: 'ns2' }) }, NOW);
    assert.equal(
      text,
      'default   db-migrate   alice@laptop   Held       5m   in 25m   0   schema v42   alice   laptop   1234   <none>   2026-11-26T06:30:00Z   <none>\n' +
        'ns2       db-migrate   alice@laptop   Released   5m   in 25m   0   schema v42   alice   laptop   1234   <none>   2026-11-26T06:30:00Z   <none>\n',
    );
  });

  it('a waiter joining or leaving shows (WAITING, and NEXT with -o wide); a change that shows nothing new does not', () => {
    const p = printer({ output: 'wide', noHeaders: true });
    const bob = {
      identity: 'bob@ci',
      user: 'bob',
      host: 'ci',
      since: '2026-11-26T06:34:00Z',
      reason: '',
      shared: false,
    };
    const text =
      p.listed([view()], NOW) +
      p.changed({ type: 'MODIFIED', lock: view({ waiters: [bob] }) }, NOW) +
      p.changed({ type: 'MODIFIED', lock: view({ waiters: [bob] }) }, NOW) + // bob's heartbeat
      p.changed({ type: 'MODIFIED', lock: view() }, NOW);
    const cells = text
      .trimEnd()
      .split('\n')
      .map((line) => line.split(/ {3,}/));
    assert.deepEqual(
      cells.map((c) => [c[5], c.at(-1)]),
      [
        ['0', '<none>'],
        ['1', 'bob@ci'],
        ['0', '<none>'],
      ],
    );
  });

  it('keeps wide characters in line and escapes hostile cells (a change cannot forge a row)', () => {
    const p = printer({ noHeaders: true });
    const text =
      p.listed([view({ holder: '日本' })], NOW) +
      p.changed({ type: 'ADDED', lock: view({ holder: HOSTILE_ROW }) }, NOW);
    const lines = text.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2);
    assert.ok(lines[1]?.includes('evil\\nNAME HOLDER'));
    assert.equal(displayWidth('日本'), 4);
    assert.equal(displayWidth('e\u0301'), 1);
  });

  it('-o json: one event a line, {"type", "object"}, the first list as ADDED', () => {
    const p = printer({ output: 'json' });
    const text = p.listed([view(), view({ name: 'b' })], NOW) + p.changed({ type: 'DELETED', lock: view() }, NOW);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const events = lines.map((l) => JSON.parse(l) as { type: string; object: { name: string; fence: string } });
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.name}`),
      ['ADDED db-migrate', 'ADDED b', 'DELETED db-migrate'],
    );
    assert.equal(events[0]?.object.fence, '1234');
  });

  it('-o yaml: one document per event', () => {
    const p = printer({ output: 'yaml' });
    const text = p.listed([view()], NOW) + p.changed({ type: 'EXPIRED', lock: view({ status: 'Expired' }) }, NOW);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { type: string; object: { status: string } });
    assert.deepEqual(
      docs.map((d) => `${d.type} ${d.object.status}`),
      ['ADDED Held', 'EXPIRED Expired'],
    );
    assert.equal((parseYaml(text.split('---\n')[0] ?? '') as { type: string }).type, 'ADDED');
  });

  it('-o name: cmlock/NAME per event', () => {
    const p = printer({ output: 'name' });
    assert.equal(
      p.listed([view()], NOW) + p.changed({ type: 'DELETED', lock: view() }, NOW),
      'cmlock/db-migrate\ncmlock/db-migrate\n',
    );
  });
});
