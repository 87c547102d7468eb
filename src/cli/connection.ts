// From global flags to a connection for the lock commands: the Kubernetes session (src/kube's KubeSession,
// opened through Runtime.connect), the lock namespace and the server clock; and who holds a lock from here (the
// identity, authenticated user and host) and which Pod owns it.

import { UsageError } from '../errors.ts';
import type { KubeSession } from '../kube/types.ts';
import {
  holderIdentity,
  resolveOwner as resolvePodOwner,
  thisPod,
  type HostFacts,
  type OwnerChoice,
} from '../lock/holder.ts';
import type { Holder, LockContext, OwnerReference, WaitStatus } from '../lock/types.ts';
import { ServerClock } from '../lock/server-clock.ts';
import type { GlobalOptions } from './command.ts';
import type { Runtime } from './runtime.ts';
import { podName } from './validate.ts';

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

/** What identity and Pod detection read of this process (lock/holder.ts decides). */
function hostFacts(rt: Runtime): HostFacts {
  return { env: rt.env, hostname: () => rt.hostname(), username: () => rt.username() };
}

/** --identity, else $CMLOCK_IDENTITY, else pod/NAMESPACE/NAME inside a Pod, else USER@HOST. */
function resolveIdentity(rt: Runtime, flag: string | undefined, session: KubeSession): string {
  const facts = hostFacts(rt);
  const given = flag === undefined ? undefined : { value: flag, source: '--identity' };
  return holderIdentity(given, facts, thisPod(facts, session));
}

/** The holder record; `withUser` asks the server who we are (SelfSubjectReview), for the commands that write it. */
export async function resolveHolder(
  rt: Runtime,
  conn: Connection,
  identityFlag: string | undefined,
  withUser: boolean,
): Promise<Holder> {
  const holder: Holder = {
    identity: resolveIdentity(rt, identityFlag, conn.session),
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
    identity = resolveIdentity(rt, undefined, conn.session);
  } catch {
    identity = `${rt.username()}@${rt.hostname()}`;
  }
  return { identity, host: rt.hostname() };
}

/** --owner: unset (automatic inside a Pod), "none", or a Pod (in the lock's namespace, when one is named). */
export type OwnerFlag = OwnerChoice | { readonly kind: 'pod'; readonly name: string; readonly namespace: string };

const CROSS_NAMESPACE = 'owner references cannot cross namespaces';

/** Parses --owner; `namespace` is -n when given, to refuse a Pod of another namespace before connecting. */
export function parseOwner(value: string | undefined, namespace: string | undefined): OwnerFlag {
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

/**
 * The owner reference to write, with the Pod's real UID (lock/holder.ts resolveOwner): a Pod named with --owner
 * that does not exist is an error; the automatic owner is best effort, a warning on stderr.
 */
export async function resolveOwner(
  rt: Runtime,
  conn: Connection,
  choice: OwnerFlag,
): Promise<OwnerReference | undefined> {
  if (choice.kind === 'pod' && 'namespace' in choice && choice.namespace !== conn.namespace) {
    throw new UsageError(
      `${CROSS_NAMESPACE}: the lock is in namespace "${conn.namespace}", pod "${choice.name}" in "${choice.namespace}"; use --owner pod/NAME for a Pod in the lock's namespace`,
    );
  }
  return resolvePodOwner(choice, {
    namespace: conn.namespace,
    pod: thisPod(hostFacts(rt), conn.session),
    getPodUid: (namespace, name, signal) => conn.session.getPodUid(namespace, name, signal),
    signal: rt.signal,
    source: '--owner',
    warn: (line) => rt.stderr.write(`warning: ${line}\n`),
  });
}
