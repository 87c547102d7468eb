// src/main.ts as users run it: exit codes, one-line errors on stderr, data on stdout, and Ctrl-C.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ServerResponse } from 'node:http';
import {
  configMap,
  FakeApiServer,
  sendJson,
  sendStatus,
  tempDir,
  writeKubeconfig,
  type Recorded,
} from '../kube/fake-server.ts';

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

type Stored = { metadata: Record<string, unknown> } & Record<string, unknown>;
/**
 * Free locks (every name but db-migrate): create, read, update (a lock created outside a Pod is made its own owner)
 * and delete, enough for `run` to take and give one back.
 */
const locks = new Map<string, Stored>();
let revision = 200;

function lockStore(req: Recorded, res: ServerResponse): boolean {
  const m = /^\/api\/v1\/namespaces\/default\/configmaps(?:\/([^/]+))?$/.exec(req.path);
  if (m === null) return false;
  const name = m[1];
  if (req.method === 'POST' && name === undefined) {
    const body = JSON.parse(req.body) as Stored;
    const created = String(body.metadata['name']);
    const meta = { namespace: 'default', uid: `uid-${created}`, creationTimestamp: new Date().toISOString() };
    body.metadata = { ...body.metadata, ...meta, resourceVersion: String(++revision) };
    locks.set(created, body);
    sendJson(res, 201, body);
    return true;
  }
  const lock = name === undefined ? undefined : locks.get(name);
  if (name === undefined || lock === undefined) return false;
  if (req.method === 'GET') sendJson(res, 200, lock);
  else if (req.method === 'PUT') {
    const body = JSON.parse(req.body) as Stored;
    if (body.metadata['resourceVersion'] !== lock.metadata['resourceVersion']) return false;
    body.metadata = { ...lock.metadata, ...body.metadata, resourceVersion: String(++revision) };
    locks.set(name, body);
    sendJson(res, 200, body);
  } else if (req.method === 'DELETE') {
    locks.delete(name);
    sendJson(res, 200, { kind: 'Status', status: 'Success' });
  } else return false;
  return true;
}

/** A CMD (node) that says "ready" on stderr, and on each signal prints it; exits with `code` after `count`. */
function trappingCmd(signal: NodeJS.Signals, code: number, count = 1): string[] {
  const script = `let n = 0; process.on('${signal}', () => { console.log('got ${signal}'); console.error('handled'); if (++n === ${count}) process.exit(${code}); }); console.error('ready'); setInterval(() => {}, 1000);`;
  return [process.execPath, '-e', script];
}

describe('main', { concurrency: true }, () => {
  let dir = '';
  let server: FakeApiServer;
  let env: Record<string, string> = {};

  before(async () => {
    dir = tempDir();
    const expiresAt = String(Math.floor(Date.now() / 1000) + 3600);
    server = await FakeApiServer.start((req, res) => {
      if (req.query.get('watch') === 'true' || req.query.get('watch') === '1') {
        res.writeHead(200, { 'content-type': 'application/json' }); // and never a word more
        return;
      }
      if (req.path.endsWith('/configmaps/db-migrate') || (req.method === 'POST' && req.body.includes('"db-migrate"'))) {
        if (req.method === 'GET') {
          sendJson(res, 200, configMap('db-migrate', { data: { holderIdentity: 'bob@h2', expiresAt } }));
        } else sendStatus(res, 409, 'AlreadyExists', 'configmaps "db-migrate" already exists');
        return;
      }
      if (lockStore(req, res)) return;
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

  for (const [signal, code] of [
    ['SIGTERM', 7],
    ['SIGINT', 8],
    ['SIGHUP', 9],
  ] as const) {
    it(`run: ${signal} goes to CMD, not to cmlock; CMD's code, the lock released`, async () => {
      const name = `run-${signal.toLowerCase()}`;
      let sent = false;
      const r = await cmlock(['run', name, '--', ...trappingCmd(signal, code)], env, (stderr, kill) => {
        if (!sent && stderr.includes('ready')) {
          sent = true;
          kill(signal);
        }
      });
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stdout, `got ${signal}\n`);
      assert.equal(r.stderr, 'ready\nhandled\n');
      assert.equal(locks.has(name), false, 'released');
    });
  }

  it('run: a second SIGINT is forwarded too, not "interrupted again"', async () => {
    let sent = 0;
    const r = await cmlock(['run', 'run-twice', '--', ...trappingCmd('SIGINT', 3, 2)], env, (stderr, kill) => {
      // The first once CMD is ready, the second once CMD has handled the first.
      const wanted = stderr.includes('handled') ? 2 : stderr.includes('ready') ? 1 : 0;
      for (; sent < wanted; sent++) kill('SIGINT');
    });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'got SIGINT\ngot SIGINT\n');
    assert.doesNotMatch(r.stderr, /error:/);
  });

  it('run: SIGINT while waiting for the lock ends it quietly with 130; CMD never runs', async () => {
    let sent = false;
    const r = await cmlock(
      ['run', 'db-migrate', '--', process.execPath, '-e', 'console.log("ran")'],
      env,
      (stderr, kill) => {
        if (!sent && stderr.includes('waiting for lock "db-migrate"')) {
          sent = true;
          kill('SIGINT');
        }
      },
    );
    assert.ok(sent, r.stderr);
    assert.equal(r.code, 130);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /error:/);
  });
});
