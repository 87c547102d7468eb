// src/main.ts as users run it: exit codes, one-line errors on stderr, data on stdout, and Ctrl-C.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configMap, FakeApiServer, sendJson, tempDir, writeKubeconfig } from '../kube/fake-server.ts';

const MAIN = resolve(import.meta.dirname, '../../../src/main.ts');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cmlock(
  args: string[],
  env: Record<string, string>,
  onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void,
) {
  return new Promise<Exit>((done) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, (s) => child.kill(s));
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('main', { concurrency: true }, () => {
  let dir = '';
  let server: FakeApiServer;
  let env: Record<string, string> = {};

  before(async () => {
    dir = tempDir();
    const expiresAt = String(Math.floor(Date.now() / 1000) + 3600);
    server = await FakeApiServer.start((req, res) => {
      if (req.query.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' }); // and never a word more
        return;
      }
      if (req.method === 'GET' && req.path.endsWith('/configmaps/db-migrate')) {
        sendJson(res, 200, configMap('db-migrate', { data: { holderIdentity: 'bob@h2', expiresAt } }));
        return;
      }
      sendJson(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
    });
    env = { HOME: dir, KUBECONFIG: writeKubeconfig(dir, { server: server.url, token: 't' }) };
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help: exit 0, help on stdout, nothing on stderr', async () => {
    const r = await cmlock(['--help'], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Examples:$/m);
    assert.equal(r.stderr, '');
  });

  it('version on stdout', async () => {
    assert.deepEqual(await cmlock(['version'], env), { code: 0, stdout: 'kubectl-cmlock v0.1.0\n', stderr: '' });
  });

  it('a usage error: exit 2, one error line and the hint, no usage dump', async () => {
    const r = await cmlock(['acquire', 'Foo_Bar'], env);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^error: invalid lock name "Foo_Bar": /);
    assert.equal(lines[1], "see 'kubectl cmlock acquire --help'");
  });

  it('-v 4 adds the stack trace', async () => {
    const r = await cmlock(['acquire', 'Foo_Bar', '-v', '4'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: invalid lock name/);
    assert.match(r.stderr, /\n {4}at /);
  });

  it('a configuration error: exit 1, one line', async () => {
    const r = await cmlock(['ls', '--kubeconfig', join(dir, 'missing')], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: [^\n]*\n$/);
  });

  it('someone else holds it, --timeout 0: exit 3 with who holds it', async () => {
    const r = await cmlock(['acquire', 'db-migrate', '--timeout', '0'], env);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^error: [^\n]*bob@h2[^\n]*\n$/);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} while waiting: exit ${code}, quietly`, async () => {
      let sent = false;
      const r = await cmlock(['wait', 'db-migrate'], env, (stderr, kill) => {
        if (!sent && stderr.includes('waiting for lock "db-migrate"')) {
          sent = true;
          kill(signal);
        }
      });
      assert.ok(sent, r.stderr);
      assert.equal(r.code, code);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, /error:/);
    });
  }
});
