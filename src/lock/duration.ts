// Durations in Go syntax (`30s`, `5m`, `1h30m`), as kubectl takes them.
// Hand-written because no npm library parses Go's syntax strictly (they accept "30" or "5 minutes").

import { UsageError } from '../errors.ts';
import { quote } from './text.ts';

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_NS = 2n ** 63n - 1n; // Go's time.Duration is an int64 of nanoseconds
// One component: digits, an optional fraction, then a unit (everything up to the next digit or dot, as in Go).
const COMPONENT = /(\d*)(?:\.(\d*))?([^\d.]*)/y;

/** Parses a Go duration (time.ParseDuration) into milliseconds; throws UsageError on anything else. */
export function parseDuration(text: string): number {
  const invalid = () => new UsageError(`invalid duration ${quote(text)}: use Go syntax like 30s, 5m, 1h30m`);
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let totalNs = 0n;
  for (let at = 0; at < rest.length;) {
    COMPONENT.lastIndex = at;
    const match = COMPONENT.exec(rest);
    const [all = '', whole = '', fraction, unitName = ''] = match ?? [];
    const unit = NS_PER_UNIT[unitName];
    if (all === '' || (whole === '' && !fraction) || unit === undefined) throw invalid();
    totalNs += BigInt(whole || '0') * unit + fractionNs(fraction ?? '', unit);
    if (totalNs > MAX_NS) throw invalid();
    at += all.length;
  }
  const ms = Number(totalNs) / 1e6;
  return negative && ms !== 0 ? -ms : ms;
}

/** The fraction `digits` of `unit`, in whole nanoseconds (truncated, as Go does). */
function fractionNs(digits: string, unit: bigint): bigint {
  if (digits === '') return 0n;
  return (BigInt(digits) * unit) / 10n ** BigInt(digits.length);
}

/**
 * Go-style text for a duration in ms, without Go's trailing zero units: "1h30m", "45s", "2m5s", "1h0m5s",
 * "1.5s", "250ms", "0s". parseDuration(formatDuration(x)) === x for whole milliseconds.
 */
export function formatDuration(ms: number): string {
  if (ms === 0 || !Number.isFinite(ms)) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Number(abs.toFixed(6))}ms`;
  const total = Math.round(abs);
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const secondsMs = total % 60_000;
  let text = hours > 0 ? `${hours}h` : '';
  if (minutes > 0 || (hours > 0 && secondsMs > 0)) text += `${minutes}m`;
  if (secondsMs > 0) {
    const fraction = secondsMs % 1000 === 0 ? '' : `.${String(secondsMs % 1000).padStart(3, '0')}`.replace(/0+$/, '');
    text += `${Math.floor(secondsMs / 1000)}${fraction}s`;
  }
  return sign + text;
}

/**
 * An approximate duration for people, as kubectl prints ages (k8s.io/apimachinery HumanDuration):
 * "45s", "5m30s", "29m", "2h15m", "3d", "2y".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}
