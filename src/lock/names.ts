// Kubernetes' naming rules for what becomes part of a ConfigMap (its name, namespace and labels), and the label
// every lock carries. One home for each rule: the command line, the protocol and the kubeconfig reader all check
// here. A bad value is a usage error (exit 2) found before anything is sent to the cluster.

import { UsageError } from '../errors.ts';
import { printable, quote } from './text.ts';

/** Every lock carries this label (the protocol writes it, the store selects on it); users may not change it. */
export const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kubectl-cmlock';
/** `key=value`: the label as a selector. */
export const MANAGED_BY_LABEL = `${MANAGED_BY_KEY}=${MANAGED_BY_VALUE}`;
/** `!key`: every ConfigMap without the label, where the Go library's locks are (it writes no label of its own). */
export const UNMANAGED_SELECTOR = `!${MANAGED_BY_KEY}`;

/** A lock cmlock wrote (the label the managed-by selector finds). */
export function isManaged(labels: Record<string, string>): boolean {
  return labels[MANAGED_BY_KEY] === MANAGED_BY_VALUE;
}

const LOCK_NAME_RULE =
  "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', " +
  'starting and ending with a letter or digit, at most 253 characters)';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_ONLY = new RegExp(`^${DNS1123_LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Kubernetes' IsDNS1123Label: what a namespace name must be. */
function isDns1123Label(text: string): boolean {
  return text.length <= 63 && DNS1123_LABEL_ONLY.test(text);
}

/** Kubernetes' IsDNS1123Subdomain: what a ConfigMap or Pod name must be. */
export function isDns1123Subdomain(text: string): boolean {
  return text.length <= 253 && DNS1123_SUBDOMAIN.test(text);
}

export function validateLockName(name: string): void {
  if (!isDns1123Subdomain(name)) throw new UsageError(`invalid lock name ${quote(name)}: ${LOCK_NAME_RULE}`);
}

export function validateNamespace(namespace: string): void {
  if (!isDns1123Label(namespace)) {
    throw new UsageError(
      `invalid namespace "${namespace}": must be at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
}

/** `[prefix/]name` as Kubernetes' IsQualifiedName checks label keys. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  if (slash >= 0 && !isDns1123Subdomain(key.slice(0, slash))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** Kubernetes' IsValidLabelValue. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME.test(value));
}

/** The labels a lock is written with: the given ones plus managed-by. */
export function lockLabels(labels: Record<string, string>): Record<string, string> {
  return { ...labels, [MANAGED_BY_KEY]: MANAGED_BY_VALUE };
}

/**
 * A holder identity: any printable text that fits on one line. `source` names where it came from in the
 * caller's words (a flag, an environment variable, an option).
 */
export function validateIdentity(value: string, source: string): string {
  if (value.trim() === '') throw new UsageError(`${source} must not be empty`);
  if (printable(value) !== value) {
    throw new UsageError(`${source} must not contain control characters or bidirectional overrides`);
  }
  if (value.length > 253) throw new UsageError(`${source} must be at most 253 characters`);
  return value;
}

/** One label of a lock, as Kubernetes checks label keys and values; the managed-by label cannot be changed. */
export function validateLabel(key: string, value: string): void {
  if (!isLabelKey(key)) {
    throw new UsageError(
      `invalid label key ${quote(key)}: use an optional DNS subdomain prefix and '/', then a name of at most ` +
        "63 characters (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)",
    );
  }
  if (!isLabelValue(value)) {
    throw new UsageError(
      `invalid value ${quote(value)} for label ${quote(key)}: use at most 63 characters (letters, digits, ` +
        "'-', '_' and '.', starting and ending with a letter or digit), or nothing",
    );
  }
  if (key === MANAGED_BY_KEY && value !== MANAGED_BY_VALUE) {
    throw new UsageError(`label ${quote(MANAGED_BY_KEY)} is set by kubectl-cmlock and cannot be changed`);
  }
}
