// Kubeconfig resolution exactly like kubectl, failing loudly where client-node's loadFromDefault() silently
// falls back to http://localhost:8080 or accepts a context that does not exist:
//   --kubeconfig FILE (must exist) > KUBECONFIG (list, missing entries ignored, first file wins for every
//   cluster/user/context name and for current-context) > ~/.kube/config > in-cluster service account.
// Files are parsed here (with `yaml`) rather than by client-node so that relative paths resolve against each
// file's directory, duplicate names merge like kubectl instead of throwing, and a parse error never echoes the
// file's content (js-yaml's messages quote the offending lines, which may hold a token).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { credentialsOf, proxyFromEnvironment } from './proxy-env.ts';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import { validateNamespace } from '../lock/names.ts';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const IN_CLUSTER_CONTEXT = 'in-cluster';

export interface ResolveOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Where the in-cluster token, ca.crt and namespace live (tests point it elsewhere). */
  serviceAccountDir?: string;
  /** What the caller's user does to choose a file or a context, for the messages (default: kubectl's flags). */
  hints?: ConfigHints;
}

/** The words of a fix: the command line names its flags, the library its options. */
export interface ConfigHints {
  /** e.g. "pass --kubeconfig". */
  kubeconfig: string;
  /** e.g. "pass --context". */
  context: string;
}

const FLAG_HINTS: ConfigHints = { kubeconfig: 'pass --kubeconfig', context: 'pass --context' };

export interface ResolvedConfig {
  contextName: string;
  namespace: string;
  /** Safe to print: no userinfo, query or fragment. */
  server: string;
  inCluster: boolean;
  /** Under the in-cluster config: the Pod's namespace, from the service account's namespace file. */
  podNamespace?: string;
  /** The proxy in use, safe to print ("http://proxy:3128 from HTTPS_PROXY"), if any. */
  proxy?: string;
  /** Every context name in the merged config, sorted. */
  contexts: string[];
  /** Tokens, passwords and keys found in the config, for the redactor. */
  secrets: string[];
  /** The user obtains credentials at run time (exec plugin, auth provider): a 401 may be cured by a reload. */
  refreshableCredentials: boolean;
  /** A fresh KubeConfig for the chosen context (new credential caches each time). */
  newKubeConfig(): KubeConfig;
}

type Raw = Record<string, unknown>;
interface Named {
  name: string;
  body: Raw;
}
interface Merged {
  clusters: Map<string, Raw>;
  users: Map<string, Raw>;
  contexts: Map<string, Raw>;
  currentContext: string;
}

export function resolveConfig(options: ResolveOptions): ResolvedConfig {
  if (options.namespace !== undefined) validateNamespace(options.namespace);
  const files = kubeconfigFiles(options);
  if (files.length === 0) {
    const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    // Like kubectl, the in-cluster config is used only when no kubeconfig exists and no context was asked for.
    if (options.context === undefined && inClusterAvailable(options.env, saDir)) {
      return inClusterConfig(options, saDir);
    }
    const hints = options.hints ?? FLAG_HINTS;
    if (options.env.KUBECONFIG) {
      throw new ConfigError(
        `no kubeconfig found: none of the files in KUBECONFIG exist; ${hints.kubeconfig} or fix KUBECONFIG`,
      );
    }
    throw new ConfigError(`no kubeconfig found: set KUBECONFIG, ${hints.kubeconfig}, or create ~/.kube/config`);
  }
  const merged = merge(files.map((file) => ({ file, doc: readKubeconfig(file), dir: dirname(resolvePath(file)) })));
  return fromKubeconfig(merged, options);
}

/**
 * A KubeConfig a program loaded itself (the library's `kubeConfig` option), checked and used exactly as a file
 * is: its current context, the same proxy, credential and namespace rules. Read through its own export, so that
 * every field client-node knows is seen as a kubeconfig file would show it.
 */
