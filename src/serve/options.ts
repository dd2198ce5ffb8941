/** Parsing of the `gomirror serve` options into checked types (pure). */
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { SumdbSpec } from '../config/sumdb-spec.js';
import { parseHttpUrl } from '../config/values.js';
import { FALLBACK_DEFAULTS, type SumdbFallbackConfig } from './sumdb-fallback.js';

/**
 * The checksum-database fallback of `serve` from `--sumdb-fallback`: absent
 * or "off" means none (the default: an air-gapped tree has nowhere to fall
 * back to); "on" or an empty value uses the `--sumdb` URL; a URL is used as
 * given. Only paths of the `--sumdb` name are passed on. Pure.
 */
export function parseSumdbFallback(value: unknown, sumdb: SumdbSpec): SumdbFallbackConfig | undefined {
  if (value === undefined || value === null || value === false || value === 'off' || value === 'false') return undefined;
  let url: string;
  if (value === true || value === '' || value === 'on' || value === 'true') url = sumdb.url;
  else if (typeof value === 'string') url = parseHttpUrl(value, 'sumdb-fallback');
  else {
    throw new GomirrorError(ErrorCodes.CONFIG, `--sumdb-fallback: expected on, off or a URL, got ${JSON.stringify(value)}`, { op: 'config.sumdb-fallback' });
  }
  return { name: sumdb.name, url, ...FALLBACK_DEFAULTS };
}

/** `--max-connections`: a whole number from 1 to 100000; undefined keeps the default. Pure. */
export function parseMaxConnections(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : /^[0-9]+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new GomirrorError(ErrorCodes.CONFIG, `--max-connections: expected a whole number from 1 to 100000, got ${JSON.stringify(value)}`, { op: 'config.max-connections' });
  }
  return n;
}
