/**
 * Typed access to the raw, merged option bag (flags > GOMIRROR_* environment
 * > JSON config file > defaults, merged by yargs): every command's parse
 * function reads its options through these helpers, which throw CONFIG
 * errors (exit 2) naming the key. Pure.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/** The raw, merged option bag as yargs hands it over. */
export type RawOptions = Record<string, unknown>;

/** Throws the CONFIG error of option `key`: `config "key": problem`. */
export function fail(key: string, problem: string): never {
  throw new GomirrorError(ErrorCodes.CONFIG, `config "${key}": ${problem}`, { op: 'config.parse', detail: { key } });
}

/** True when option `key` was given a value (not absent, null, empty string or empty list). */
export function given(raw: RawOptions, key: string): boolean {
  const v = raw[key];
  return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
}

/** The value of a scalar option: the last one when a flag was repeated (the last wins); undefined when not given. */
function lastValue(raw: RawOptions, key: string): unknown {
  const v = raw[key];
  const last: unknown = Array.isArray(v) ? v[v.length - 1] : v;
  return last === undefined || last === null || last === '' ? undefined : last;
}

/** A string option (a path, a URL, a word); anything but a string is a CONFIG error naming the key. */
export function stringOption(raw: RawOptions, key: string): string | undefined {
  const v = lastValue(raw, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(key, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** A scalar option that may be written as a number in a config file (a count, a port): its text. */
export function numericText(raw: RawOptions, key: string): string | undefined {
  const v = lastValue(raw, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number')
    fail(key, `expected a string or a number, got ${JSON.stringify(v)}`);
  return String(v);
}

/** A whole number between min and max (a string from a flag, or a number from a config file). */
export function intOption(raw: RawOptions, key: string, min: number, max: number): number | undefined {
  const s = numericText(raw, key);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) fail(key, `expected a whole number, got ${JSON.stringify(s)}`);
  const n = Number(s);
  if (n < min || n > max) fail(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A list option: repeatable flags, comma lists, or a JSON array of strings in the config file. */
export function listOption(raw: RawOptions, key: string): string[] {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return [];
  const items = Array.isArray(v) ? v : [v];
  return items.flatMap((item) => {
    if (typeof item !== 'string') fail(key, `expected a string, got ${JSON.stringify(item)}`);
    return item
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  });
}

/** A boolean option: true/false (or "true"/"1", "false"/"0"/"" from the environment); `dflt` when not given. */
export function flag(raw: RawOptions, key: string, dflt = false): boolean {
  const v = lastValue(raw, key) ?? (raw[key] === '' ? false : undefined);
  if (v === undefined) return dflt;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  return fail(key, `expected true or false, got ${JSON.stringify(v)}`);
}

/** One of `allowed`; `dflt` when not given. */
export function enumOption<T extends string>(raw: RawOptions, key: string, allowed: readonly T[], dflt: T): T {
  const s = stringOption(raw, key);
  if (s === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(s))
    fail(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(s)}`);
  return s as T;
}