export function resolveLoadedConfig(
  kc: KubeConfig,
  options: Pick<ResolveOptions, 'namespace' | 'env' | 'hints'>,
): ResolvedConfig {
  if (options.namespace !== undefined) validateNamespace(options.namespace);
  const file = 'the KubeConfig given';
  let doc: unknown;
  try {
    doc = JSON.parse(kc.exportConfig());
  } catch {
    throw new ConfigError(`cannot read ${file}: its exportConfig() is not a kubeconfig`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`cannot read ${file}: not a kubeconfig (expected a mapping)`);
  }
  // Relative paths (client-node made a loaded file's absolute) resolve as a read of them would: from here.
  return fromKubeconfig(merge([{ file, doc: doc as Raw, dir: resolvePath('.') }]), options);
}

/** The files to merge, in precedence order; only existing ones (an explicit --kubeconfig must exist). */
function kubeconfigFiles(options: ResolveOptions): string[] {
  if (options.kubeconfig !== undefined) {
    if (!existsSync(options.kubeconfig)) throw new ConfigError(`kubeconfig "${options.kubeconfig}" not found`);
    return [options.kubeconfig];
  }
  const list = options.env.KUBECONFIG;
  if (list) {
    const seen = new Set<string>();
    return list
      .split(':')
      .filter((f) => f !== '')
      .filter((f) => (seen.has(f) ? false : (seen.add(f), true)))
      .filter((f) => existsSync(f));
  }
  const home = options.env.HOME;
  if (home) {
    const file = join(home, '.kube', 'config');
    if (existsSync(file)) return [file];
  }
  return [];
}

/** Kubeconfig documents in precedence order (the first wins for every name); relative paths resolve against `dir`. */
function merge(docs: { file: string; doc: Raw; dir: string }[]): Merged {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: '' };
  for (const { file, doc, dir } of docs) {
    for (const { name, body } of namedList(doc.clusters, 'cluster', file)) {
      if (!merged.clusters.has(name)) merged.clusters.set(name, resolveClusterPaths(body, dir));
    }
    for (const { name, body } of namedList(doc.users, 'user', file)) {
      if (!merged.users.has(name)) merged.users.set(name, resolveUserPaths(body, dir));
    }
    for (const { name, body } of namedList(doc.contexts, 'context', file)) {
      if (!merged.contexts.has(name)) merged.contexts.set(name, body);
    }
    const current = doc['current-context'];
    if (!merged.currentContext && typeof current === 'string' && current) merged.currentContext = current;
  }
  return merged;
}

