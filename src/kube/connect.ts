// The Kubernetes connection as the rest of cmlock sees it. connect() resolves the configuration synchronously
// and throws ConfigError/UsageError before anything is sent; requests happen only when a method is called.

import type { LockStore } from '../lock/store.ts';
import { defaultTuning, KubeClient, type Tuning } from './client.ts';
import { ConfigMapStore } from './configmap-store.ts';
import { ResourceNotFoundError } from './errors.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { resolveConfig, resolveLoadedConfig, type ResolvedConfig } from './kubeconfig.ts';
import type { ConnectOptions, KubeSession } from './types.ts';

export function connect(options: ConnectOptions, tuning: Partial<Tuning> = {}): KubeSession {
  const config = resolveConfig({
    kubeconfig: options.kubeconfig,
    context: options.context,
    namespace: options.namespace,
    env: options.env,
    serviceAccountDir: tuning.serviceAccountDir,
    hints: options.hints,
  });
  return open(config, options, tuning);
}

/**
 * The same session from a KubeConfig a program loaded itself (the library's `kubeConfig` option): its current
 * context, with the namespace, proxy and credential rules of connect().
 */
export function connectKubeConfig(
  kc: KubeConfig,
  options: Omit<ConnectOptions, 'kubeconfig' | 'context'>,
  tuning: Partial<Tuning> = {},
): KubeSession {
  const config = resolveLoadedConfig(kc, { namespace: options.namespace, env: options.env, hints: options.hints });
  return open(config, options, tuning);
}

function open(
  config: ResolvedConfig,
  options: Omit<ConnectOptions, 'kubeconfig' | 'context'>,
  tuning: Partial<Tuning>,
): KubeSession {
  const client = new KubeClient(
    config,
    {
      requestTimeoutMs: options.requestTimeoutMs,
      verbosity: options.verbosity,
      log: options.log,
      serverTime: options.serverTime,
    },
    withDefaults(tuning),
  );
  client.log(
    `using ${config.inCluster ? 'the in-cluster service account' : `context "${config.contextName}"`}, ` +
      `server ${config.server}${config.proxy ? ` through proxy ${config.proxy}` : ''}, namespace "${config.namespace}"`,
  );
  return new Session(config, client);
}

class Session implements KubeSession {
  readonly contextName: string;
  readonly namespace: string;
  readonly server: string;
  readonly inCluster: boolean;
  readonly podNamespace: string | undefined;
  readonly #config: ResolvedConfig;
  readonly #client: KubeClient;
  #user: Promise<string | undefined> | undefined;

  constructor(config: ResolvedConfig, client: KubeClient) {
    this.#config = config;
    this.#client = client;
    this.contextName = config.contextName;
    this.namespace = config.namespace;
    this.server = config.server;
    this.inCluster = config.inCluster;
    this.podNamespace = config.podNamespace;
  }

  store(namespace?: string): LockStore {
    return new ConfigMapStore(this.#client, namespace ?? this.namespace);
  }

  whoAmI(signal?: AbortSignal): Promise<string | undefined> {
    // One SelfSubjectReview per session. Servers before 1.28, or RBAC without it, simply do not say.
    const pending = (this.#user ??= this.#selfSubjectReview(signal));
    return pending.then((user) => {
      if (signal?.aborted) this.#user = undefined;
      return user;
    });
  }

  async #selfSubjectReview(signal?: AbortSignal): Promise<string | undefined> {
    const path = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
    try {
      const { value } = await this.#client.call(
        {
          verb: 'create',
          resource: 'selfsubjectreviews.authentication.k8s.io',
          method: 'POST',
          path,
          idempotent: true,
        },
        (o) =>
          this.#client.authn.createSelfSubjectReviewWithHttpInfo(
            { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
            o,
          ),
        signal,
        { maxAttempts: 2 },
      );
      return value?.status?.userInfo?.username || undefined;
    } catch (err) {
      this.#client.log(`SelfSubjectReview unavailable: ${err instanceof Error ? err.name : 'error'}`);
      return undefined;
    }
  }

  async getPodUid(namespace: string, name: string, signal?: AbortSignal): Promise<string | undefined> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    try {
      const { value } = await this.#client.call(
        { verb: 'get', resource: 'pods', namespace, name, method: 'GET', path },
        (o) => this.#client.core.readNamespacedPodWithHttpInfo({ name, namespace }, o),
        signal,
      );
      return value?.metadata?.uid || undefined;
    } catch (err) {
      if (err instanceof ResourceNotFoundError) return undefined;
      throw err;
    }
  }

  async listNamespaces(signal?: AbortSignal): Promise<string[]> {
    const { value } = await this.#client.call(
      { verb: 'list', resource: 'namespaces', method: 'GET', path: '/api/v1/namespaces' },
      (o) => this.#client.core.listNamespaceWithHttpInfo({}, o),
      signal,
    );
    return (value?.items ?? []).map((ns) => ns.metadata?.name ?? '').filter((n) => n !== '');
  }

  listContexts(): string[] {
    return [...this.#config.contexts];
  }
}

function withDefaults(tuning: Partial<Tuning>): Tuning {
  const defined = Object.entries(tuning).filter(([, value]) => value !== undefined);
  return { ...defaultTuning, ...Object.fromEntries(defined) };
}
