// THIRD_PARTY_NOTICES for the release archives. The executable carries Node.js and every npm package the
// bundles inlined; their licences (MIT, ISC, Apache-2.0, BSD...) ask that their notices travel with copies.
// The list is read from esbuild's metafiles, so it is exactly what was bundled, and sorted, so that archives
// stay reproducible.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { repoRoot } from './config.ts';

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  /** The package's own licence file, if it has one. */
  text?: string;
}

/** node_modules/a/node_modules/@b/c/lib/x.js → node_modules/a/node_modules/@b/c (the innermost package). */
export function packageDirOf(input: string): string | undefined {
  const path = input.replace(/^[\w-]+:/, ''); // plugin namespaces, e.g. cmlock-string-width:node_modules/...
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path);
  return match?.[1];
}

function licenceText(dir: string): string | undefined {
  const file = readdirSync(dir)
    .filter((f) => /^(licen[cs]e|copying)([-.][\w.-]*)?$/i.test(f)) // LICENSE, LICENSE.md, LICENSE-MIT.txt
    .sort()[0];
  return file === undefined ? undefined : readFileSync(join(dir, file), 'utf8').trim();
}

/**
 * Every npm package with code in the given bundles (inputs that tree-shaking emptied do not count), once each,
 * sorted by name and version.
 */
export function bundledPackages(metafiles: readonly Metafile[], root = repoRoot): BundledPackage[] {
  const dirs = new Set<string>();
  for (const meta of metafiles) {
    for (const output of Object.values(meta.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const dir = packageDirOf(input);
        if (dir !== undefined && bytesInOutput > 0) dirs.add(dir);
      }
    }
  }
  const byKey = new Map<string, BundledPackage>();
  for (const dir of dirs) {
    const abs = join(root, dir);
    const manifest = JSON.parse(readFileSync(join(abs, 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
      license?: string;
    };
    const pkg: BundledPackage = {
      name: manifest.name ?? dir,
      version: manifest.version ?? '?',
      license: manifest.license ?? 'see the package',
      text: licenceText(abs),
    };
    byKey.set(`${pkg.name}@${pkg.version}`, pkg);
  }
  return [...byKey.values()].sort((a, b) =>
    a.name === b.name ? a.version.localeCompare(b.version) : a.name.localeCompare(b.name),
  );
}

/** The notices file: Node.js first (its LICENSE covers what it bundles), then every npm package. */
export function renderNotices(nodeVersion: string, nodeLicense: string, packages: readonly BundledPackage[]): string {
  const rule = '-'.repeat(78);
  const parts = [
    'kubectl-cmlock contains the following third-party software. Their licences follow.',
    '',
    `Node.js ${nodeVersion}`,
    ...packages.map((p) => `${p.name} ${p.version} (${p.license})`),
  ];
  const sections = [
    `${rule}\nNode.js ${nodeVersion}\n${rule}\n\n${nodeLicense.trim()}`,
    ...packages.map(
      (p) =>
        `${rule}\n${p.name} ${p.version} (${p.license})\n${rule}\n\n` +
        (p.text ?? `Licensed under ${p.license}; the package ships no licence file.`),
    ),
  ];
  return `${parts.join('\n')}\n\n${sections.join('\n\n')}\n`;
}

/** Reads the metafiles that bundle() wrote next to each output; a missing one is an error, not a shorter list. */
export function readMetafiles(outputs: readonly string[]): Metafile[] {
  return outputs.map((file) => JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')) as Metafile);
}
