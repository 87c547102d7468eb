// The e2e fault-injecting proxy, proven mode by mode against a local echo server.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parse } from 'yaml';
import { kubeconfigThroughProxy, startFaultProxy, type FaultProxy } from '../../e2e/fault-proxy.ts';

/** Echoes everything; counts connections and bytes it received. */
interface Echo {
  server: Server;
  port: number;
  connections: number;
  received: number;
  sockets: Set<Socket>;
}

async function startEcho(): Promise<Echo> {
  const echo: Echo = { server: createServer(), port: 0, connections: 0, received: 0, sockets: new Set() };
  echo.server.on('connection', (socket) => {
    echo.connections++;
    echo.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      echo.received += data.length;
      socket.write(data);
    });
  });
  echo.server.listen(0, '127.0.0.1');
  await once(echo.server, 'listening');
  const address = echo.server.address();
  assert.ok(address && typeof address === 'object');
  echo.port = address.port;
  return echo;
}

/** A client that collects what it receives and how the connection ended. */
class Client {
  readonly socket: Socket;
  data = '';
  ended = false;
  error: NodeJS.ErrnoException | undefined;
  closed = false;

  constructor(port: number) {
    this.socket = createConnection({ host: '127.0.0.1', port });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => (this.data += d));
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('error', (e: NodeJS.ErrnoException) => (this.error = e));
    this.socket.on('close', () => (this.closed = true));
  }

  async connected(): Promise<void> {
    await once(this.socket, 'connect');
  }
}

/** Polls a condition (it is about sockets in this process, so it settles in milliseconds). */
async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Proving that nothing happens needs a window; 150 ms is ample on loopback. */
const quietWindow = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

describe('fault proxy', () => {
  let echo: Echo;
  let proxy: FaultProxy;
  const clients: Client[] = [];
  const client = (): Client => {
    const c = new Client(proxy.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: echo.port });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await proxy.close();
    for (const socket of echo.sockets) socket.destroy();
    echo.server.close();
  });

  test('pass forwards both ways', async () => {
    const c = client();
    c.socket.write('hello');
    await until(() => c.data === 'hello', 'the echo');
    assert.deepEqual(proxy.mode, { kind: 'pass' });
    assert.deepEqual(proxy.stats(), [{ id: 1, fromClient: 5, fromServer: 5, open: true }]);
  });

  test('delay holds each direction for the given time', async () => {
    await proxy.setMode({ kind: 'delay', ms: 150 });
    const c = client();
    await c.connected();
    const sent = Date.now();
    c.socket.write('slow');
    await until(() => c.data === 'slow', 'the echo');
    assert.ok(Date.now() - sent >= 290, `round trip took ${Date.now() - sent} ms`);
    await proxy.setMode({ kind: 'pass' });
    const again = Date.now();
    c.socket.write('fast');
    await until(() => c.data === 'slowfast', 'the second echo');
    assert.ok(Date.now() - again < 150, 'back to no delay');
  });

  test('blackhole: existing and new connections go silent, and flow again afterwards', async () => {
    const old = client();
    old.socket.write('a');
    await until(() => old.data === 'a', 'the first echo');
    await proxy.setMode({ kind: 'blackhole' });
    old.socket.write('b');
    const fresh = client();
    await fresh.connected(); // accepted, as a black hole does not refuse
    fresh.socket.write('c');
    await quietWindow();
    assert.equal(old.data, 'a');
    assert.equal(fresh.data, '');
    assert.equal(echo.received, 1, 'the server got nothing while black-holed');
    assert.equal(echo.connections, 1, 'the new connection did not reach the server');
    assert.equal(old.closed || fresh.closed, false, 'connections stay open, silently');

    await proxy.setMode({ kind: 'pass' });
    await until(() => old.data === 'ab' && fresh.data === 'c', 'held data to flow');
  });

  test('reset: current connections and new ones get RST', async () => {
    const old = client();
    old.socket.write('x');
    await until(() => old.data === 'x', 'the echo');
    await proxy.setMode({ kind: 'reset' });
    await until(() => old.closed, 'the old connection to close');
    assert.equal(old.error?.code, 'ECONNRESET');
    const fresh = client();
    await until(() => fresh.closed, 'the new connection to close');
    assert.equal(fresh.error?.code, 'ECONNRESET');
    await proxy.setMode({ kind: 'pass' });
    const later = client();
    later.socket.write('ok');
    await until(() => later.data === 'ok', 'traffic after reset');
  });

  test('cutAfter: new connections get only N bytes from the server, then are closed', async () => {
    const old = client();
    await old.connected();
    await until(() => echo.connections === 1, 'the old connection to reach the server');
    await proxy.setMode({ kind: 'cutAfter', bytes: 5 });
    const cut = client();
    cut.socket.write('hello world');
    await until(() => cut.closed, 'the cut connection to close');
    assert.equal(cut.data, 'hello');
    assert.equal(cut.error, undefined, 'closed, not reset');
    assert.equal(echo.received, 11, 'the request itself reached the server in full');
    old.socket.write('untouched');
    await until(() => old.data === 'untouched', 'older connections are not cut');
  });

  test('cutAfter with silence: the server->client direction stops, the connection stays open', async () => {
    await proxy.setMode({ kind: 'cutAfter', bytes: 3, action: 'silence' });
    const c = client();
    c.socket.write('abcdef');
    await until(() => echo.received === 6, 'the server to get the request');
    c.socket.write('gh');
    await until(() => echo.received === 8, 'the server to get more');
    await quietWindow();
    assert.equal(c.data, 'abc');
    assert.equal(c.closed, false);
  });

  test('refuse: connections refused and current ones closed; resume listens on the same port', async () => {
    const old = client();
    old.socket.write('x');
    await until(() => old.data === 'x', 'the echo');
    const port = proxy.port;
    await proxy.setMode({ kind: 'refuse' });
    await until(() => old.closed, 'the old connection to close');
    const refused = client();
    await until(() => refused.closed, 'the refused connection to close');
    assert.equal(refused.error?.code, 'ECONNREFUSED');
    await proxy.resume();
    assert.equal(proxy.port, port);
    const back = client();
    back.socket.write('back');
    await until(() => back.data === 'back', 'traffic after resume');
  });
});

