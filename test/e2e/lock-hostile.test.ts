// Hostile holder strings: a reason with terminal escapes and a forged table row, and a holder record written by
// hand with newlines, an OSC title sequence and a bidi override. ls, describe and the "held by" error show them
// escaped (no raw control character reaches the terminal, no row can be forged); -o json keeps the exact text in
// JSON's own escapes. An --identity with control characters is refused before anything is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { cmlock, testNamespace, uniqueName } from './harness.ts';
import { applyConfigMap, assertErrorLine, cmlockOk, configMapNames, type LockJson } from './lock-helpers.ts';

const CLEAR = '\u001b[2J';
const REASON = `${CLEAR}evil\nNAME   HOLDER   STATUS\nforged   root   Held`;
const HOLDER = 'evil\nNAME\u001b]0;pwned\u0007\u202eredro';

/** Control characters that must never reach a terminal raw (newline excepted: it ends lines). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('hostile reasons and holders are shown escaped by ls, describe and errors; --identity refuses them', async (t) => {
  const ns = await testNamespace(t, 'hostile');
  const [byReason, byHolder] = [uniqueName('reason'), uniqueName('holder')];

  const refused = await cmlock(['acquire', byReason, '-n', ns, '--identity', `evil${CLEAR}`]);
  assertErrorLine(refused, 2, /^error: --identity must not contain control characters/);
  assert.deepEqual(await configMapNames(ns), [], 'nothing written');

  await cmlockOk(['acquire', byReason, '-n', ns, '--identity', 'alice-ops', '--ttl', '10m', '--reason', REASON]);
  // A record written by hand (or by an older, careless tool).
  await applyConfigMap(ns, {
    metadata: { name: byHolder, labels: { 'app.kubernetes.io/managed-by': 'kubectl-cmlock' } },
    data: {
      holderIdentity: HOLDER,
      host: 'h\r\nost',
      renewTime: new Date().toISOString(),
      acquireTime: new Date().toISOString(),
      leaseDurationSeconds: '600',
      reason: 'x\u009b31m',
    },
  });

  const [table, wide, described, describedHolder, held, json, yaml] = await Promise.all([
    cmlockOk(['ls', '-n', ns]),
    cmlockOk(['ls', '-n', ns, '-o', 'wide']),
    cmlockOk(['describe', byReason, '-n', ns]),
    cmlockOk(['describe', byHolder, '-n', ns]),
    cmlock(['acquire', byHolder, '-n', ns, '--identity', 'bob', '--timeout', '0']),
    cmlockOk(['ls', '-n', ns, '-o', 'json']),
    cmlockOk(['ls', '-n', ns, '-o', 'yaml']),
  ]);

  for (const [what, text] of [
    ['ls', table.stdout],
    ['ls -o wide', wide.stdout],
    ['describe', described.stdout],
    ['describe (holder)', describedHolder.stdout],
    ['held error', held.stderr],
    ['ls -o json', json.stdout],
    ['ls -o yaml', yaml.stdout],
  ] as const) {
    assert.doesNotMatch(text, RAW_CONTROL, `${what}: no raw control character:\n${JSON.stringify(text)}`);
  }

  // The table: a header and exactly one line per lock; the reason and holder escaped in their cells.
  const lines = table.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 3, `no forged rows:\n${table.stdout}`);
  assert.ok(!lines.some((l) => /^forged\s/.test(l)));
  assert.ok(table.stdout.includes('\\x1b[2Jevil\\nNAME   HOLDER   STATUS\\nforged   root   Held'), table.stdout);
  assert.ok(table.stdout.includes('evil\\nNAME\\x1b]0;pwned\\x07\\u202eredro'), table.stdout);
  assert.equal(wide.stdout.split('\n').filter((l) => l !== '').length, 3);
  assert.ok(wide.stdout.includes('h\\r\\nost'), wide.stdout);

  assert.match(described.stdout, /^Reason:\s+\\x1b\[2Jevil\\nNAME {3}HOLDER {3}STATUS\\nforged {3}root {3}Held$/m);
  const event = described.stdout.split('\n').find((l) => /^\s+Normal\s+Acquired\s/.test(l)) ?? '';
  assert.ok(event.includes('reason "\\x1b[2Jevil\\nNAME'), `the Acquired event, escaped: ${event}`);
  assert.match(describedHolder.stdout, /^Holder:\s+evil\\nNAME\\x1b\]0;pwned\\x07\\u202eredro$/m);
  assert.match(describedHolder.stdout, /^Host:\s+h\\r\\nost$/m);
  assert.match(describedHolder.stdout, /^Reason:\s+x\\x9b31m$/m);

  assertErrorLine(held, 3, /^error: lock "[^"]+" is held by evil\\nNAME\\x1b\]0;pwned\\x07\\u202eredro since /);

  // Machine formats keep the exact text, in the format's own escapes.
  const items = (JSON.parse(json.stdout) as { items: LockJson[] }).items;
  const fromYaml = (parse(yaml.stdout) as { items: LockJson[] }).items;
  for (const list of [items, fromYaml]) {
    assert.equal(list.find((i) => i.name === byReason)?.reason, REASON);
    assert.equal(list.find((i) => i.name === byHolder)?.holder, HOLDER);
    assert.equal(list.find((i) => i.name === byHolder)?.host, 'h\r\nost');
  }
});
