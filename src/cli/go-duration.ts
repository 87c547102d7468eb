// Durations in Go syntax (`30s`, `5m`, `1h30m`), as kubectl takes its flags (time.ParseDuration). Hand-written
// because no npm library parses Go's syntax strictly (they accept "30" or "5 minutes"). The words of a bad value
// are the flag's (validate.ts): this only says whether, and what.

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

/** A Go duration (time.ParseDuration) in milliseconds; undefined for anything Go would refuse. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let totalNs = 0n;
  for (let at = 0; at < rest.length;) {
    COMPONENT.lastIndex = at;
    const match = COMPONENT.exec(rest);
    const [all = '', whole = '', fraction, unitName = ''] = match ?? [];
    const unit = NS_PER_UNIT[unitName];
    if (all === '' || (whole === '' && !fraction) || unit === undefined) return undefined;
    totalNs += BigInt(whole || '0') * unit + fractionNs(fraction ?? '', unit);
    if (totalNs > MAX_NS) return undefined;
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
