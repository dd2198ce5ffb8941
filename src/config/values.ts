/**
 * The value parsers of the configuration, in one place: byte sizes,
 * durations, http(s) URLs and RFC 3339 times (checksum-database specs are in
 * ./sumdb-spec.ts). Each turns text into a checked value or throws a CONFIG
 * error (exit 2) naming the option. Pure.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { isRfc3339 } from '../module/time.js';
import { fail } from './raw.js';

/** "1G", "512M", "64K", "1.5GiB", "1000" (bytes, binary units); undefined when malformed. */
export function parseByteSize(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(s);
  if (!m) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit];
  if (mult === undefined) return undefined;
  const n = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(n) ? n : undefined;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * "<n><unit>[<n><unit>…]" with units ms, s, m, h, d (e.g. "90s", "1h30m", "1.5h") in milliseconds; undefined when
 * malformed.
 */
export function durationMs(value: string): number | undefined {
  const s = value.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  return Math.round(total);
}

/** Longest accepted interval: 30 days (setTimeout cannot wait longer than ~24.8 days in one go anyway). */
export const MAX_DURATION_MS = 30 * 86_400_000;

/**
 * Parses a duration such as "30s", "15m" or "1h30m" into milliseconds; throws
 * CONFIG naming `key` when malformed, zero, or over 30 days.
 */
export function parseDuration(value: string, key = 'interval'): number {
  const bad = (why: string): never => {
    throw new GomirrorError(ErrorCodes.CONFIG, `config "${key}": ${why}, got ${JSON.stringify(value)}`, {
      op: 'config.duration',
      detail: { key },
    });
  };
  const total = durationMs(value);
  if (total === undefined) return bad('expected a duration like 30s, 15m, 1h or 1h30m');
  if (total <= 0) bad('must be greater than zero');
  if (total > MAX_DURATION_MS) bad('must be at most 30d');
  return total;
}

/** A duration between minMs and maxMs (fetch policy options: retry give-up age, request deadline). */
export function parseBoundedDuration(value: string, key: string, minMs: number, maxMs: number): number {
  const ms = durationMs(value);
  if (ms === undefined) return fail(key, `expected a duration like 500ms, 30s, 1h or 7d, got ${JSON.stringify(value)}`);
  if (ms < minMs || ms > maxMs)
    fail(key, `must be between ${minMs} ms and ${maxMs / 86_400_000} days, got ${JSON.stringify(value)}`);
  return ms;
}

const SKEW_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** A clock-skew allowance: "<n>s", "<n>m" or "<n>h" (at most 24h; "0s" allows none). */
export function parseClockSkew(value: string, key: string): number {
  const m = /^(\d{1,6})(s|m|h)$/.exec(value.trim());
  const ms = m ? Number(m[1]) * (SKEW_UNITS_MS[m[2] as string] ?? 0) : NaN;
  if (!(ms >= 0 && ms <= 86_400_000))
    fail(key, `expected a duration like 30s, 10m or 1h (at most 24h), got ${JSON.stringify(value)}`);
  return ms;
}

/** An RFC 3339 time such as 2019-04-10T19:08:52.997264Z, returned as given. */
export function parseRfc3339(value: string, key: string): string {
  if (!isRfc3339(value))
    fail(key, `expected an RFC 3339 time like 2019-04-10T19:08:52.997264Z, got ${JSON.stringify(value)}`);
  return value;
}

/** Checks that `value` is an http(s) URL and returns it without a trailing slash. */
export function parseHttpUrl(value: string, option: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new GomirrorError(ErrorCodes.CONFIG, `--${option}: ${JSON.stringify(value)} is not a URL`, {
      op: 'config.url',
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new GomirrorError(ErrorCodes.CONFIG, `--${option}: ${value} must be an http or https URL`, {
      op: 'config.url',
    });
  }
  if (u.search || u.hash) {
    throw new GomirrorError(ErrorCodes.CONFIG, `--${option}: ${value} must not have a query or fragment`, {
      op: 'config.url',
    });
  }
  return u.toString().replace(/\/+$/, '');
}

/** A listen address: HOST:PORT, [IPV6]:PORT or PORT (host 127.0.0.1). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new GomirrorError(
      ErrorCodes.CONFIG,
      `config "listen": expected HOST:PORT, [IPV6]:PORT or PORT, got ${JSON.stringify(value)}`,
      {
        op: 'config.listen',
        detail: { key: 'listen' },
      },
    );
  }
  const host = m[1] || m[2] || '127.0.0.1';
  return { host, port };
}

/** `--max-connections`: a whole number from 1 to 100000; undefined keeps the default. */
export function parseMaxConnections(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : /^[0-9]+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new GomirrorError(
      ErrorCodes.CONFIG,
      `--max-connections: expected a whole number from 1 to 100000, got ${JSON.stringify(value)}`,
      { op: 'config.max-connections' },
    );
  }
  return n;
}

/**
 * Where `serve --sumdb-fallback` fetches what the tree lacks: absent or "off"
 * means nowhere (the air-gap default); "on" or an empty value the `--sumdb`
 * URL; a URL as given.
 */
export function parseSumdbFallbackUrl(value: unknown, sumdb: { url: string }): string | undefined {
  if (value === undefined || value === null || value === false || value === 'off' || value === 'false')
    return undefined;
  if (value === true || value === '' || value === 'on' || value === 'true') return sumdb.url;
  if (typeof value === 'string') return parseHttpUrl(value, 'sumdb-fallback');
  throw new GomirrorError(
    ErrorCodes.CONFIG,
    `--sumdb-fallback: expected on, off or a URL, got ${JSON.stringify(value)}`,
    { op: 'config.sumdb-fallback' },
  );
}
