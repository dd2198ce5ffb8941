/** Parsing of the `--sumdb` / GOSUMDB value: "NAME+HASH+KEY [URL]". Pure. */
import { ErrorCodes, GomirrorError } from '../errors.js';

export interface SumdbSpec {
  /** The checksum database name, e.g. "sum.golang.org". */
  name: string;
  /** The full verifier key "name+hash+base64key". */
  key: string;
  /** Base URL without trailing slash. */
  url: string;
}

export const DEFAULT_SUMDB =
  'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 https://sum.golang.org';

/** Parses a GOSUMDB-style value; without a URL the database is at https://NAME. */
export function parseSumdbSpec(value: string): SumdbSpec {
  const fields = value.trim().split(/\s+/);
  const key = fields[0] ?? '';
  if (fields.length > 2 || !/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/.test(key)) {
    throw new GomirrorError(ErrorCodes.CONFIG, `--sumdb must be "NAME+HASH+KEY [URL]", got ${JSON.stringify(value)}`, {
      op: 'config.sumdb',
    });
  }
  const name = key.slice(0, key.indexOf('+'));
  if (!/^[a-z0-9.-]+(:[0-9]+)?$/i.test(name) || !/[a-z0-9]/i.test(name.split(':')[0] ?? '') || /^\.|\.\.|\.$/.test(name.split(':')[0] ?? '')) {
    throw new GomirrorError(ErrorCodes.CONFIG, `--sumdb name ${JSON.stringify(name)} is not a host name`, {
      op: 'config.sumdb',
    });
  }
  const url = parseHttpUrl(fields[1] ?? `https://${name}`, 'sumdb');
  return { name, key, url };
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
