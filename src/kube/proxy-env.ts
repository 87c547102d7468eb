// HTTPS_PROXY, HTTP_PROXY and NO_PROXY as kubectl reads them (Go's http.ProxyFromEnvironment, that is
// golang.org/x/net/http/httpproxy): client-node honours a kubeconfig's proxy-url but not the environment, so a
// user behind a proxy would find kubectl working and cmlock not. A kubeconfig proxy-url still wins.

import { BlockList, isIP } from 'node:net';

export interface EnvProxy {
  /** The proxy URL, as given (with any credentials: for the connection only, never printed). */
  url: string;
  /** Safe to print: scheme, host and port only. */
  display: string;
  /** The variable it came from. */
  from: string;
  /** Credentials in the URL, for the redactor. */
  secrets: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

function firstSet(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** Go's parseProxy: a value without a scheme is an http:// proxy. */
function parseProxy(value: string): URL | undefined {
  try {
    const url = new URL(value);
    if (url.host !== '' && /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) && value.includes('://')) return url;
  } catch {
    // fall through to the http:// form
  }
  try {
    return new URL(`http://${value}`);
  } catch {
    return undefined;
  }
}

/** The proxy kubectl would use for `server`, or undefined for a direct connection. */
export function proxyFromEnvironment(server: string, env: Env): EnvProxy | undefined {
  let target: URL;
  try {
    target = new URL(server);
  } catch {
    return undefined;
  }
  const https = target.protocol === 'https:';
  const setting = https ? firstSet(env, 'HTTPS_PROXY', 'https_proxy') : firstSet(env, 'HTTP_PROXY', 'http_proxy');
  // Go refuses HTTP_PROXY under CGI (a request header could set it); so do we.
  if (setting === undefined || (!https && env['REQUEST_METHOD'])) return undefined;
  const proxy = parseProxy(setting.value);
  if (proxy === undefined) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (https ? '443' : '80');
  if (!useProxy(host, port, firstSet(env, 'NO_PROXY', 'no_proxy')?.value ?? '')) return undefined;
  return {
    url: proxy.href,
    display: `${proxy.protocol}//${proxy.host}`,
    from: setting.name,
    secrets: credentialsOf(proxy),
  };
}

/** The password and user name in a proxy URL, decoded, for the redactor. */
export function credentialsOf(url: URL): string[] {
  return [url.password, url.username].filter((s) => s !== '').map((s) => decodeURIComponent(s));
}

/** Go's useProxy: never for localhost or a loopback address; else unless NO_PROXY matches. */
function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost' || isLoopback(host)) return false;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return false;
    if (entry.includes('/')) {
      const [base = '', bits = ''] = entry.split('/');
      if (/^\d+$/.test(bits) && matchesIp(host, base, Number(bits))) return false;
      continue;
    }
    const { name, port: entryPort } = splitHostPort(entry);
    if (name === '') continue;
    if (entryPort !== '' && entryPort !== port) continue;
    if (isIP(name) !== 0) {
      if (matchesIp(host, name)) return false;
      continue;
    }
    // foo.com matches foo.com and its subdomains; .foo.com and *.foo.com only the subdomains.
    const bare = name.startsWith('*.') ? name.slice(1) : name;
    const suffix = bare.startsWith('.') ? bare : `.${bare}`;
    if (host.endsWith(suffix) || (!bare.startsWith('.') && host === bare)) return false;
  }
  return true;
}

function splitHostPort(entry: string): { name: string; port: string } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1] ?? '', port: bracketed[2] ?? '' };
  if (isIP(entry) === 6) return { name: entry, port: '' };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  return withPort ? { name: withPort[1] ?? '', port: withPort[2] ?? '' } : { name: entry, port: '' };
}

type Family = 'ipv4' | 'ipv6';

function familyOf(ip: string): Family | undefined {
  const v = isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

function isLoopback(host: string): boolean {
  const family = familyOf(host);
  return family !== undefined && LOOPBACK.check(host, family);
}

/** Whether IP `host` is `ip`, or inside `ip/bits` when bits is given (any textual form of IPv6). */
function matchesIp(host: string, ip: string, bits?: number): boolean {
  const family = familyOf(host);
  if (family === undefined || familyOf(ip) !== family) return false;
  const list = new BlockList();
  try {
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, bits, family);
  } catch {
    return false; // a malformed NO_PROXY entry matches nothing, as in Go
  }
  return list.check(host, family);
}
