// Durations as cmlock prints them: Go's syntax (`1h30m`, `45s`), the one kubectl users type, and kubectl's
// approximate ages. Parsing a flag's Go duration is the command line's (src/cli/go-duration.ts).

/**
 * Go-style text for a duration in ms, without Go's trailing zero units: "1h30m", "45s", "2m5s", "1h0m5s",
 * "1.5s", "250ms", "0s". parseGoDuration(formatDuration(x)) === x for whole milliseconds.
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
