// The proxy from the environment, decided as Go's http.ProxyFromEnvironment decides it for kubectl.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { proxyFromEnvironment } from '../../../src/kube/proxy-env.ts';

const PROXY = { HTTPS_PROXY: 'http://proxy.corp:3128' };

const cases: { name: string; server: string; env: Record<string, string>; proxy: string | undefined }[] = [
  { name: 'HTTPS_PROXY for an https server', server: 'https://k8s.corp:6443', env: PROXY, proxy: 'proxy.corp:3128' },
  {
    name: 'lower-case https_proxy',
    server: 'https://k8s.corp',
    env: { https_proxy: 'http://p:1' },
    proxy: 'p:1',
  },
  { name: 'no scheme: an http:// proxy', server: 'https://k8s.corp', env: { HTTPS_PROXY: 'p:8080' }, proxy: 'p:8080' },
  { name: 'nothing set', server: 'https://k8s.corp', env: {}, proxy: undefined },
  {
    name: 'HTTP_PROXY is not used for https',
    server: 'https://k8s.corp',
    env: { HTTP_PROXY: 'http://p:1' },
    proxy: undefined,
  },
  { name: 'HTTP_PROXY for an http server', server: 'http://k8s.corp', env: { HTTP_PROXY: 'http://p:1' }, proxy: 'p:1' },
  {
    name: 'not HTTP_PROXY under CGI',
    server: 'http://k8s.corp',
    env: { HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' },
    proxy: undefined,
  },
  { name: 'never for localhost', server: 'https://localhost:6443', env: PROXY, proxy: undefined },
  { name: 'never for 127.x', server: 'https://127.0.0.1:6443', env: PROXY, proxy: undefined },
  { name: 'never for ::1', server: 'https://[::1]:6443', env: PROXY, proxy: undefined },
  { name: 'NO_PROXY=*', server: 'https://k8s.corp', env: { ...PROXY, NO_PROXY: '*' }, proxy: undefined },
  {
    name: 'NO_PROXY domain matches itself',
    server: 'https://corp',
    env: { ...PROXY, NO_PROXY: 'corp' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY domain matches subdomains',
    server: 'https://k8s.corp',
    env: { ...PROXY, NO_PROXY: 'other, corp' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY .domain: subdomains only',
    server: 'https://corp',
    env: { ...PROXY, NO_PROXY: '.corp' },
    proxy: 'proxy.corp:3128',
  },
  {
    name: 'NO_PROXY *.domain',
    server: 'https://a.b.corp',
    env: { ...PROXY, no_proxy: '*.corp' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY is not a substring match',
    server: 'https://notcorp',
    env: { ...PROXY, NO_PROXY: 'corp' },
    proxy: 'proxy.corp:3128',
  },
  {
    name: 'NO_PROXY with the port',
    server: 'https://k8s.corp:6443',
    env: { ...PROXY, NO_PROXY: 'k8s.corp:6443' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY with another port',
    server: 'https://k8s.corp:6443',
    env: { ...PROXY, NO_PROXY: 'k8s.corp:443' },
    proxy: 'proxy.corp:3128',
  },
  {
    name: 'NO_PROXY default port 443',
    server: 'https://k8s.corp',
    env: { ...PROXY, NO_PROXY: 'k8s.corp:443' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY IP',
    server: 'https://10.1.2.3:6443',
    env: { ...PROXY, NO_PROXY: '10.1.2.3' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY CIDR',
    server: 'https://10.1.2.3:6443',
    env: { ...PROXY, NO_PROXY: '10.0.0.0/8' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY CIDR elsewhere',
    server: 'https://10.1.2.3:6443',
    env: { ...PROXY, NO_PROXY: '192.168.0.0/16' },
    proxy: 'proxy.corp:3128',
  },
  {
    name: 'NO_PROXY IPv6 in brackets with port',
    server: 'https://[fd00::1]:6443',
    env: { ...PROXY, NO_PROXY: '[fd00:0::1]:6443' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY IPv6 CIDR',
    server: 'https://[fd00::1]:6443',
    env: { ...PROXY, NO_PROXY: 'fd00::/8' },
    proxy: undefined,
  },
  {
    name: 'NO_PROXY entries are trimmed and case-insensitive',
    server: 'https://K8S.Corp',
    env: { ...PROXY, NO_PROXY: ' , K8S.CORP ' },
    proxy: undefined,
  },
];

describe('proxyFromEnvironment', () => {
  for (const c of cases) {
    test(c.name, () => {
      const got = proxyFromEnvironment(c.server, c.env);
      assert.equal(got === undefined ? undefined : new URL(got.url).host, c.proxy);
    });
  }

  test('credentials: used, never displayed, handed to the redactor', () => {
    const got = proxyFromEnvironment('https://k8s.corp', { HTTPS_PROXY: 'http://bob:s%40cret@proxy:3128' });
    assert.ok(got);
    assert.equal(got.url, 'http://bob:s%40cret@proxy:3128/');
    assert.equal(got.display, 'http://proxy:3128');
    assert.equal(got.from, 'HTTPS_PROXY');
    assert.deepEqual(got.secrets, ['s@cret', 'bob']);
  });
});
