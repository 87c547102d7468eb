import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { LockView } from '../../../src/lock/types.ts';
import { renderLock, renderLockList, renderLockTable, toLockObject } from '../../../src/output/lock.ts';
import { described, HOSTILE_CLEAR, HOSTILE_ROW, NOW, view } from './fixtures.ts';

const LOCK_VIEW_FIELDS = [
  'name',
  'namespace',
  'holder',
  'user',
  'host',
  'acquireTime',
  'renewTime',
  'leaseDurationSeconds',
  'expiresAt',
  'status',
  'reason',
  'fence',
  'owner',
  'labels',
  'creationTimestamp',
  'foreign',
];

const expired = view({
  name: 'drain',
  namespace: 'ops',
  holder: 'bob@h2',
  user: '',
  host: 'h2',
  acquireTime: '2026-11-24T03:35:00Z',
  expiresAt: '2026-11-26T06:32:00Z',
  status: 'Expired',
  reason: '',
  fence: '77',
  owner: 'pod/worker-7',
});
const forever = view({ name: 'freeze', expiresAt: '', leaseDurationSeconds: 0, reason: '' });

describe('ls table', () => {
  it('NAME HOLDER STATUS AGE EXPIRES WAITING REASON, relative to the server time', () => {
    assert.equal(
      renderLockTable([view(), expired, forever], { now: NOW }),
      [
        'NAME         HOLDER         STATUS    AGE    EXPIRES          WAITING   REASON',
        'db-migrate   alice@laptop   Held      5m     in 25m           0         schema v42',
        'drain        bob@h2         Expired   2d3h   expired 3m ago   0         <none>',
        'freeze       alice@laptop   Held      5m     never            0         <none>',
        '',
      ].join('\n'),
    );
  });

  it('-A puts NAMESPACE first; --no-headers drops the header', () => {
    const text = renderLockTable([view(), expired], { now: NOW, allNamespaces: true, noHeaders: true });
    assert.equal(
      text,
      'default   db-migrate   alice@laptop   Held      5m     in 25m           0   schema v42\n' +
        'ops       drain        bob@h2         Expired   2d3h   expired 3m ago   0   <none>\n',
    );
  });

  it('-o wide adds USER, HOST, FENCE, OWNER, ACQUIRED, NEXT', () => {
    const [head = '', first = '', second = ''] = renderLockTable([view(), expired], { now: NOW, wide: true }).split(
      '\n',
    );
    const cells = (line: string) => line.split(/ {3,}/);
    assert.deepEqual(cells(head), [
      'NAME',
      'HOLDER',
      'STATUS',
      'AGE',
      'EXPIRES',
      'WAITING',
      'REASON',
      'USER',
      'HOST',
      'FENCE',
      'OWNER',
      'ACQUIRED',
      'NEXT',
    ]);
    assert.deepEqual(cells(first).slice(5), [
      '0',
      'schema v42',
      'alice',
      'laptop',
      '1234',
      '<none>',
      '2026-11-26T06:30:00Z',
      '<none>',
    ]);
    assert.deepEqual(cells(second).slice(5), [
      '0',
      '<none>',
      '<none>',
      'h2',
      '77',
      'pod/worker-7',
      '2026-11-24T03:35:00Z',
      '<none>',
    ]);
  });

  it('a lock without acquire time (Go library) shows its creation age', () => {
    const go = view({ holder: '', acquireTime: '', creationTimestamp: '2026-11-26T06:00:00Z', foreign: true });
    assert.match(
      renderLockTable([go], { now: NOW, noHeaders: true }),
      /^db-migrate {3}<none> {3}Held {3}35m {3}in 25m/,
    );
  });

  it('a Go library lock: holder pod/NAME, REASON marks who wrote it, ACQUIRED when it was created (-o wide)', () => {
    const go = view({
      holder: 'pod/worker-7',
      user: '',
      host: '',
      acquireTime: '2026-11-26T06:00:00Z',
      renewTime: '',
      reason: '',
      owner: 'pod/worker-7',
      labels: {},
      creationTimestamp: '2026-11-26T06:00:00Z',
      foreign: true,
    });
    const wide = renderLockTable([go], { now: NOW, wide: true, noHeaders: true });
    assert.deepEqual(wide.trimEnd().split(/ {3,}/), [
      'db-migrate',
      'pod/worker-7',
      'Held',
      '35m',
      'in 25m',
      '0',
      '<Go library>',
      '<none>',
      '<none>',
      '1234',
      'pod/worker-7',
      '2026-11-26T06:00:00Z',
      '<none>',
    ]);
  });

  it('hostile holder and reason are escaped: no forged rows, no escape sequences', () => {
    const text = renderLockTable([view({ holder: HOSTILE_ROW, reason: HOSTILE_CLEAR })], { now: NOW });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /^db-migrate {3}evil\\nNAME HOLDER {3}Held .* \\x1b\[2J$/);
    assert.ok(!text.includes('\u001b'));
  });
});

