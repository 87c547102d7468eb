import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CmlockError } from '../../../src/errors.ts';
import { oneLine, redact, Redactor } from '../../../src/kube/redact.ts';
import type { KubeSession } from '../../../src/kube/types.ts';
import { FakeApiServer, sendJson, sendStatus, sessionFor, tempDir } from './fake-server.ts';

const TOKEN = 'kc-token-SECRET-4f9a8b7c6d5e4f3a2b1c';
const EXEC_TOKEN = 'exec-token-SECRET-9e8d7c6b5a4f3e2d1c0b';

describe('redact()', () => {
  test('known secrets and credential-shaped text', () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----';
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl';
    const text = [
      `known ${TOKEN}`,
      'Authorization: Bearer abc.def-ghi',
      '"authorization":"Basic dXNlcjpwYXNz"',
      `key ${pem}`,
      `jwt ${jwt}`,
      'token: plain-token-value',
      'password=hunter2hunter2',
    ].join('\n');
    const out = redact(text, [TOKEN]);
    for (const secret of [
      TOKEN,
      'abc.def-ghi',
      'dXNlcjpwYXNz',
      'MHcCAQEEIB',
      jwt,
      'plain-token-value',
      'hunter2hunter2',
    ]) {
      assert.ok(!out.includes(secret), `${secret} leaked in: ${out}`);
    }
    assert.match(out, /Bearer \[REDACTED\]/);
  });

  test('ordinary messages are left alone', () => {
    const text = 'forbidden: user "alice" cannot create configmaps in namespace "default"';
    assert.equal(redact(text, ['alice']), text, 'too short to be a secret');
  });

  test('a Redactor learns "Bearer x" as x too', () => {
    const r = new Redactor();
    r.add(`Bearer ${EXEC_TOKEN}`);
    assert.equal(r.redact(`got ${EXEC_TOKEN}`), 'got [REDACTED]');
  });

  test('oneLine flattens and escapes control characters', () => {
    assert.equal(oneLine('a\n  b\u001b[2Jc'), 'a b\\x1b[2Jc');
    assert.equal(oneLine('x'.repeat(400)).length, 300);
  });
});

/** Every request answers with something that echoes the request's credentials back. */
function echoingHandler(
  req: Parameters<FakeApiServer['handler']>[0],
  res: Parameters<FakeApiServer['handler']>[1],
): void {
  const auth = String(req.headers.authorization);
  const echo = `request headers: Authorization: ${auth}; raw ${auth.replace(/^Bearer /, '')}`;
  const name = req.path.split('/').pop() ?? '';
  switch (name) {
    case 'four01':
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': auth });
      res.end(JSON.stringify({ kind: 'Status', code: 401, reason: 'Unauthorized', message: echo }));
      return;
    case 'four03':
      return sendStatus(res, 403, 'Forbidden', `User "x" cannot get resource "configmaps": ${echo}`);
    case 'five00':
      return sendStatus(res, 500, 'InternalError', echo, {}, { 'x-echo': auth });
    case 'four22':
      return sendStatus(res, 422, 'Invalid', echo);
    case 'selfsubjectreviews':
      return sendStatus(res, 500, 'InternalError', echo);
    default:
      if (req.query.get('watch')) return sendStatus(res, 403, 'Forbidden', echo);
      return sendJson(res, 200, { kind: 'Status', message: echo });
  }
}

async function exerciseEverything(session: KubeSession): Promise<string[]> {
  const seen: string[] = [];
  const store = session.store();
  const lock = { name: 'five00', labels: {}, data: { k: 'v' }, ownerReferences: [] };
  const attempts: (() => Promise<unknown>)[] = [
    () => store.get('four01'),
    () => store.get('four03'),
    () => store.get('five00'),
    () => store.create({ ...lock, name: 'four22' }),
    () => store.update(lock, '1'),
    () => store.delete('five00', { uid: 'u', resourceVersion: '1' }),
    async () => {
      for await (const e of store.watch('w', '1')) seen.push(JSON.stringify(e));
    },
    () => session.whoAmI(),
    () =>
      store.recordEvent(
        { ...lock, namespace: 'default', uid: 'u', resourceVersion: '1' },
        { reason: 'R', message: 'm' },
      ),
  ];
  for (const attempt of attempts) {
    try {
      await attempt();
    } catch (err) {
      assert.ok(err instanceof CmlockError, `unmapped error: ${String(err)}`);
      seen.push(err.message, String(err), err.stack ?? '', JSON.stringify(err));
    }
  }
  return seen;
}

