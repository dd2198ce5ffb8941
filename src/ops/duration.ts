/** Parsing of human durations such as "30s", "15m", "1h30m" (daemon --interval). Pure. */
import { ErrorCodes, GomirrorError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Longest accepted duration: 30 days (setTimeout cannot wait longer than ~24.8 days in one go anyway). */
export const MAX_DURATION_MS = 30 * 86_400_000;

/**
 * Parses "<n><unit>[<n><unit>…]" with units ms, s, m, h, d (e.g. "90s", "1h30m") into
 * milliseconds; throws CONFIG naming `key` when malformed, zero, or over 30 days.
 */
export function parseDuration(value: string, key = 'interval'): number {
  const s = value.trim();
  const bad = (why: string): never => {
    throw new GomirrorError(ErrorCodes.CONFIG, `config "${key}": ${why}, got ${JSON.stringify(value)}`, {
      op: 'config.duration',
      detail: { key },
    });
  };
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) bad('expected a duration like 30s, 15m, 1h or 1h30m');
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  }
  total = Math.round(total);
  if (total <= 0) bad('must be greater than zero');
  if (total > MAX_DURATION_MS) bad('must be at most 30d');
  return total;
}

/** Formats milliseconds as the shortest "1h2m3s"-style string (sub-second values as "Nms"). Pure. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, secs] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= secs) {
      parts.push(`${Math.floor(rest / secs)}${unit}`);
      rest %= secs;
    }
  }
  return parts.join('');
}
