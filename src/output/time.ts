// Times for humans. Relative times are computed against `now`, the server's clock as the command estimates it
// (ms since the epoch), so a client whose own clock is wrong still prints the right ages. Durations are kubectl's
// HumanDuration (45s, 5m12s, 3h4m, 2d3h, 400d), from src/lock/duration.ts; times are read and formatted by
// src/lock/time.ts.

import { humanDuration } from '../lock/duration.ts';
import { formatTime, parseTime } from '../lock/time.ts';

/** AGE column: time since `since`, or `<unknown>`. */
export function formatAge(since: string, now: number): string {
  const t = parseTime(since);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}

/** EXPIRES column: `in 29m`, `expired 3m ago`, or `never` for a lock without expiry. */
export function formatExpires(expiresAt: string, now: number): string {
  if (expiresAt === '') return 'never';
  const t = parseTime(expiresAt);
  if (t === undefined) return '<unknown>';
  return t > now ? `in ${humanDuration(t - now)}` : `expired ${humanDuration(now - t)} ago`;
}

/**
 * `5m ago` / `in 24m`. A time less than a second ahead is now: `now` is a lower bound on the server's clock (see
 * ServerClock), so a record written a moment ago can read as up to a second in the future ("in 0s").
 */
export function formatRelative(time: string, now: number): string {
  const t = parseTime(time);
  if (t === undefined) return '<unknown>';
  return t >= now + 1000 ? `in ${humanDuration(t - now)}` : `${humanDuration(Math.max(0, now - t))} ago`;
}

/** RFC 3339 in UTC without fractions: 2026-11-26T06:30:00Z. */
export function formatTimestamp(time: string): string {
  const t = parseTime(time);
  return t === undefined ? '<unknown>' : formatTime(t);
}

/** Wall-clock time in UTC for one-line messages: `07:00:00Z` on the same UTC day as `now`, else the full timestamp. */
export function formatClock(time: string, now: number): string {
  const full = formatTimestamp(time);
  if (full === '<unknown>') return full;
  const today = new Date(now).toISOString().slice(0, 10);
  return full.startsWith(today) ? full.slice(11) : full;
}
