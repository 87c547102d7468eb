// Times as cmlock writes, reads and shows them: RFC 3339 in UTC. Records hold milliseconds; people see whole
// seconds, as kubectl shows times. One home for the formats and for the two ways of reading a time: strictly (a
// record's own times, on which expiry is judged) and leniently (any time others wrote, only to show it).

/** 0000-01-01T00:00:00Z: RFC 3339 has no earlier time (a Date can hold one, but it prints as -000001-...). */
export const EARLIEST_RFC3339_MS = -62_167_219_200_000;

/** 2026-11-26T06:30:00.123Z: how records and LockView hold times. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** 2026-11-26T06:30:00Z, as kubectl shows times; '?' for a time no Date can hold. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return '?';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** ms since the epoch of a strictly RFC 3339 text (what expiry may be judged on); else undefined. */
export function parseRfc3339(text: string | undefined): number | undefined {
  if (text === undefined || !RFC3339.test(text)) return undefined;
  return parseTime(text);
}

/** ms since the epoch of any time Date.parse reads (to show times others wrote); undefined for '' or nonsense. */
export function parseTime(text: string): number | undefined {
  if (text === '') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