function readKubeconfig(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read kubeconfig "${file}": ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // The parser's message quotes the file; say only where.
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigError(`cannot parse kubeconfig "${file}": invalid YAML${line ? ` at line ${line}` : ''}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`cannot parse kubeconfig "${file}": not a kubeconfig (expected a mapping)`);
  }
  return doc as Raw;
}

function namedList(value: unknown, key: string, file: string): Named[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError(`invalid kubeconfig "${file}": ${key}s is not a list`);
  return value.flatMap((entry: unknown, i) => {
    const { name, [key]: body } = (entry ?? {}) as Raw;
    if (typeof name !== 'string' || !name) {
      throw new ConfigError(`invalid kubeconfig "${file}": ${key}s[${i}] has no name`);
    }
    return [{ name, body: body && typeof body === 'object' ? (body as Raw) : {} }];
  });
}

function resolveClusterPaths(cluster: Raw, dir: string): Raw {
  return { ...cluster, 'certificate-authority': absolute(cluster['certificate-authority'], dir) };
}

function resolveUserPaths(user: Raw, dir: string): Raw {
  const out: Raw = {
    ...user,
    'client-certificate': absolute(user['client-certificate'], dir),
    'client-key': absolute(user['client-key'], dir),
    'token-file': absolute(user['token-file'], dir),
  };
  const exec = user.exec as Raw | undefined;
  // kubectl resolves a relative exec command against the kubeconfig's directory only when it has a slash;
  // a bare name is looked up on PATH.
  if (exec && typeof exec.command === 'string' && exec.command.includes('/')) {
    out.exec = { ...exec, command: absolute(exec.command, dir) };
  }
  return out;
}

function absolute(value: unknown, dir: string): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  return isAbsolute(value) ? value : join(dir, value);
}

function fromKubeconfig(
  merged: Merged,
  options: Pick<ResolveOptions, 'context' | 'namespace' | 'env' | 'hints'>,
): ResolvedConfig {
  const contexts = [...merged.contexts.keys()].sort();
  const available = contexts.length ? contexts.join(', ') : 'none';
  let contextName = options.context;
  if (contextName === undefined) {
    if (!merged.currentContext) {
      const hint = (options.hints ?? FLAG_HINTS).context;
      throw new ConfigError(`no current context is set in the kubeconfig: ${hint} (available: ${available})`);
    }
    contextName = merged.currentContext;
    if (!merged.contexts.has(contextName)) {
      throw new ConfigError(`current context "${contextName}" not found in kubeconfig (available: ${available})`);
    }
  } else if (!merged.contexts.has(contextName)) {
    throw new ConfigError(`context "${contextName}" not found in kubeconfig (available: ${available})`);
  }
  const rawContext = merged.contexts.get(contextName) ?? {};
  const clusterName = str(rawContext.cluster);
  if (!clusterName) throw new ConfigError(`context "${contextName}" names no cluster`);
  const rawCluster = merged.clusters.get(clusterName);
  if (!rawCluster) {
    throw new ConfigError(
      `context "${contextName}" refers to cluster "${clusterName}", which is not in the kubeconfig`,
    );
  }
  const userName = str(rawContext.user) ?? '';
  const rawUser = userName ? merged.users.get(userName) : undefined;
  if (userName && !rawUser) {
    throw new ConfigError(`context "${contextName}" refers to user "${userName}", which is not in the kubeconfig`);
  }

  const { cluster, proxy, proxySecrets } = withProxy(toCluster(clusterName, rawCluster, contextName), options.env);
  const user = toUser(userName || 'anonymous', rawUser ?? {});
  const context: Context = {
    name: contextName,
    cluster: clusterName,
    user: user.name,
    namespace: str(rawContext.namespace),
  };
  const secrets = [...merged.users.values()].flatMap(userSecrets).concat(proxySecrets);
  return {
    contextName,
    namespace: options.namespace ?? context.namespace ?? 'default',
    server: safeServer(cluster.server),
    inCluster: false,
    proxy,
    contexts,
    secrets,
    refreshableCredentials: Boolean(user.exec || user.authProvider),
    newKubeConfig: () => makeKubeConfig(cluster, user, context),
  };
}

/**
 * The cluster with the proxy kubectl would use: its proxy-url, else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY (or
 * a loopback server) says otherwise. Proxy credentials go to the redactor.
 */
function withProxy(
  cluster: Cluster,
  env: ResolveOptions['env'],
): { cluster: Cluster; proxy?: string; proxySecrets: string[] } {
  if (cluster.proxyUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(cluster.proxyUrl);
    } catch {
      throw new ConfigError(`cluster "${cluster.name}" has an invalid proxy-url`);
    }
    return { cluster, proxy: `${url.protocol}//${url.host} from the kubeconfig`, proxySecrets: credentialsOf(url) };
  }
  const found = proxyFromEnvironment(cluster.server, env);
  if (found === undefined) return { cluster, proxySecrets: [] };
  return {
    cluster: { ...cluster, proxyUrl: found.url },
    proxy: `${found.display} from ${found.from}`,
    proxySecrets: found.secrets,
  };
}

function toCluster(name: string, raw: Raw, contextName: string): Cluster {
  const server = str(raw.server);
  if (!server) throw new ConfigError(`cluster "${name}" (context "${contextName}") has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ConfigError(`cluster "${name}" (context "${contextName}") has an invalid server URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`cluster "${name}" (context "${contextName}") has an unsupported server URL scheme`);
  }
  return {
    name,
    server: server.replace(/\/$/, ''),
    caData: str(raw['certificate-authority-data']),
    caFile: str(raw['certificate-authority']),
    // client-node refuses plain http unless this is set; there is no TLS to skip on http (kubectl proxy).
    skipTLSVerify: raw['insecure-skip-tls-verify'] === true || url.protocol === 'http:',
    tlsServerName: str(raw['tls-server-name']),
    proxyUrl: str(raw['proxy-url']),
  };
}

