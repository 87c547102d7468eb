// Who holds a lock from here: the identity its record carries and the Pod that owns it, decided from facts the
// caller gathers (the environment, host and user names, whether the in-cluster config is in use). The command
// line (cli/connection.ts) and the library (lib/) both decide here; nothing in this file reads process.*.
// Messages name the option through the caller's words (`source`), so no flag is spelled here.

import { CmlockError } from '../errors.ts';
import { isDns1123Subdomain, validateIdentity } from './names.ts';
import type { OwnerReference } from './store.ts';

/** The facts about this process that identity and Pod detection read. */
export interface HostFacts {
  readonly env: Readonly<Record<string, string | undefined>>;
  hostname(): string;
  username(): string;
}

/** What the Kubernetes connection knows of where we run (kube's KubeSession has both). */
export interface Placement {
  readonly inCluster: boolean;
  /** Under the in-cluster config: the Pod's namespace (the service account's namespace file). */
  readonly podNamespace: string | undefined;
}

export interface ThisPod {
  name: string;
  namespace: string;
  /** Where the name came from, for warnings. */
  from: '$POD_NAME' | 'the hostname';
}

/**
 * The Pod this process runs in: $POD_NAME and $POD_NAMESPACE (the downward API); else, under the in-cluster
 * config, the hostname (Kubernetes sets it to the Pod's name unless the Pod spec sets one) in the service
 * account's namespace. Undefined outside a Pod.
 */
export function thisPod(facts: HostFacts, placement: Placement): ThisPod | undefined {
  const name = facts.env['POD_NAME'];
  const namespace = facts.env['POD_NAMESPACE'];
  if (name && namespace) return { name, namespace, from: '$POD_NAME' };
  if (!placement.inCluster || placement.podNamespace === undefined) return undefined;
  const pod = { name: name || facts.hostname(), namespace: namespace || placement.podNamespace };
  if (!isDns1123Subdomain(pod.name)) return undefined;
  return { ...pod, from: name ? '$POD_NAME' : 'the hostname' };
}

/** An identity the caller gave, and the words that name where it came from (e.g. its flag). */
export interface GivenIdentity {
  value: string;
  source: string;
}

/** The identity given, else $CMLOCK_IDENTITY, else pod/NAMESPACE/NAME inside a Pod, else USER@HOST. */
export function holderIdentity(given: GivenIdentity | undefined, facts: HostFacts, pod: ThisPod | undefined): string {
  if (given !== undefined) return validateIdentity(given.value, given.source);
  const fromEnv = facts.env['CMLOCK_IDENTITY'];
  if (fromEnv !== undefined && fromEnv !== '') return validateIdentity(fromEnv, 'CMLOCK_IDENTITY');
  if (pod !== undefined) return `pod/${pod.namespace}/${pod.name}`;
  return `${facts.username()}@${facts.hostname()}`;
}

/**
 * An identity unique to one holder in this process, `base/TAG-PID-XXXX`: two `run`s (tag "run"), or two library
 * Lock objects (tag "lib"), by the same person on the same host then exclude each other.
 */
export function processIdentity(base: string, tag: string, pid: number, random: () => number): string {
  const suffix = Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${base}/${tag}-${pid}-${suffix}`;
}

/**
 * The login name: the user database's, else $USER or $LOGNAME, else the uid (a container running as an
 * arbitrary UID has no passwd entry).
 */
export function loginName(
  read: () => string,
  env: Readonly<Record<string, string | undefined>>,
  uid: number | undefined,
): string {
  try {
    return read();
  } catch {
    return env['USER'] || env['LOGNAME'] || `uid-${uid ?? 'unknown'}`;
  }
}

/** Which Pod owns the lock: automatic (this process's Pod, best effort), none, or a named Pod of the lock's namespace. */
export type OwnerChoice =
  { readonly kind: 'auto' } | { readonly kind: 'none' } | { readonly kind: 'pod'; readonly name: string };

/** A named owner Pod that does not exist: nothing was written. */
export class OwnerPodNotFoundError extends CmlockError {
  readonly pod: string;
  readonly namespace: string;
  constructor(pod: string, namespace: string, source: string) {
    super(
      `pod "${pod}" not found in namespace "${namespace}": ${source} must name an existing Pod in the lock's namespace`,
    );
    this.pod = pod;
    this.namespace = namespace;
  }
}

export interface OwnerLookup {
  /** The lock's namespace: an owner reference cannot cross namespaces. */
  namespace: string;
  /** This process's Pod (thisPod), for the automatic owner. */
  pod: ThisPod | undefined;
  /** The UID of a Pod, or undefined when it does not exist; throws on other errors (e.g. 403). */
  getPodUid(namespace: string, name: string, signal?: AbortSignal): Promise<string | undefined>;
  signal?: AbortSignal;
  /** The words that name the owner option in an error (e.g. its flag). */
  source: string;
  /** Why the automatic owner was left out (one line); the lock works without it. */
  warn(line: string): void;
}

function podOwner(name: string, uid: string): OwnerReference {
  return { apiVersion: 'v1', kind: 'Pod', name, uid };
}

/**
 * The owner reference to write, with the Pod's real UID. A named Pod that does not exist is an error; the
 * automatic owner is best effort (a warning), since the lock still works without it.
 */
export async function resolveOwner(choice: OwnerChoice, lookup: OwnerLookup): Promise<OwnerReference | undefined> {
  switch (choice.kind) {
    case 'none':
      return undefined;
    case 'pod': {
      const uid = await lookup.getPodUid(lookup.namespace, choice.name, lookup.signal);
      if (uid === undefined) throw new OwnerPodNotFoundError(choice.name, lookup.namespace, lookup.source);
      return podOwner(choice.name, uid);
    }
    case 'auto': {
      const pod = lookup.pod;
      if (pod === undefined) return undefined;
      if (pod.namespace !== lookup.namespace) return undefined; // cannot cross namespaces; the lock simply has no owner
      try {
        const uid = await lookup.getPodUid(pod.namespace, pod.name, lookup.signal);
        if (uid !== undefined) return podOwner(pod.name, uid);
        const hint = pod.from === '$POD_NAME' ? '' : '; set POD_NAME and POD_NAMESPACE from the downward API';
        lookup.warn(`pod "${pod.name}" (from ${pod.from}) not found; the lock is not tied to a Pod${hint}`);
      } catch (err) {
        if (lookup.signal?.aborted === true) throw err;
        const why = err instanceof Error ? err.message : String(err);
        lookup.warn(`the lock is not tied to pod "${pod.name}": ${why}`);
      }
      return undefined;
    }
  }
}