describe('no credential ever reaches a message or a log line', () => {
  let server: FakeApiServer;
  before(async () => {
    server = await FakeApiServer.start(echoingHandler);
  });
  after(async () => {
    await server.close();
  });

  test('kubeconfig token, with 401/403/422/500 bodies and headers that echo it', async () => {
    const { session, logs } = sessionFor(server.url, { token: TOKEN });
    const seen = await exerciseEverything(session);
    assert.ok(
      server.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`),
      'the token was sent',
    );
    assert.ok(logs.length > 5, 'verbose logging was on');
    assert.ok(seen.length >= 6, 'errors were produced');
    for (const line of [...seen, ...logs]) assert.ok(!line.includes(TOKEN), `token leaked: ${line}`);
  });

  test('a token minted by an exec plugin (never in the kubeconfig) is redacted too', async () => {
    const dir = tempDir();
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${EXEC_TOKEN}"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const { session, logs } = sessionFor(server.url, {
      kubeconfig: {
        server: server.url,
        user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin } },
      },
    });
    server.requests.length = 0;
    const seen = await exerciseEverything(session);
    assert.equal(server.requests[0]?.headers.authorization, `Bearer ${EXEC_TOKEN}`);
    for (const line of [...seen, ...logs]) assert.ok(!line.includes(EXEC_TOKEN), `token leaked: ${line}`);
  });

  for (const [name, script, expected] of [
    [
      'fails, printing a token on stderr',
      `echo "token ${EXEC_TOKEN} expired" >&2\nexit 1`,
      /exec plugin ".*plugin\.sh" failed; run it yourself/,
    ],
    [
      'prints garbage with the token in it',
      `echo "not json ${EXEC_TOKEN}"`,
      /exec plugin ".*plugin\.sh" printed something that is not an ExecCredential/,
    ],
  ] as const) {
    test(`an exec plugin that ${name}: one line naming the command, without its output`, async () => {
      const dir = tempDir();
      const plugin = join(dir, 'plugin.sh');
      writeFileSync(plugin, `#!/bin/sh\n${script}\n`);
      chmodSync(plugin, 0o755);
      const { session, logs } = sessionFor(server.url, {
        kubeconfig: {
          server: server.url,
          user: { exec: { command: plugin, env: [{ name: 'PLUGIN_SECRET', value: 'env-secret-value-123456' }] } },
        },
      });
      server.requests.length = 0;
      await assert.rejects(session.store().get('x'), (err: unknown) => {
        assert.ok(err instanceof CmlockError);
        assert.match(err.message, /^cannot get credentials for context "test": /);
        assert.match(err.message, expected);
        assert.ok(!err.message.includes(EXEC_TOKEN));
        assert.ok(!err.message.includes('env-secret-value'));
        assert.ok(!err.message.includes('\n'));
        return true;
      });
      assert.equal(server.requests.length, 0, 'nothing was sent');
      for (const line of logs) assert.ok(!line.includes(EXEC_TOKEN));
    });
  }

  test('an exec plugin that is not installed', async () => {
    const { session } = sessionFor(server.url, {
      kubeconfig: { server: server.url, user: { exec: { command: 'no-such-plugin-cmlock' } } },
    });
    await assert.rejects(session.store().get('x'), {
      message:
        'cannot get credentials for context "test": exec plugin "no-such-plugin-cmlock" not found (is it installed and on PATH?)',
    });
  });

  test('a 401 with exec credentials re-runs the plugin once (cached tokens go stale)', async () => {
    const dir = tempDir();
    const counter = join(dir, 'count');
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho x >> "${counter}"\nn=$(wc -l < "${counter}")\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token-number-'$n'"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const seenTokens: string[] = [];
    server.handler = (req, res) => {
      seenTokens.push(String(req.headers.authorization));
      if (req.headers.authorization === 'Bearer exec-token-number-1')
        sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
      else sendJson(res, 200, { kind: 'ConfigMap', metadata: { name: 'x', uid: 'u', resourceVersion: '1' } });
    };
    try {
      const { session } = sessionFor(server.url, {
        kubeconfig: { server: server.url, user: { exec: { command: plugin } } },
      });
      const { value } = await session.store().get('x');
      assert.equal(value?.name, 'x');
      assert.deepEqual(seenTokens, ['Bearer exec-token-number-1', 'Bearer exec-token-number-2']);
    } finally {
      server.handler = echoingHandler;
    }
  });
});