describe('-o json|yaml|name', () => {
  it('json: one object with exactly the LockView fields, in order, 2-space indent', () => {
    const text = renderLock(view(), 'json');
    assert.ok(text.startsWith('{\n  "name": "db-migrate",\n  "namespace": "default",'));
    assert.ok(text.endsWith('}\n'));
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), LOCK_VIEW_FIELDS);
    assert.deepEqual(parsed, view());
    assert.equal(typeof parsed['fence'], 'string');
  });

  it('a described lock prints the same fields (no uid, resourceVersion or events)', () => {
    const lock = described({ events: [{ type: 'Normal', reason: 'Acquired', message: 'x', count: 1 }] });
    assert.deepEqual(Object.keys(toLockObject(lock)), LOCK_VIEW_FIELDS);
    assert.equal(renderLock(lock, 'json'), renderLock(view(), 'json'));
  });

  it('yaml: the same object, kubectl layout, fence stays a string', () => {
    const text = renderLock(view(), 'yaml');
    assert.match(text, /^name: db-migrate\nnamespace: default\n/);
    assert.match(text, /^fence: "1234"$/m);
    assert.deepEqual(parseYaml(text), view());
  });

  it('ls: {"items": [...]} in json and yaml, cmlock/NAME a line', () => {
    const locks: LockView[] = [view(), expired];
    const json = JSON.parse(renderLockList(locks, 'json')) as { items: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(json), ['items']);
    assert.deepEqual(json.items, locks);
    assert.deepEqual(Object.keys(json.items[0] ?? {}), LOCK_VIEW_FIELDS);
    const yaml = renderLockList(locks, 'yaml');
    assert.match(yaml, /^items:\n- name: db-migrate\n {2}namespace: default\n/);
    assert.deepEqual(parseYaml(yaml), { items: locks });
    assert.equal(renderLockList(locks, 'name'), 'cmlock/db-migrate\ncmlock/drain\n');
    assert.equal(renderLock(view(), 'name'), 'cmlock/db-migrate\n');
    assert.equal(renderLockList([], 'json'), '{\n  "items": []\n}\n');
    assert.equal(renderLockList([], 'name'), '');
  });

  it('hostile strings: escaped in the text, unchanged in the data', () => {
    const hostile = view({ holder: HOSTILE_ROW, reason: `${HOSTILE_CLEAR}\u009b31m\u202e` });
    for (const format of ['json', 'yaml'] as const) {
      const text = renderLock(hostile, format);
      assert.ok(!['\u001b', '\u009b', '\u202e'].some((c) => text.includes(c)), format);
      const parsed: unknown = format === 'json' ? JSON.parse(text) : parseYaml(text);
      assert.deepEqual(parsed, hostile, format);
    }
    assert.match(renderLock(hostile, 'json'), /"holder": "evil\\nNAME HOLDER"/);
    assert.match(renderLock(hostile, 'yaml'), /^holder: "evil\\nNAME HOLDER"$/m);
    assert.match(renderLock(hostile, 'yaml'), /^reason: "\\e\[2J\\u009b31m\\u202e"$/m);
  });
});
