// What the rest of cmlock sees of the Kubernetes connection. No client-node type crosses this boundary.

import type { LockStore, ServerTimeSample } from '../lock/store.ts';

export interface ConnectOptions {
  /** --kubeconfig: a single file that must exist (like kubectl). */
  kubeconfig?: string;
  /** --context: must name a context in the merged config. */
  context?: string;
  /** -n/--namespace; default: the context's namespace, the Pod's namespace in-cluster, else "default". */
  namespace?: string;
  /** --request-timeout per request in ms; 0 = the built-in default. */
  requestTimeoutMs: number;
  /** -v level; 0 quiet. Diagnostics go through `log`, never a credential. */
  verbosity: number;
  /** The process environment (only src/main.ts reads process.env; it passes it here). */
  env: Readonly<Record<string, string | undefined>>;
  /** One line of diagnostics to stderr. */
  log: (line: string) => void;
  /**
   * Every response's Date header with its local send and receive times (ServerClock.observe): a request made
   * outside the lock protocol (SelfSubjectReview) then tells the protocol the server's time, and acquire need
   * not read the lock first to learn it.
   */
  serverTime?: (sample: ServerTimeSample) => void;
  /** How the user chooses a kubeconfig file or a context, for config errors (default: --kubeconfig, --context). */
  hints?: { kubeconfig: string; context: string };
}

export interface KubeSession {
  readonly contextName: string;
  /** The namespace commands use unless told otherwise. */
  readonly namespace: string;
  /** The API server URL (safe to print). */
  readonly server: string;
  /** True when the in-cluster service-account configuration is in use. */
  readonly inCluster: boolean;
  /** Under the in-cluster config: the Pod's namespace (the service account's namespace file). */
  readonly podNamespace: string | undefined;
  /** A LockStore for `namespace` (default: the session's); '' with allNamespaces lists everywhere. */
  store(namespace?: string): LockStore;
  /** The authenticated user from SelfSubjectReview, or undefined when the server does not say. */
  whoAmI(signal?: AbortSignal): Promise<string | undefined>;
  /** The UID of a Pod, or undefined when it does not exist. Throws on other errors (e.g. 403). */
  getPodUid(namespace: string, name: string, signal?: AbortSignal): Promise<string | undefined>;
  listNamespaces(signal?: AbortSignal): Promise<string[]>;
  /** Context names in the merged kubeconfig (for completion). */
  listContexts(): string[];
}