function toUser(name: string, raw: Raw): User {
  const token = str(raw.token);
  const tokenFile = str(raw['token-file']);
  if (tokenFile && !token && !existsSync(tokenFile)) {
    throw new ConfigError(`token-file "${tokenFile}" of user "${name}" not found`);
  }
  return {
    name,
    token,
    // A token file is re-read as it rotates (client-node reads `token-file` once, at load).
    authProvider:
      raw['auth-provider'] ??
      (tokenFile && !token && !raw.exec ? { name: 'tokenFile', config: { tokenFile } } : undefined),
    exec: raw.exec ?? undefined,
    certData: str(raw['client-certificate-data']),
    certFile: str(raw['client-certificate']),
    keyData: str(raw['client-key-data']),
    keyFile: str(raw['client-key']),
    username: str(raw.username),
    password: str(raw.password),
    impersonateUser: str(raw.as),
  };
}

function userSecrets(raw: Raw): string[] {
  const out: unknown[] = [raw.token, raw.password, raw['client-key-data']];
  const keyData = str(raw['client-key-data']);
  if (keyData) out.push(Buffer.from(keyData, 'base64').toString('utf8'));
  const provider = raw['auth-provider'] as { config?: Raw } | undefined;
  if (provider?.config) out.push(...Object.values(provider.config));
  const exec = raw.exec as { env?: { value?: unknown }[] } | undefined;
  if (Array.isArray(exec?.env)) out.push(...exec.env.map((e) => e?.value));
  if (raw.username && raw.password) out.push(Buffer.from(`${raw.username}:${raw.password}`).toString('base64'));
  return out.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

function inClusterAvailable(env: ResolveOptions['env'], saDir: string): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(join(saDir, 'token')));
}

function inClusterConfig(options: ResolveOptions, saDir: string): ResolvedConfig {
  const host = options.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = options.env.KUBERNETES_SERVICE_PORT ?? '';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const caFile = join(saDir, 'ca.crt');
  const nsFile = join(saDir, 'namespace');
  let podNamespace: string | undefined;
  try {
    podNamespace = readFileSync(nsFile, 'utf8').trim() || undefined;
  } catch {
    podNamespace = undefined;
  }
  const { cluster, proxy, proxySecrets } = withProxy(
    { name: IN_CLUSTER_CONTEXT, server, caFile: existsSync(caFile) ? caFile : undefined, skipTLSVerify: false },
    options.env,
  );
  // FileAuth re-reads the projected token every minute, as it rotates.
  const user: User = {
    name: IN_CLUSTER_CONTEXT,
    authProvider: { name: 'tokenFile', config: { tokenFile: join(saDir, 'token') } },
  };
  const context: Context = {
    name: IN_CLUSTER_CONTEXT,
    cluster: cluster.name,
    user: user.name,
    namespace: podNamespace,
  };
  return {
    contextName: IN_CLUSTER_CONTEXT,
    namespace: options.namespace ?? podNamespace ?? 'default',
    server: safeServer(server),
    inCluster: true,
    podNamespace,
    proxy,
    contexts: [],
    secrets: proxySecrets,
    refreshableCredentials: false,
    newKubeConfig: () => makeKubeConfig(cluster, user, context),
  };
}

function makeKubeConfig(cluster: Cluster, user: User, context: Context): KubeConfig {
  const kc = new KubeConfig();
  // Only the chosen context's cluster and user: nothing else of the kubeconfig is needed or kept.
  kc.loadFromOptions({ clusters: [cluster], users: [user], contexts: [context], currentContext: context.name });
  return kc;
}

/** The server URL without credentials, query or fragment. */
export function safeServer(server: string): string {
  try {
    const url = new URL(server);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')}`;
  } catch {
    return '<invalid server URL>';
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
