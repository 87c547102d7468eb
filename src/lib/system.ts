// The library's outside world, as src/main.ts's Runtime is the command line's: the environment, host and user
// names, the pid, the clocks, and the Kubernetes connection. The one file of src/lib that reads process.*;
// the rest takes a System, so unit tests run a Lock over the fake store and clock. The Kubernetes client is
// imported on the first call that needs the cluster, so that importing the library costs little.

import { hostname, userInfo } from 'node:os';
import { systemClock } from '../lock/clock.ts';
import { loginName, type HostFacts, type Placement } from '../lock/holder.ts';
import type { LockStore } from '../lock/store.ts';
import type { Clock } from '../lock/types.ts';
import type { KubeConfig } from '../kube/index.ts';

/** What a Lock needs of its Kubernetes connection (kube's KubeSession). */
export interface LibSession extends Placement {
  readonly namespace: string;
  store(namespace?: string): LockStore;
  whoAmI(signal?: AbortSignal): Promise<string | undefined>;
  getPodUid(namespace: string, name: string, signal?: AbortSignal): Promise<string | undefined>;
}

export interface System {
  readonly clock: Clock;
  readonly facts: HostFacts;
  readonly pid: number;
  /** Local wall clock (ms since the epoch), to notice a suspend while waiting. */
  wallNow(): number;
  /** Resolves the configuration (throws ConfigError/UsageError before anything is sent). */
  connect(kubeConfig: KubeConfig | undefined, namespace: string | undefined): Promise<LibSession>;
}

/** How a library user fixes a configuration error (the command line names its flags instead). */
const HINTS = {
  kubeconfig: 'pass a KubeConfig (the kubeConfig option)',
  context: 'pass a KubeConfig whose current context is set (setCurrentContext)',
};

export const nodeSystem: System = {
  clock: systemClock,
  facts: {
    env: process.env,
    hostname: () => hostname(),
    username: () => loginName(() => userInfo().username, process.env, process.getuid?.()),
  },
  pid: process.pid,
  wallNow: () => Date.now(),
  async connect(kubeConfig, namespace) {
    const kube = await import('../kube/index.ts');
    const options = { namespace, requestTimeoutMs: 0, verbosity: 0, env: process.env, log: () => {}, hints: HINTS };
    return kubeConfig === undefined ? kube.connect(options) : kube.connectKubeConfig(kubeConfig, options);
  },
};
