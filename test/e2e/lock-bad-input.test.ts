// Bad input: invalid names, durations, labels, flags, a kubeconfig that does not exist, an unknown context. Each
// is one `error: ...` line with exit 2 (usage) or 1 (configuration), and nothing is written to the cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmlock, kubectlOk, testNamespace, type RunResult } from './harness.ts';
import { assertErrorLine, cmlockOk, configMapNames, getConfigMap, show } from './lock-helpers.ts';

/** Runs `work` over `items`, at most `limit` at a time (each case is a process; the CI machine has 2 cores). */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

test('bad names, durations, labels, flags, kubeconfig and context: exit 2 or 1, one line, nothing written', async (t) => {
  const ns = await testNamespace(t, 'bad');
  const cases: [string[], number, RegExp][] = [
    [['acquire', 'Foo_Bar'], 2, /^error: invalid lock name "Foo_Bar": must be a DNS-1123 subdomain/],
    [['acquire', 'a'.repeat(254)], 2, /^error: invalid lock name "a{254}": .*at most 253 characters/],
    [['release', 'Foo_Bar', '--force'], 2, /^error: invalid lock name "Foo_Bar"/],
    [['renew', '-bad-'], 2, /^error: /],
    [['acquire', 'x', '--ttl', '30'], 2, /^error: invalid argument "30" for "--ttl" flag: use Go syntax like 30s, 5m/],
    [['acquire', 'x', '--ttl', '5minutes'], 2, /^error: invalid argument "5minutes" for "--ttl" flag/],
    [['acquire', 'x', '--ttl', '-5s'], 2, /^error: invalid argument "-5s" for "--ttl" flag: must not be negative/],
    [['acquire', 'x', '--timeout', 'soon'], 2, /^error: invalid argument "soon" for "--timeout" flag/],
    [['renew', 'x', '--ttl', '1h30'], 2, /^error: invalid argument "1h30" for "--ttl" flag/],
    [['acquire', 'x', '-l', 'a b=c'], 2, /^error: invalid label key "a b"/],
    [['acquire', 'x', '-l', 'team'], 2, /^error: invalid label "team": use key=value/],
    [['acquire', 'x', '-l', 'team=a/b'], 2, /^error: invalid value "a\/b" for label "team"/],
    [
      ['acquire', 'x', '-l', 'app.kubernetes.io/managed-by=me'],
      2,
      /^error: label "app.kubernetes.io\/managed-by" is set by kubectl-cmlock/,
    ],
    [['acquire', 'x', '--bogus'], 2, /^error: unknown flag: --bogus$/],
    [['acquire', 'x', '-o', 'table'], 2, /^error: unable to match a printer suitable for the output format "table"/],
    [['acquire', 'x', 'y'], 2, /^error: /],
    [['acquire', 'x', '--identity', 'evil\u001b[2J'], 2, /^error: --identity must not contain control characters/],
    [['acquire', 'x', '--identity', ''], 2, /^error: --identity must not be empty/],
    [
      ['acquire', 'x', '--request-timeout', 'never'],
      2,
      /^error: invalid argument "never" for "--request-timeout" flag/,
    ],
    [
      ['acquire', 'x', '--kubeconfig', '/nonexistent/kubeconfig'],
      1,
      /^error: kubeconfig "\/nonexistent\/kubeconfig" not found/,
    ],
    [['acquire', 'x', '--context', 'nope'], 1, /^error: context "nope" not found in kubeconfig/],
    [['release', 'x', '--force', '--context', 'nope'], 1, /^error: context "nope" not found/],
  ];
  const results = await mapLimit(cases, 4, ([args]) => cmlock([...args, '-n', ns]));
  for (const [i, r] of results.entries()) {
    const [args, code, pattern] = cases[i] ?? [[], 0, /$^/];
    try {
      const line = assertErrorLine(r, code, pattern);
      assert.ok(!line.includes('\u001b'), 'the error line is escaped');
    } catch (err) {
      throw new Error(`kubectl cmlock ${JSON.stringify(args)}: ${(err as Error).message}`, { cause: err });
    }
  }
  assert.deepEqual(await configMapNames(ns), [], 'no ConfigMap was written');
  assert.equal((await kubectlOk(['get', 'events', '-n', ns, '-o', 'name'])).trim(), '', 'no Event was written');
});

test('the longest valid name (253 characters) works: the 254-character refusal is the rule, not a failure', async (t) => {
  const ns = await testNamespace(t, 'bad');
  const name = 'a'.repeat(253);
  const r = await cmlockOk(['acquire', name, '-n', ns, '--ttl', '1m']);
  assert.match(r.stdout, /^acquired lock "a{253}"/);
  assert.ok(await getConfigMap(ns, name));
  await cmlockOk(['release', name, '-n', ns]);
});

test('flags may come before the lock name, as with kubectl (-l takes one value)', async (t) => {
  const ns = await testNamespace(t, 'bad');
  const r: RunResult = await cmlock(['acquire', '-l', 'team=db', 'labelled', '-n', ns]);
  assert.equal(r.code, 0, show(r));
  const cm = await getConfigMap(ns, 'labelled');
  assert.equal(cm?.metadata.labels?.['team'], 'db');
});
