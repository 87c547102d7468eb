// Flag values to typed options; every failure is a UsageError (exit 2) that names the flag, in pflag's words:
// `invalid argument "30" for "--ttl" flag: use Go syntax like 30s, 5m, 1h30m`.

import { UsageError } from '../errors.ts';
import { parseDuration } from '../lock/duration.ts';
import { isDns1123Subdomain, parseLabels, validateLockName } from '../lock/names.ts';
import { printable } from '../lock/text.ts';

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
  let ms: number;
  if (rules.bareSeconds === true && /^-?\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    try {
      ms = parseDuration(value);
    } catch (err) {
      // parseDuration says `invalid duration "30": use Go syntax ...`; the value is already quoted above.
      throw invalid((err instanceof Error ? err.message : String(err)).replace(/^invalid duration "[^"]*": /, ''));
    }
  }
  if (ms < 0 && rules.negative !== true) throw invalid('must not be negative');
  if (ms > 0 && rules.min !== undefined && ms < rules.min) throw invalid(`must be 0 or at least ${rules.min / 1000}s`);
  return ms;
}

/** `-l a=b,c=d -l e=f` into one map. */
export function labels(values: readonly string[]): Record<string, string> {
  return parseLabels(values);
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

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A namespace or Pod name: a DNS-1123 label. */
export function dnsLabel(what: string, value: string): string {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new UsageError(
      `invalid ${what} "${value}": must be at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
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

/** --identity / $CMLOCK_IDENTITY: any printable text that fits on one line. */
export function identity(value: string, source: string): string {
  if (value.trim() === '') throw new UsageError(`${source} must not be empty`);
  if (printable(value) !== value) {
    throw new UsageError(`${source} must not contain control characters or bidirectional overrides`);
  }
  if (value.length > 253) throw new UsageError(`${source} must be at most 253 characters`);
  return value;
}
