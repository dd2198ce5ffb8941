/**
 * Parsing of the `--sumdb` / GOSUMDB value: "NAME+HASH+KEY [URL]", or the
 * shorthands the go command accepts (cmd/go/internal/modfetch: knownGOSUMDB
 * and the sum.golang.google.cn alias). Pure.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { parseHttpUrl } from './values.js';

export interface SumdbSpec {
  /** The checksum database name, e.g. "sum.golang.org". */
  name: string;
  /** The full verifier key "name+hash+base64key". */
  key: string;
  /** Base URL without trailing slash. */
  url: string;
}

/** The verifier key of sum.golang.org (also served, under the same name, by sum.golang.google.cn). */
export const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

export const DEFAULT_SUMDB = `${SUM_GOLANG_ORG_KEY} https://sum.golang.org`;

/** Bare names the go command replaces by their key (its knownGOSUMDB): exactly these, case-sensitive. */
const KNOWN_KEYS: Readonly<Record<string, string>> = { 'sum.golang.org': SUM_GOLANG_ORG_KEY };

/** Whole values the go command rewrites first: sum.golang.google.cn is sum.golang.org reachable from mainland China. */
const ALIASES: Readonly<Record<string, string>> = {
  'sum.golang.google.cn': `sum.golang.org https://sum.golang.google.cn`,
};

function usage(value: string, why: string): GomirrorError {
  return new GomirrorError(
    ErrorCodes.CONFIG,
    `--sumdb must be "NAME+HASH+KEY [URL]", or sum.golang.org or sum.golang.google.cn (optionally followed ` +
      `by a URL for sum.golang.org); ${why}, got ${JSON.stringify(value)}`,
    { op: 'config.sumdb' },
  );
}

/**
 * Parses a GOSUMDB-style value as the go command does: the whole value
 * "sum.golang.google.cn" means "sum.golang.org https://sum.golang.google.cn",
 * a first field "sum.golang.org" means its key; without a URL the database is
 * at https://NAME. Any other bare name is a CONFIG error.
 */
export function parseSumdbSpec(value: string): SumdbSpec {
  const trimmed = value.trim();
  const fields = (ALIASES[trimmed] ?? trimmed).split(/\s+/);
  if (fields.length > 2) throw usage(value, 'too many fields');
  const first = fields[0] ?? '';
  const key = KNOWN_KEYS[first] ?? first;
  if (!/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/.test(key)) {
    throw usage(
      value,
      key.includes('+') || key === ''
        ? 'the key is malformed'
        : `${JSON.stringify(key)} is not a checksum database the go command knows by name`,
    );
  }
  const name = key.slice(0, key.indexOf('+'));
  if (
    !/^[a-z0-9.-]+(:[0-9]+)?$/i.test(name) ||
    !/[a-z0-9]/i.test(name.split(':')[0] ?? '') ||
    /^\.|\.\.|\.$/.test(name.split(':')[0] ?? '')
  ) {
    throw new GomirrorError(ErrorCodes.CONFIG, `--sumdb name ${JSON.stringify(name)} is not a host name`, {
      op: 'config.sumdb',
    });
  }
  const url = parseHttpUrl(fields[1] ?? `https://${name}`, 'sumdb');
  return { name, key, url };
}
