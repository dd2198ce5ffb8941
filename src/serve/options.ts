/**
 * The checksum-database fallback of `gomirror serve` from its checked options (the value parsers are in
 * src/config/values.ts). Pure.
 */
import type { SumdbSpec } from '../config/sumdb-spec.js';
import { parseSumdbFallbackUrl } from '../config/values.js';
import { FALLBACK_DEFAULTS, type SumdbFallbackConfig } from './sumdb-fallback.js';

/**
 * The checksum-database fallback of `serve` from `--sumdb-fallback`: absent
 * or "off" means none (the default: an air-gapped tree has nowhere to fall
 * back to); "on" or an empty value uses the `--sumdb` URL; a URL is used as
 * given. Only paths of the `--sumdb` name are passed on. Pure.
 */
export function parseSumdbFallback(value: unknown, sumdb: SumdbSpec): SumdbFallbackConfig | undefined {
  const url = parseSumdbFallbackUrl(value, sumdb);
  return url === undefined ? undefined : sumdbFallbackConfig(sumdb, url);
}

/** The fallback of `serve` to `url` for the paths of the `--sumdb` name, with the default limits. */
export function sumdbFallbackConfig(sumdb: SumdbSpec, url: string): SumdbFallbackConfig {
  return { name: sumdb.name, url, ...FALLBACK_DEFAULTS };
}

export { parseMaxConnections } from '../config/values.js';
