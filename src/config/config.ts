/**
 * The checked configuration of a run, parsed once at the edge from the merged
 * command line, GOMIRROR_* environment and JSON config file (yargs does the
 * merge: flags > environment > config file > defaults). Pure.
 */
import path from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { DEFAULT_MIN_FREE_BYTES, parseByteSize } from '../store/diskspace.js';
import { parseFetchPolicy, type FetchPolicyConfig } from './fetch-options.js';
import { parseHttpUrl, parseSumdbSpec, DEFAULT_SUMDB, type SumdbSpec } from './sumdb-spec.js';
import { isRfc3339 } from '../module/time.js';
import type { LogFormat, LogLevel } from '../log.js';

export type { LogFormat, LogLevel } from '../log.js';

export interface Target {
  module: string;
  version: string;
}

/** Everything `gomirror sync` needs, validated. */
export interface SyncConfig {
  dest: string;
  state: string;
  index: string;
  upstreams: string[];
  sumdb: SumdbSpec;
  since: string | undefined;
  until: string | undefined;
  maxVersions: number | undefined;
  include: string[];
  exclude: string[];
  modules: Target[];
  fromGosum: string[];
  fromGomod: string[];
  concurrency: number;
  dryRun: boolean;
  /** Free bytes a run needs on the tree and state filesystems before it starts. */
  minFreeBytes: number;
  /** How far ahead of this host's clock a feed timestamp may be before the entry is held back. */
  maxClockSkewMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Retry give-up age, request deadlines, polite bulk reads, User-Agent contact. */
  fetch: FetchPolicyConfig;
}

/** The raw, merged option bag as yargs hands it over. */
export type RawOptions = Record<string, unknown>;

export const DEFAULTS = {
  index: 'https://index.golang.org/index',
  upstream: 'https://proxy.golang.org',
  sumdb: DEFAULT_SUMDB,
  concurrency: 16,
  /** 10 minutes. */
  maxClockSkewMs: 600_000,
} as const;

export { isRfc3339 };

function fail(key: string, problem: string): never {
  throw new GomirrorError(ErrorCodes.CONFIG, `config "${key}": ${problem}`, { op: 'config.parse', detail: { key } });
}

/** A list option: repeatable flags, comma lists, or a JSON array in the config file. */
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

function stringOption(raw: RawOptions, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  // A scalar option given several times: the last one wins, as with most Unix tools.
  const last: unknown = Array.isArray(v) ? v[v.length - 1] : v;
  if (typeof last !== 'string' && typeof last !== 'number') fail(key, `expected a string, got ${JSON.stringify(last)}`);
  return String(last);
}

function intOption(raw: RawOptions, key: string, min: number, max: number): number | undefined {
  const s = stringOption(raw, key);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) fail(key, `expected a whole number, got ${JSON.stringify(s)}`);
  const n = Number(s);
  if (n < min || n > max) fail(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function timeOption(raw: RawOptions, key: string): string | undefined {
  const s = stringOption(raw, key);
  if (s === undefined) return undefined;
  if (!isRfc3339(s)) fail(key, `expected an RFC 3339 time like 2019-04-10T19:08:52.997264Z, got ${JSON.stringify(s)}`);
  return s;
}

function byteSizeOption(raw: RawOptions, key: string): number | undefined {
  const s = stringOption(raw, key);
  if (s === undefined) return undefined;
  return parseByteSize(s) ?? fail(key, `expected a size like 1G, 512M or a number of bytes, got ${JSON.stringify(s)}`);
}

const SKEW_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** A clock-skew duration: "<n>s", "<n>m" or "<n>h" (at most 24h; "0s" allows none). */
function skewOption(raw: RawOptions, key: string): number | undefined {
  const s = stringOption(raw, key);
  if (s === undefined) return undefined;
  const m = /^(\d{1,6})(s|m|h)$/.exec(s.trim());
  const ms = m ? Number(m[1]) * (SKEW_UNITS_MS[m[2] as string] ?? 0) : NaN;
  if (!(ms >= 0 && ms <= 86_400_000)) fail(key, `expected a duration like 30s, 10m or 1h (at most 24h), got ${JSON.stringify(s)}`);
  return ms;
}

function boolOption(raw: RawOptions, key: string): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0' || v === '') return false;
  return fail(key, `expected true or false, got ${JSON.stringify(v)}`);
}

function enumOption<T extends string>(raw: RawOptions, key: string, allowed: readonly T[], dflt: T): T {
  const s = stringOption(raw, key);
  if (s === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(s)) fail(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(s)}`);
  return s as T;
}

/** Parses "path@version" for --module; the module rules are checked later, per target. */
export function parseTarget(spec: string): Target {
  const at = spec.lastIndexOf('@');
  if (at <= 0 || at === spec.length - 1) fail('module', `expected PATH@VERSION, got ${JSON.stringify(spec)}`);
  return { module: spec.slice(0, at), version: spec.slice(at + 1) };
}

/** The destination and state directories, shared by every command. */
export function parseDirs(raw: RawOptions): { dest: string; state: string } {
  const destRaw = stringOption(raw, 'dest');
  if (destRaw === undefined) fail('dest', 'is required (the root of the served tree)');
  const dest = path.resolve(destRaw);
  const state = path.resolve(stringOption(raw, 'state') ?? path.join(dest, '.gomirror'));
  return { dest, state };
}

/** Validates the merged options of `gomirror sync` into a SyncConfig. */
export function parseSyncConfig(raw: RawOptions, isTTY: boolean): SyncConfig {
  const { dest, state } = parseDirs(raw);
  const upstreamList = listOption(raw, 'upstream');
  const since = timeOption(raw, 'since');
  const until = timeOption(raw, 'until');
  if (since !== undefined && until !== undefined && Date.parse(until) < Date.parse(since)) {
    fail('until', `${until} is before --since ${since}`);
  }
  const upstreams = (upstreamList.length > 0 ? upstreamList : [DEFAULTS.upstream]).map((u) => parseHttpUrl(u, 'upstream'));
  return {
    dest,
    state,
    index: parseHttpUrl(stringOption(raw, 'index') ?? DEFAULTS.index, 'index'),
    upstreams,
    sumdb: parseSumdbSpec(stringOption(raw, 'sumdb') ?? DEFAULTS.sumdb),
    since,
    until,
    maxVersions: intOption(raw, 'max-versions', 1, Number.MAX_SAFE_INTEGER),
    include: listOption(raw, 'include'),
    exclude: listOption(raw, 'exclude'),
    modules: listOption(raw, 'module').map(parseTarget),
    fromGosum: listOption(raw, 'from-gosum').map((f) => path.resolve(f)),
    fromGomod: listOption(raw, 'from-gomod').map((f) => path.resolve(f)),
    concurrency: intOption(raw, 'concurrency', 1, 256) ?? DEFAULTS.concurrency,
    dryRun: boolOption(raw, 'dry-run'),
    minFreeBytes: byteSizeOption(raw, 'min-free-space') ?? DEFAULT_MIN_FREE_BYTES,
    maxClockSkewMs: skewOption(raw, 'max-clock-skew') ?? DEFAULTS.maxClockSkewMs,
    logLevel: enumOption(raw, 'log-level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
    logFormat: enumOption(raw, 'log-format', ['json', 'pretty'] as const, isTTY ? 'pretty' : 'json'),
    fetch: parseFetchPolicy(raw, upstreams),
  };
}

/** True when the config asks for specific versions rather than the index feed. */
export function isTargeted(c: SyncConfig): boolean {
  return c.modules.length > 0 || c.fromGosum.length > 0 || c.fromGomod.length > 0;
}
