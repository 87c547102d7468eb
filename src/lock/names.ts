// Local validation of what becomes part of a ConfigMap: its name and its labels. A bad value is a usage
// error (exit 2) found before anything is sent to the cluster.

import { UsageError } from '../errors.ts';
import { quote } from './text.ts';

/** Every lock carries this label; `ls` selects on it. Users may not set it to anything else. */
export const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kubectl-cmlock';
export const MANAGED_BY_LABEL = `${MANAGED_BY_KEY}=${MANAGED_BY_VALUE}`;

export const LOCK_NAME_RULE =
  "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', " +
  'starting and ending with a letter or digit, at most 253 characters)';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Kubernetes' IsDNS1123Subdomain: what a ConfigMap name must be. */
export function isDns1123Subdomain(text: string): boolean {
  return text.length <= 253 && DNS1123_SUBDOMAIN.test(text);
}

export function validateLockName(name: string): void {
  if (!isDns1123Subdomain(name)) throw new UsageError(`invalid lock name ${quote(name)}: ${LOCK_NAME_RULE}`);
}

/** `[prefix/]name` as Kubernetes' IsQualifiedName checks label keys. */
function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  if (slash >= 0 && !isDns1123Subdomain(key.slice(0, slash))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME.test(value));
}

/**
 * `-l/--labels` values, each `k=v` or `k1=v1,k2=v2`, into one map. Keys and values are checked as Kubernetes
 * checks label keys and values; the managed-by label cannot be changed.
 */
export function parseLabels(items: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    for (const pair of item.split(',')) {
      const eq = pair.indexOf('=');
      if (eq < 0) throw new UsageError(`invalid label ${quote(pair)}: use key=value, e.g. team=payments`);
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
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
      if (Object.hasOwn(labels, key) && labels[key] !== value) {
        throw new UsageError(`label ${quote(key)} is given twice with different values`);
      }
      labels[key] = value;
    }
  }
  return labels;
}

/** The labels a lock is written with: the user's plus managed-by. */
export function lockLabels(userLabels: Record<string, string>): Record<string, string> {
  return { ...userLabels, [MANAGED_BY_KEY]: MANAGED_BY_VALUE };
}
