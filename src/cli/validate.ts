// Flag values to typed options; every failure is a UsageError (exit 2) that names the flag, in pflag's words:
// `invalid argument "30" for "--ttl" flag: use Go syntax like 30s, 5m, 1h30m`.

import { UsageError } from '../errors.ts';
import {
  isDns1123Subdomain,
  validateLabel,
  validateLockName,
  validateIdentity,
  validateNamespace,
} from '../lock/names.ts';
import { isLimit, MAX_LIMIT } from '../lock/queue.ts';
import { quote } from '../lock/text.ts';
import { parseGoDuration } from './go-duration.ts';

/** A lock name (DNS-1123 subdomain). */
export function lockName(name: string): string {
  validateLockName(name);
  return name;
}

export interface DurationRules {
  /** Allow negative values (`--timeout -1s` = no limit). */
  negative?: boolean;
  /** Smallest allowed value above zero, in ms (0 itself stays allowed). */
  min?: number;
  /** A bare number counts as seconds (kubectl's --request-timeout). */
  bareSeconds?: boolean;
}

/** A Go-style duration flag value in ms. */
export function duration(flag: string, value: string, rules: DurationRules = {}): number {
  const invalid = (why: string) => new UsageError(`invalid argument "${value}" for "--${flag}" flag: ${why}`);
  const ms = rules.bareSeconds === true && /^-?\d+$/.test(value) ? Number(value) * 1000 : parseGoDuration(value);
  if (ms === undefined) throw invalid('use Go syntax like 30s, 5m, 1h30m');
  if (ms < 0 && rules.negative !== true) throw invalid('must not be negative');
  if (ms > 0 && rules.min !== undefined && ms < rules.min) throw invalid(`must be 0 or at least ${rules.min / 1000}s`);
  return ms;
}

/**
 * `-l/--labels` values, each `k=v` or `k1=v1,k2=v2`, into one map (`-l a=b,c=d -l e=f`). Keys and values are
 * checked as Kubernetes checks label keys and values; the managed-by label cannot be changed.
 */
export function labels(items: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    for (const pair of item.split(',')) {
      const eq = pair.indexOf('=');
      if (eq < 0) throw new UsageError(`invalid label ${quote(pair)}: use key=value, e.g. team=payments`);
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      validateLabel(key, value);
      if (Object.hasOwn(labels, key) && labels[key] !== value) {
        throw new UsageError(`label ${quote(key)} is given twice with different values`);
      }
      labels[key] = value;
    }
  }
  return labels;
}

/** `-o` against the formats a command supports, in kubectl's words. */
export function outputFormat<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    throw new UsageError(
      `unable to match a printer suitable for the output format "${value}", allowed formats are: ${allowed.join(',')}`,
    );
  }
  return found;
}

/** A namespace: a DNS-1123 label. */
export function namespace(value: string): string {
  validateNamespace(value);
  return value;
}

/** A Pod name: a DNS-1123 subdomain. */
export function podName(value: string): string {
  if (!isDns1123Subdomain(value)) {
    throw new UsageError(
      `invalid pod name "${value}": must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")`,
    );
  }
  return value;
}

/** --identity / $CMLOCK_IDENTITY: any printable text that fits on one line (lock/names.ts). */
export function identity(value: string, source: string): string {
  return validateIdentity(value, source);
}

/** --limit: how many may hold a semaphore at once, 1 to MAX_LIMIT (1 = an ordinary lock). */
export function limit(value: string): number {
  if (!/^\d+$/.test(value) || !isLimit(Number(value))) {
    throw new UsageError(
      `invalid argument "${value}" for "--limit" flag: must be a whole number from 1 to ${MAX_LIMIT}`,
    );
  }
  return Number(value);
}

/** --shared and --limit: a lock is shared/exclusive or a semaphore, not both. */
export function holdKind(shared: boolean, limitValue: string | undefined): { shared?: true; limit?: number } {
  if (limitValue === undefined) return shared ? { shared: true } : {};
  const n = limit(limitValue);
  if (shared) {
    throw new UsageError(
      '--shared and --limit cannot be combined: a lock takes shared and exclusive holds (--shared), or is a semaphore (--limit N)',
    );
  }
  return n === 1 ? {} : { limit: n };
}
