// THIRD_PARTY_NOTICES: which packages a bundle holds (from esbuild's metafile), and the file itself.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Metafile } from 'esbuild';
import { bundledPackages, packageDirOf, renderNotices } from '../../../scripts/packaging/notices.ts';

/** A metafile whose one output holds `inputs` with the given byte counts. */
function meta(inputs: Record<string, number>): Metafile {
  const outputInputs = Object.fromEntries(Object.entries(inputs).map(([f, n]) => [f, { bytesInOutput: n }]));
  return {
    inputs: {},
    outputs: { 'dist/x.cjs': { bytes: 1, inputs: outputInputs, imports: [], exports: [] } },
  } as unknown as Metafile;
}

describe('packageDirOf', () => {
  const cases: [string, string | undefined][] = [
    ['node_modules/yargs/build/lib/yargs-factory.js', 'node_modules/yargs'],
    ['node_modules/@kubernetes/client-node/dist/config.js', 'node_modules/@kubernetes/client-node'],
    ['node_modules/cliui/node_modules/string-width/index.js', 'node_modules/cliui/node_modules/string-width'],
    ['cmlock-string-width:node_modules/string-width/index.js', 'node_modules/string-width'],
    ['src/main.ts', undefined],
    ['deferred:@kubernetes/client-node', undefined],
  ];
  for (const [input, dir] of cases) test(input, () => assert.equal(packageDirOf(input), dir));
});

describe('bundledPackages', () => {
  test('each package once, with its licence file; emptied inputs and our sources do not count', () => {
    const packages = bundledPackages([
      meta({
        'node_modules/yargs/build/lib/yargs-factory.js': 100,
        'node_modules/yargs/build/lib/command.js': 50,
        'node_modules/yaml/dist/index.js': 10,
        'node_modules/ws/index.js': 0, // tree-shaken away
        'src/main.ts': 10,
      }),
      meta({ 'node_modules/@kubernetes/client-node/dist/config.js': 10 }),
    ]);
    assert.deepEqual(
      packages.map((p) => `${p.name} ${p.license}`),
      ['@kubernetes/client-node Apache-2.0', 'yaml ISC', 'yargs MIT'],
    );
    for (const p of packages) assert.ok((p.text ?? '').length > 100, `${p.name} has its licence text`);
  });
});

describe('renderNotices', () => {
  test('a list first, then Node.js and every package with its licence', () => {
    const text = renderNotices('26.10.0', 'Node.js is licensed for use as follows: ...', [
      { name: 'a', version: '1.0.0', license: 'MIT', text: 'MIT License, a' },
      { name: 'b', version: '2.0.0', license: 'ISC' },
    ]);
    const [list = '', ...sections] = text.split(`${'-'.repeat(78)}\n`);
    assert.match(list, /^kubectl-cmlock contains .*\n\nNode\.js 26\.10\.0\na 1\.0\.0 \(MIT\)\nb 2\.0\.0 \(ISC\)\n/);
    assert.match(text, /Node\.js 26\.10\.0\n-+\n\nNode\.js is licensed for use as follows/);
    assert.match(text, /a 1\.0\.0 \(MIT\)\n-+\n\nMIT License, a/);
    assert.match(text, /b 2\.0\.0 \(ISC\)\n-+\n\nLicensed under ISC; the package ships no licence file\./);
    assert.ok(sections.length >= 3);
    assert.ok(text.endsWith('\n'));
  });
});
