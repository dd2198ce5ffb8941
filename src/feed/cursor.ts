/**
 * Cursor maths for the module index feed (pure). Feed timestamps carry up to
 * nanoseconds, so they are compared as (seconds, nanos), never as JS Dates.
 * The feed's `since` is inclusive and many entries share one timestamp, so a
 * cursor remembers the keys already consumed at exactly its timestamp.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/**
 * Cursor: the last timestamp fully or partly consumed and the keys ("path@version") already seen at exactly that
 * timestamp (bounded by the size of one timestamp cluster).
 */
export interface Cursor {
  since: string;
  seenAtSince: string[];
}

/** A timestamp split into whole seconds since the epoch (UTC) and nanoseconds. */
export interface Instant {
  seconds: number;
  nanos: number;
}

/** The cursor that starts at the beginning of the index (before any entry). */
export const EPOCH_TIMESTAMP = '1970-01-01T00:00:00Z';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-](\d{2}):(\d{2}))$/;

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses an RFC 3339 timestamp (up to nanoseconds, `Z` or ±hh:mm) into an Instant, or returns undefined when it is not
 * one.
 */
export function parseTimestamp(ts: string): Instant | undefined {
  return parseUtcFast(ts) ?? parseWithRegex(ts);
}

/** The value of the n ASCII digits at ts[from..], or -1 if any is not a digit. */
function digitsAt(ts: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = ts.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The feed's own form, `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`, parsed without a
 * regular expression (the crawl's hot path); undefined for anything else,
 * which parseWithRegex then decides.
 */
function parseUtcFast(ts: string): Instant | undefined {
  const n = ts.length;
  if (n < 20 || n > 30 || ts.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (ts[4] !== '-' || ts[7] !== '-' || ts[10] !== 'T' || ts[13] !== ':' || ts[16] !== ':') return undefined;
  // Plain constants, not array destructuring: this runs once per feed line.
  const year = digitsAt(ts, 0, 4);
  const month = digitsAt(ts, 5, 2);
  const day = digitsAt(ts, 8, 2);
  const hour = digitsAt(ts, 11, 2);
  const minute = digitsAt(ts, 14, 2);
  const second = digitsAt(ts, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let nanos = 0;
  if (n > 20) {
    const fracLen = n - 21;
    if (ts[19] !== '.' || fracLen < 1 || fracLen > 9) return undefined;
    const frac = digitsAt(ts, 20, fracLen);
    if (frac < 0) return undefined;
    nanos = frac * 10 ** (9 - fracLen);
  }
  return { seconds: daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second, nanos };
}

function parseWithRegex(ts: string): Instant | undefined {
  const m = RFC3339.exec(ts);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offset = (oh * 60 + om) * 60 * (m[8]?.startsWith('-') ? -1 : 1);
  }
  const frac = m[7];
  const nanos = frac === undefined ? 0 : Number(frac) * 10 ** (9 - frac.length);
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return { seconds, nanos };
}

/** True when `ts` is a valid RFC 3339 timestamp as the feed uses them. */
export function isTimestamp(ts: string): boolean {
  return parseTimestamp(ts) !== undefined;
}

function mustParse(ts: string): Instant {
  const t = parseTimestamp(ts);
  if (t === undefined) {
    throw new GomirrorError(ErrorCodes.MALFORMED, `invalid RFC 3339 timestamp ${JSON.stringify(ts)}`, {
      op: 'feed.cursor',
      detail: { timestamp: ts },
    });
  }
  return t;
}

/** The instant `ms` milliseconds after the epoch (a clock reading). Pure. */
export function instantFromMs(ms: number): Instant {
  const whole = Math.floor(ms);
  return { seconds: Math.floor(whole / 1000), nanos: (((whole % 1000) + 1000) % 1000) * 1_000_000 };
}

/** Orders two instants (negative, 0, positive). */
export function compareInstants(x: Instant, y: Instant): number {
  if (x.seconds !== y.seconds) return x.seconds < y.seconds ? -1 : 1;
  return x.nanos === y.nanos ? 0 : x.nanos < y.nanos ? -1 : 1;
}

/**
 * Orders two RFC 3339 timestamps at nanosecond precision (negative, 0, positive); throws MALFORMED on an invalid
 * timestamp.
 */
export function compareTimestamps(a: string, b: string): number {
  return compareInstants(mustParse(a), mustParse(b));
}

/**
 * A cursor positioned at `since` with nothing consumed at that timestamp yet (entries at exactly `since` will be read).
 */
export function cursorAt(since: string): Cursor {
  mustParse(since);
  return { since, seenAtSince: [] };
}

/** Returns the cursor after consuming `key` at `ts`; an entry older than the cursor leaves it unchanged. Pure. */
export function advanceCursor(c: Cursor, ts: string, key: string): Cursor {
  const order = compareTimestamps(ts, c.since);
  if (order > 0) return { since: ts, seenAtSince: [key] };
  if (order < 0 || c.seenAtSince.includes(key)) return c;
  return { since: c.since, seenAtSince: [...c.seenAtSince, key] };
}

/** True when the entry `key` at `ts` is at or before the cursor and so already consumed. */
export function isSeen(c: Cursor, ts: string, key: string): boolean {
  const order = compareTimestamps(ts, c.since);
  if (order !== 0) return order < 0;
  return c.seenAtSince.includes(key);
}

/**
 * A mutable, set-backed equivalent of a Cursor for hot loops (one instance per
 * crawl): same rules as advanceCursor/isSeen, without copying on each entry.
 */
export class CursorTracker {
  private sinceValue: string;
  private sinceInstant: Instant;
  private readonly seen: Set<string>;

  constructor(start: Cursor) {
    this.sinceInstant = mustParse(start.since);
    this.sinceValue = start.since;
    this.seen = new Set(start.seenAtSince);
  }

  /** The current cursor timestamp. */
  get since(): string {
    return this.sinceValue;
  }

  /** Number of keys remembered at the current timestamp. */
  get seenCount(): number {
    return this.seen.size;
  }

  private lastParsed: { ts: string; instant: Instant } | undefined;

  /** Parses ts, remembering the last one: isSeen and advance come in pairs on the same timestamp. */
  private instantOf(ts: string): Instant {
    if (this.lastParsed?.ts !== ts) this.lastParsed = { ts, instant: mustParse(ts) };
    return this.lastParsed.instant;
  }

  /** Same as isSeen on the equivalent Cursor; `instant`, when the caller already parsed ts, saves parsing it again. */
  isSeen(ts: string, key: string, instant?: Instant): boolean {
    if (instant !== undefined) this.lastParsed = { ts, instant };
    const order = compareInstants(this.instantOf(ts), this.sinceInstant);
    return order === 0 ? this.seen.has(key) : order < 0;
  }

  /** Same as advanceCursor on the equivalent Cursor, in place. */
  advance(ts: string, key: string): void {
    const instant = this.instantOf(ts);
    const order = compareInstants(instant, this.sinceInstant);
    if (order < 0) return;
    if (order > 0) {
      this.sinceValue = ts;
      this.sinceInstant = instant;
      this.seen.clear(); // not a new Set per timestamp: most feed entries have a timestamp of their own
    }
    this.seen.add(key);
  }

  /** A Cursor snapshot of the current position. */
  toCursor(): Cursor {
    return { since: this.sinceValue, seenAtSince: [...this.seen] };
  }
}
