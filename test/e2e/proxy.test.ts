// HTTPS_PROXY and NO_PROXY, as kubectl honours them. The test's own HTTP CONNECT proxy (with a password) is the
// only way to reach the API server under a made-up name, cmlock-proxied.test (which has no DNS entry); the
// kubeconfig names that server and asks TLS for the certificate's "localhost". kubectl itself is run the same
// way first, to show the setting is one kubectl honours.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { clusterKubeconfig, clusterState, cmlock, kubectl, testNamespace, uniqueName } from './harness.ts';
import { show } from './lock-helpers.ts';

const HOST = 'cmlock-proxied.test';
const PASSWORD = 'pr0xy-s3cret-e2e';

interface Proxy {
  url: string;
  /** The CONNECT targets it tunnelled, in order. */
  tunnels: string[];
}

async function startProxy(t: TestContext): Promise<Proxy> {
  const tunnels: string[] = [];
  const expected = `Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}`;
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client, head) => {
    const [host, port] = (req.url ?? '').split(':');
    if (req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    if (host !== HOST) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    tunnels.push(req.url ?? '');
    const upstream = connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://bob:${PASSWORD}@127.0.0.1:${port}`, tunnels };
}

/** The test kubeconfig, its server renamed to HOST (same port), TLS checking the certificate's "localhost". */
function proxiedKubeconfig(): string {
  const port = new URL(clusterState().server).port;
  const text = readFileSync(clusterKubeconfig(), 'utf8').replace(
    /^(\s*)server: https:\/\/127\.0\.0\.1:\d+$/m,
    `$1server: https://${HOST}:${port}\n$1tls-server-name: localhost`,
  );
  assert.ok(text.includes(HOST), 'the server was renamed');
  const file = join(mkdtempSync(join(tmpdir(), 'cmlock-proxy-')), 'kubeconfig');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

test('HTTPS_PROXY carries every request, as with kubectl; NO_PROXY and an unset proxy go direct', async (t) => {
  const ns = await testNamespace(t, 'proxy');
  const name = uniqueName('proxied');
  const proxy = await startProxy(t);
  const kubeconfig = proxiedKubeconfig();
  const through = { env: { KUBECONFIG: kubeconfig, HTTPS_PROXY: proxy.url } };

  const k = await kubectl(['get', 'configmaps', '-n', ns], through);
  assert.equal(k.code, 0, show(k));
  const byKubectl = proxy.tunnels.length;
  assert.ok(byKubectl > 0, 'kubectl went through the proxy');

  const took = await cmlock(['acquire', name, '-n', ns, '--identity', 'e2e@proxy', '-v', '9'], through);
  assert.equal(took.code, 0, show(took));
  assert.match(took.stderr, /through proxy http:\/\/127\.0\.0\.1:\d+ from HTTPS_PROXY/);
  assert.ok(!`${took.stdout}${took.stderr}`.includes(PASSWORD), 'the proxy password is never printed');
  const ls = await cmlock(['ls', '-n', ns, '-o', 'name'], through);
  assert.equal(ls.stdout, `cmlock/${name}\n`, show(ls));
  const released = await cmlock(['release', name, '-n', ns, '--identity', 'e2e@proxy'], through);
  assert.equal(released.code, 0, show(released));
  assert.ok(proxy.tunnels.length >= byKubectl + 3, `cmlock's tunnels: ${proxy.tunnels.length - byKubectl}`);
  assert.ok(proxy.tunnels.every((target) => target === `${HOST}:${new URL(clusterState().server).port}`));

  // NO_PROXY names the server, or no proxy is set: a direct connection, which cannot resolve the made-up name.
  const before = proxy.tunnels.length;
  for (const env of [{ ...through.env, NO_PROXY: `other.example,${HOST}` }, { KUBECONFIG: kubeconfig }]) {
    const direct = await cmlock(['ls', '-n', ns, '--request-timeout', '5s'], { env });
    assert.equal(direct.code, 1, show(direct));
    assert.match(direct.stderr, /^error: .*cmlock-proxied\.test/m, show(direct));
    const kubectlDirect = await kubectl(['get', 'configmaps', '-n', ns, '--request-timeout', '5s'], { env });
    assert.notEqual(kubectlDirect.code, 0, 'kubectl goes direct too');
  }
  assert.equal(proxy.tunnels.length, before, 'nothing went through the proxy');
});
