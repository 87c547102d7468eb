// From global flags to a connection for the lock commands: the Kubernetes session (src/kube's KubeSession,
// opened through Runtime.connect), the lock namespace and the server clock; and who holds a lock from here (the
// identity, authenticated user and host) and which Pod owns it.

import { CmlockError, UsageError } from '../errors.ts';
import type { KubeSession } from '../kube/types.ts';
import type { Holder, LockContext, OwnerReference, WaitStatus } from '../lock/types.ts';
import { isDns1123Subdomain } from '../lock/names.ts';
import { ServerClock } from '../lock/server-clock.ts';
import type { GlobalOptions } from './command.ts';
import type { Runtime } from './runtime.ts';
import { identity as validIdentity, podName } from './validate.ts';

export interface Connection {
  readonly session: KubeSession;
  /** The namespace the locks live in (-n, else the context's). */
  readonly namespace: string;
  /** The server's time, ms since the epoch (the local wall clock until a response has told it). */
  serverNow(): number;
  lockContext(holder: Holder, progress?: (status: WaitStatus) => void): LockContext;
}

/** Opens the KubeSession for these flags and the lock context built on it. Nothing is sent yet. */
export async function openConnection(
  rt: Runtime,
  g: GlobalOptions,
  options: { allNamespaces?: boolean; /** No diagnostics at all (completion). */ quiet?: boolean } = {},
): Promise<Connection> {
  // One server clock for the whole command: every response teaches it (the SelfSubjectReview too, so that
  // acquire can create the lock without reading it first), and relative times print against it.
  const serverClock = new ServerClock(rt.clock);
  const session = await rt.connect({
    kubeconfig: g.kubeconfig,
    context: g.context,
    namespace: g.namespace,
    requestTimeoutMs: g.requestTimeoutMs,
    verbosity: g.verbosity,
    env: rt.env,
    log: options.quiet === true ? () => undefined : (line) => rt.stderr.write(`${line}\n`),
    serverTime: (sample) => serverClock.observe(sample),
  });
  const store = session.store(options.allNamespaces === true ? '' : undefined);
  return {
    session,
    namespace: session.namespace,
    serverNow: () => (serverClock.known() ? serverClock.now() : rt.wallNow()),
    lockContext: (holder, progress) => ({
      store,
      clock: rt.clock,
      holder,
      progress,
      serverClock,
      times: { wall: () => rt.wallNow(), boot: () => rt.bootNow?.() },
    }),
  };
}

export interface ThisPod {
  name: string;
  namespace: string;
  /** Where the name came from, for warnings. */
  from: string;
}

/**
 * The Pod this process runs in: $POD_NAME and $POD_NAMESPACE (the downward API); else, under the in-cluster
 * config, the hostname (Kubernetes sets it to the Pod's name unless the Pod spec sets one) in the service
 * account's namespace. Undefined outside a Pod.
 */
function thisPod(rt: Runtime, session: Pick<KubeSession, 'inCluster' | 'podNamespace'>): ThisPod | undefined {
  const name = rt.env['POD_NAME'];
  const namespace = rt.env['POD_NAMESPACE'];
  if (name && namespace) return { name, namespace, from: '$POD_NAME' };
  if (!session.inCluster || session.podNamespace === undefined) return undefined;
  const pod = { name: name || rt.hostname(), namespace: namespace || session.podNamespace };
  if (!isDns1123Subdomain(pod.name)) return undefined;
  return { ...pod, from: name ? '$POD_NAME' : 'the hostname' };
}

/** --identity, else $CMLOCK_IDENTITY, else pod/NAMESPACE/NAME inside a Pod, else USER@HOST. */
function resolveIdentity(rt: Runtime, flag: string | undefined, pod: ThisPod | undefined): string {
  if (flag !== undefined) return validIdentity(flag, '--identity');
  const fromEnv = rt.env['CMLOCK_IDENTITY'];
  if (fromEnv !== undefined && fromEnv !== '') return validIdentity(fromEnv, 'CMLOCK_IDENTITY');
  if (pod !== undefined) return `pod/${pod.namespace}/${pod.name}`;
  return `${rt.username()}@${rt.hostname()}`;
}