test('kubeconfigThroughProxy points every cluster at the proxy and keeps the rest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmlock-kubeconfig-test-'));
  const src = join(dir, 'kubeconfig');
  writeFileSync(
    src,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: cmlock-test',
      '  cluster:',
      '    server: https://127.0.0.1:6443',
      '    certificate-authority-data: Q0EgREFUQQ==',
      '- name: other',
      '  cluster:',
      '    server: https://localhost:7443',
      '    certificate-authority-data: T1RIRVI=',
      '    tls-server-name: localhost',
      'contexts:',
      '- name: admin',
      '  context: {cluster: cmlock-test, user: admin}',
      'current-context: admin',
      'users:',
      '- name: admin',
      '  user: {token: secret-token}',
      '',
    ].join('\n'),
  );
  const out = kubeconfigThroughProxy(src, 40123);
  assert.notEqual(out, src);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.deepEqual(parse(readFileSync(out, 'utf8')), {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'cmlock-test',
        cluster: { server: 'https://127.0.0.1:40123', 'certificate-authority-data': 'Q0EgREFUQQ==' },
      },
      {
        name: 'other',
        cluster: {
          server: 'https://127.0.0.1:40123',
          'certificate-authority-data': 'T1RIRVI=',
          'tls-server-name': 'localhost',
        },
      },
    ],
    contexts: [{ name: 'admin', context: { cluster: 'cmlock-test', user: 'admin' } }],
    'current-context': 'admin',
    users: [{ name: 'admin', user: { token: 'secret-token' } }],
  });
  assert.throws(() => {
    writeFileSync(src, 'apiVersion: v1\nkind: Config\n');
    kubeconfigThroughProxy(src, 1);
  }, /no clusters/);
});
