/**
 * Parsing of one module index feed line (pure): `{"Path","Version","Timestamp"}`
 * into a checked FeedEntry, or a description of why the line is unusable.
 */
import { checkModuleVersion } from '../module/index.js';
import { parseTimestamp, type Instant } from './cursor.js';

/** One validated feed entry: a canonical module path, version and RFC 3339 timestamp. */
export interface FeedEntry {
  path: string;
  version: string;
  timestamp: string;
}

/**
 * The result of parsing one feed line: the entry, or the raw line, whatever fields could be read, and why it was
 * refused.
 */
export type ParsedLine =
  | { ok: true; entry: FeedEntry; instant: Instant }
  | { ok: false; raw: string; path?: string; version?: string; timestamp?: string; instant?: Instant; reason: string };

/** Longest feed line accepted, in characters; longer lines are refused unparsed. */
export const MAX_FEED_LINE = 4096;

/** Longest part of a refused line kept in `raw` (for journals and logs). */
const MAX_RAW_KEPT = 512;

/** The dedup key of a feed entry: "path@version". */
export function entryKey(entry: { path: string; version: string }): string {
  return `${entry.path}@${entry.version}`;
}

/** The dedup key of a refused line: "path@version" when both were read, else the raw text. */
export function invalidLineKey(line: ParsedLine & { ok: false }): string {
  if (line.path !== undefined && line.version !== undefined) return `${line.path}@${line.version}`;
  return `raw:${line.raw}`;
}

function clip(s: string): string {
  return s.length > MAX_RAW_KEPT ? `${s.slice(0, MAX_RAW_KEPT)}…` : s;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Fields {
  path?: string;
  version?: string;
  timestamp?: string;
}

function refuse(raw: string, fields: Fields, reason: string, instant?: Instant): ParsedLine {
  const out: ParsedLine & { ok: false } = {
    ok: false,
    raw: clip(raw),
    reason,
    ...(instant !== undefined && { instant }),
  };
  if (fields.path !== undefined) out.path = clip(fields.path);
  if (fields.version !== undefined) out.version = clip(fields.version);
  if (fields.timestamp !== undefined) out.timestamp = clip(fields.timestamp);
  return out;
}

function readFields(obj: Record<string, unknown>): Fields {
  const f: Fields = {};
  if (typeof obj['Path'] === 'string') f.path = obj['Path'];
  if (typeof obj['Version'] === 'string') f.version = obj['Version'];
  if (typeof obj['Timestamp'] === 'string') f.timestamp = obj['Timestamp'];
  return f;
}

/** A line whose JSON and timestamp are readable, before its module path and version are checked. */
export interface ReadLine {
  line: string;
  path: string;
  version: string;
  timestamp: string;
  instant: Instant;
}

/**
 * The index's own line form, the three fields in this order as strings with
 * nothing to unescape and no control character: JSON.parse would read the
 * same three values, so the crawl's hot path skips building an object.
 */
const PLAIN_LINE = /^\{"Path":"([^"\\\x00-\x1f]*)","Version":"([^"\\\x00-\x1f]*)","Timestamp":"([^"\\\x00-\x1f]*)"\}$/;

/** The fields of a line of the index's plain form (see PLAIN_LINE), or undefined for any other line. */
function plainFields(line: string): Fields | undefined {
  const m = PLAIN_LINE.exec(line);
  if (m === null) return undefined;
  return { path: m[1] as string, version: m[2] as string, timestamp: m[3] as string };
}

/**
 * Stage one of parseFeedLine: length, JSON, the three fields and the timestamp; a refusal, or the fields to check.
 * Never throws.
 */
export function readFeedLine(line: string): ReadLine | (ParsedLine & { ok: false }) {
  const no = (fields: Fields, reason: string): ParsedLine & { ok: false } =>
    refuse(line, fields, reason) as ParsedLine & { ok: false };
  if (line.length > MAX_FEED_LINE)
    return no({}, `feed line of ${line.length} characters exceeds the ${MAX_FEED_LINE} limit`);
  const plain = plainFields(line);
  if (plain !== undefined) return checkFields(line, plain, no);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return no({}, `feed line is not valid JSON: ${errorMessage(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return no({}, 'feed line is not a JSON object');
  return checkFields(line, readFields(value as Record<string, unknown>), no);
}

/** The rest of stage one once the fields are read: each present, and the timestamp valid. */
function checkFields(
  line: string,
  f: Fields,
  no: (fields: Fields, reason: string) => ParsedLine & { ok: false },
): ReadLine | (ParsedLine & { ok: false }) {
  if (f.path === undefined) return no(f, 'feed line has no string "Path"');
  if (f.version === undefined) return no(f, `feed line for ${f.path} has no string "Version"`);
  if (f.timestamp === undefined) return no(f, `feed line for ${f.path}@${f.version} has no string "Timestamp"`);
  const instant = parseTimestamp(f.timestamp);
  if (instant === undefined)
    return no(f, `feed line for ${f.path}@${f.version} has invalid timestamp ${JSON.stringify(f.timestamp)}`);
  return { line, path: f.path, version: f.version, timestamp: f.timestamp, instant };
}

/** Stage two: checks the module path and version with the module library. Never throws. */
export function checkFeedLine(r: ReadLine): ParsedLine {
  try {
    checkModuleVersion(r.path, r.version); // checks the path too
  } catch (err) {
    return refuse(r.line, r, errorMessage(err), r.instant);
  }
  return { ok: true, entry: { path: r.path, version: r.version, timestamp: r.timestamp }, instant: r.instant };
}

/**
 * Parses one NDJSON line, validating path+version with the module library and the timestamp (returned parsed, as
 * `instant`, when valid); never throws. Bound line length (e.g. 4 KiB).
 */
export function parseFeedLine(line: string): ParsedLine {
  const r = readFeedLine(line);
  return 'ok' in r ? r : checkFeedLine(r);
}