/** The holder record; `withUser` asks the server who we are (SelfSubjectReview), for the commands that write it. */
export async function resolveHolder(
  rt: Runtime,
  conn: Connection,
  identityFlag: string | undefined,
  withUser: boolean,
): Promise<Holder> {
  const holder: Holder = {
    identity: resolveIdentity(rt, identityFlag, thisPod(rt, conn.session)),
    host: rt.hostname(),
  };
  if (withUser) {
    const user = await conn.session.whoAmI(rt.signal);
    if (user !== undefined) holder.user = user;
  }
  return holder;
}

/** The holder for commands that only read (ls, describe, wait): never fails on a bad $CMLOCK_IDENTITY. */
export function observer(rt: Runtime, conn: Connection): Holder {
  let identity: string;
  try {
    identity = resolveIdentity(rt, undefined, thisPod(rt, conn.session));
  } catch {
    identity = `${rt.username()}@${rt.hostname()}`;
  }
  return { identity, host: rt.hostname() };
}

/** --owner: unset (automatic inside a Pod), "none", or a Pod in the lock's namespace. */
export type OwnerChoice =
  | { readonly kind: 'auto' }
  | { readonly kind: 'none' }
  | { readonly kind: 'pod'; readonly name: string; readonly namespace?: string };

const CROSS_NAMESPACE = 'owner references cannot cross namespaces';

/** Parses --owner; `namespace` is -n when given, to refuse a Pod of another namespace before connecting. */
export function parseOwner(value: string | undefined, namespace: string | undefined): OwnerChoice {
  if (value === undefined) return { kind: 'auto' };
  if (value === 'none') return { kind: 'none' };
  const parts = value.split('/');
  const kind = parts[0] ?? '';
  if (!['pod', 'pods', 'po'].includes(kind) || parts.length < 2 || parts.length > 3) {
    throw new UsageError(`invalid argument "${value}" for "--owner" flag: must be pod/NAME or none`);
  }
  const name = podName(parts.at(-1) ?? '');
  if (parts.length === 2) return { kind: 'pod', name };
  const podNamespace = parts[1] ?? '';
  if (namespace !== undefined && podNamespace !== namespace) {
    throw new UsageError(
      `${CROSS_NAMESPACE}: the lock is in namespace "${namespace}", pod "${name}" in "${podNamespace}"; use --owner pod/NAME for a Pod in the lock's namespace`,
    );
  }
  return { kind: 'pod', name, namespace: podNamespace };
}

function podOwner(name: string, uid: string): OwnerReference {
  return { apiVersion: 'v1', kind: 'Pod', name, uid };
}

/**
 * The owner reference to write, with the Pod's real UID. An explicit Pod that does not exist is an error; the
 * automatic owner is best effort (a warning), since the lock still works without it.
 */
export async function resolveOwner(
  rt: Runtime,
  conn: Connection,
  choice: OwnerChoice,
): Promise<OwnerReference | undefined> {
  switch (choice.kind) {
    case 'none':
      return undefined;
    case 'pod': {
      if (choice.namespace !== undefined && choice.namespace !== conn.namespace) {
        throw new UsageError(
          `${CROSS_NAMESPACE}: the lock is in namespace "${conn.namespace}", pod "${choice.name}" in "${choice.namespace}"; use --owner pod/NAME for a Pod in the lock's namespace`,
        );
      }
      const uid = await conn.session.getPodUid(conn.namespace, choice.name, rt.signal);
      if (uid === undefined) {
        throw new CmlockError(
          `pod "${choice.name}" not found in namespace "${conn.namespace}": --owner must name an existing Pod in the lock's namespace`,
        );
      }
      return podOwner(choice.name, uid);
    }
    case 'auto': {
      const pod = thisPod(rt, conn.session);
      if (pod === undefined) return undefined;
      if (pod.namespace !== conn.namespace) return undefined; // cannot cross namespaces; the lock simply has no owner
      try {
        const uid = await conn.session.getPodUid(pod.namespace, pod.name, rt.signal);
        if (uid !== undefined) return podOwner(pod.name, uid);
        const hint = pod.from === '$POD_NAME' ? '' : '; set POD_NAME and POD_NAMESPACE from the downward API';
        rt.stderr.write(
          `warning: pod "${pod.name}" (from ${pod.from}) not found; the lock is not tied to a Pod${hint}\n`,
        );
      } catch (err) {
        if (rt.signal.aborted) throw err;
        const why = err instanceof Error ? err.message : String(err);
        rt.stderr.write(`warning: the lock is not tied to pod "${pod.name}": ${why}\n`);
      }
      return undefined;
    }
  }
}
