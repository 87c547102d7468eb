// connectKubeConfig: a KubeConfig a program loaded itself (the library's kubeConfig option) gives the same session
// as a kubeconfig file: its current context and namespace, its credentials on the wire, the same loud failures.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../../../src/errors.ts';
import { connectKubeConfig } from '../../../src/kube/connect.ts';
import { FakeApiServer, fastTuning, sendJson, tempDir, writeKubeconfig } from './fake-server.ts';

const options = { requestTimeoutMs: 5000, verbosity: 0, env: {}, log: () => undefined };

describe('connectKubeConfig', () => {
  let server: FakeApiServer;
  before(async () => {
    server = await FakeApiServer.start();
  });
  after(async () => {
    await server.close();
  });

  test('its current context, namespace and token, as from the file it was loaded from', async () => {
    const token = 'loaded-token-0123456789';
    const kc = new KubeConfig();
    kc.loadFromFile(writeKubeconfig(tempDir(), { server: server.url, token, namespace: 'apps', context: 'ctx' }));
    server.requests.length = 0;
    server.handler = (_req, res) =>
      sendJson(res, 201, { kind: 'SelfSubjectReview', status: { userInfo: { username: 'loaded-user' } } });

    const session = connectKubeConfig(kc, options, fastTuning);
    assert.deepEqual([session.contextName, session.namespace, session.server], ['ctx', 'apps', server.url]);
    assert.equal(await session.whoAmI(), 'loaded-user');
    assert.equal(server.requests[0]?.headers.authorization, `Bearer ${token}`);
    assert.equal(connectKubeConfig(kc, { ...options, namespace: 'ops' }, fastTuning).namespace, 'ops');
  });

  test('no current context: a ConfigError in the caller’s words, nothing sent', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://c:6443', skipTLSVerify: false }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'only', cluster: 'c', user: 'u' }],
      currentContext: '',
    });
    const hints = { kubeconfig: 'pass kubeConfig', context: 'call kubeConfig.setCurrentContext()' };
    assert.throws(() => connectKubeConfig(kc, { ...options, hints }), {
      name: ConfigError.name,
      message: 'no current context is set in the kubeconfig: call kubeConfig.setCurrentContext() (available: only)',
    });
  });
});
