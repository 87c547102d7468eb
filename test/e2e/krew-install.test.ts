// Installs the plugin as a user would, with Krew (built from the Go module proxy by scripts/build-krew.ts,
// cached), from plugins/cmlock.yaml and the release archive that `npm run build:binary` wrote, into a
// temporary KREW_ROOT, then runs the installed executable through kubectl with no Node.js anywhere on PATH.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { ensureKrew } from '../../scripts/build-krew.ts';
import { archiveName, releaseDir, substitutes, targetName, targets, version } from '../../scripts/packaging/config.ts';
import { indexEntry, sha256File } from '../../scripts/packaging/krew.ts';
import { clusterKubeconfig, collect, testNamespace, uniqueName, type RunResult } from './harness.ts';

interface ManifestPlatform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
}

const linuxAmd64 = targets.find((t) => targetName(t) === 'linux-amd64');
const archiveFor = (os: string, arch: string): string => {
  const built = substitutes[`${os}-${arch}`] ?? `${os}-${arch}`;
  const t = targets.find((x) => targetName(x) === built);
  assert.ok(t, `no build for ${os}-${arch}`);
  return join(releaseDir, archiveName(t));
};

const kubectlPath = realpathSync(spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim());

/**
 * A user's machine without Node.js: PATH holds only $KREW_ROOT/bin and a directory with kubectl and
 * kubectl-krew. (The harness's sealed PATH ends in /usr/bin:/bin, which on Debian holds a `node`.)
 */
class KrewUser {
  readonly root = mkdtempSync(join(tmpdir(), 'cmlock-krew-'));
  readonly krewRoot = join(this.root, 'krew');
  readonly tools = join(this.root, 'tools');
  readonly home = join(this.root, 'home');

  constructor(krewDir: string) {
    mkdirSync(this.tools);
    mkdirSync(this.home);
    symlinkSync(kubectlPath, join(this.tools, 'kubectl'));
    symlinkSync(join(krewDir, 'kubectl-krew'), join(this.tools, 'kubectl-krew'));
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: [join(this.krewRoot, 'bin'), this.tools].join(':'),
      HOME: this.home,
      KREW_ROOT: this.krewRoot,
      KREW_NO_UPGRADE_CHECK: '1',
      LANG: 'C.UTF-8',
      ...extra,
    };
  }

  run(cmd: string, args: string[], extra: Record<string, string> = {}, timeoutMs = 120_000): Promise<RunResult> {
    return collect(spawn(cmd, args, { env: this.env(extra), stdio: ['pipe', 'pipe', 'pipe'] }), timeoutMs);
  }

  install(archive: string, extra: Record<string, string> = {}): Promise<RunResult> {
    return this.run('kubectl', ['krew', 'install', `--manifest=${indexEntry}`, `--archive=${archive}`], extra);
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

describe('installed with Krew', { timeout: 15 * 60_000 }, () => {
  let krewDir = '';
  let user: KrewUser;
  let installed: RunResult;

  before(async () => {
    assert.ok(linuxAmd64);
    const archive = join(releaseDir, archiveName(linuxAmd64));
    assert.ok(existsSync(archive), `${archive} is missing: run \`npm run build:binary\` first`);
    assert.ok(existsSync(indexEntry), `${indexEntry} is missing: run \`npm run build:binary\` first`);
    krewDir = await ensureKrew();
    user = new KrewUser(krewDir);
    installed = await user.install(archive);
  });
  after(() => user?.dispose());

  test('plugins/cmlock.yaml carries the sha256 of every archive in dist/release', () => {
    const manifest = parse(readFileSync(indexEntry, 'utf8')) as {
      spec: { version: string; platforms: ManifestPlatform[] };
    };
    assert.equal(manifest.spec.version, `v${version}`);
    for (const p of manifest.spec.platforms) {
      const { os, arch } = p.selector.matchLabels;
      const archive = archiveFor(os, arch);
      assert.ok(p.uri.endsWith(`/${basename(archive)}`), `${os}/${arch}: uri ${p.uri} names another archive`);
      assert.equal(p.sha256, sha256File(archive), `${os}/${arch}: stale sha256, run \`npm run build:binary\``);
    }
  });

  test('the sealed PATH has no node', () => {
    const r = spawnSync('/bin/sh', ['-c', 'command -v node'], { env: user.env() });
    assert.notEqual(r.status, 0, `node found on the sealed PATH: ${String(r.stdout)}`);
  });

  test('kubectl krew install --manifest --archive installs a regular executable', () => {
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stderr + installed.stdout, /Installed plugin: cmlock/);
    const link = join(user.krewRoot, 'bin', 'kubectl-cmlock');
    assert.ok(lstatSync(link).isSymbolicLink());
    const target = realpathSync(link);
    assert.ok(target.startsWith(join(user.krewRoot, 'store', 'cmlock', `v${version}`)), target);
    assert.ok(lstatSync(target).isFile());
    assert.ok(existsSync(join(user.krewRoot, 'store', 'cmlock', `v${version}`, 'LICENSE')));
    const notices = readFileSync(join(user.krewRoot, 'store', 'cmlock', `v${version}`, 'THIRD_PARTY_NOTICES'), 'utf8');
    for (const name of ['Node.js', '@kubernetes/client-node', 'yaml', 'yargs', 'string-width']) {
      assert.match(notices, new RegExp(`^${name} `, 'm'), `THIRD_PARTY_NOTICES names ${name}`);
    }
  });

  test('kubectl cmlock version and --help run the installed executable', async () => {
    const v = await user.run('kubectl', ['cmlock', 'version'], { NODE_OPTIONS: '--require=/nonexistent.js' });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, new RegExp(version.replaceAll('.', '\\.')));
    assert.equal(v.stderr, '');
    const h = await user.run('kubectl', ['cmlock', '--help']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /kubectl cmlock/);
  });

  test('every platform entry validates and installs its archive (KREW_OS/KREW_ARCH)', async () => {
    const manifest = parse(readFileSync(indexEntry, 'utf8')) as { spec: { platforms: ManifestPlatform[] } };
    for (const p of manifest.spec.platforms) {
      const { os, arch } = p.selector.matchLabels;
      const other = new KrewUser(krewDir);
      try {
        const r = await other.install(archiveFor(os, arch), { KREW_OS: os, KREW_ARCH: arch });
        assert.equal(r.code, 0, `${os}/${arch}: ${r.stderr}`);
        const exe = os === 'windows' ? 'kubectl-cmlock.exe' : 'kubectl-cmlock';
        assert.ok(lstatSync(realpathSync(join(other.krewRoot, 'bin', exe))).isFile(), `${os}/${arch}: no ${exe}`);
      } finally {
        other.dispose();
      }
    }
  });

  test('acquire, ls and release against the cluster through the Krew-installed executable', async (t) => {
    const ns = await testNamespace(t);
    const lock = uniqueName('krew');
    const env = { KUBECONFIG: clusterKubeconfig() };
    const cmlock = (...args: string[]): Promise<RunResult> =>
      user.run('kubectl', ['cmlock', '--context', 'locker', '-n', ns, ...args], env, 60_000);

    const acquired = await cmlock('acquire', lock, '--ttl', '5m');
    assert.equal(acquired.code, 0, acquired.stderr);
    const listed = await cmlock('ls');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${lock}\\s`, 'm'));
    const released = await cmlock('release', lock);
    assert.equal(released.code, 0, released.stderr);
    // Released means free: taking it again succeeds at once.
    const again = await cmlock('acquire', lock, '--ttl', '5m');
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await cmlock('release', lock)).code, 0);
  });
});
