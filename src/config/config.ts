/**
 * The checked configuration of a run, parsed once at the edge from the merged
 * command line, GOMIRROR_* environment and JSON config file (yargs does the
 * merge: flags > environment > config file > defaults). Pure.
 */
import path from 'node:path';
import { DEFAULT_MIN_FREE_BYTES } from '../store/diskspace.js';
import { parseFetchPolicy, type FetchPolicyConfig } from './fetch-options.js';
import { parseLockConfig, type LockConfig } from './lease.js';
import { parsePlaces, type ConfigEnv, type Places } from './places.js';
import { enumOption, fail, flag, intOption, listOption, numericText, stringOption, type RawOptions } from './raw.js';
import { parseSumdbSpec, DEFAULT_SUMDB, type SumdbSpec } from './sumdb-spec.js';
import { parseByteSize, parseClockSkew, parseHttpUrl, parseRfc3339 } from './values.js';
import type { LogFormat, LogLevel } from '../log.js';

export type { LogFormat, LogLevel } from '../log.js';
export type { ConfigEnv, Places } from './places.js';

export interface Target {
  module: string;
  version: string;
}

/** Everything `gomirror sync` needs, validated (where: the tree, the state and the working directory). */
export interface SyncConfig extends Places, LockConfig {
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

export type { RawOptions };

export const DEFAULTS = {
  index: 'https://index.golang.org/index',
  upstream: 'https://proxy.golang.org',
  sumdb: DEFAULT_SUMDB,
  concurrency: 16,
  /** 10 minutes. */
  maxClockSkewMs: 600_000,
} as const;

/** `parse(value)` when the option was given. */
function optional<T>(value: string | undefined, parse: (s: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function timeOption(raw: RawOptions, key: string): string | undefined {
  return optional(stringOption(raw, key), (s) => parseRfc3339(s, key));
}

function byteSizeOption(raw: RawOptions, key: string): number | undefined {
  const s = numericText(raw, key);
  if (s === undefined) return undefined;
  return parseByteSize(s) ?? fail(key, `expected a size like 1G, 512M or a number of bytes, got ${JSON.stringify(s)}`);
}

/** Parses "path@version" for --module; the module rules are checked later, per target. */
export function parseTarget(spec: string): Target {
  const at = spec.lastIndexOf('@');
  if (at <= 0 || at === spec.length - 1) fail('module', `expected PATH@VERSION, got ${JSON.stringify(spec)}`);
  return { module: spec.slice(0, at), version: spec.slice(at + 1) };
}

/** Validates the merged options of `gomirror sync` into a SyncConfig; `env` is the process environment (S3 settings, the working directory's default). */
export function parseSyncConfig(raw: RawOptions, isTTY: boolean, env: ConfigEnv): SyncConfig {
  const places = parsePlaces(raw, env);
  const upstreamList = listOption(raw, 'upstream');
  const since = timeOption(raw, 'since');
  const until = timeOption(raw, 'until');
  if (since !== undefined && until !== undefined && Date.parse(until) < Date.parse(since)) {
    fail('until', `${until} is before --since ${since}`);
  }
  const upstreams = (upstreamList.length > 0 ? upstreamList : [DEFAULTS.upstream]).map((u) =>
    parseHttpUrl(u, 'upstream'),
  );
  return {
    ...places,
    ...parseLockConfig(raw),
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
    dryRun: flag(raw, 'dry-run'),
    minFreeBytes: byteSizeOption(raw, 'min-free-space') ?? DEFAULT_MIN_FREE_BYTES,
    maxClockSkewMs:
      optional(stringOption(raw, 'max-clock-skew'), (s) => parseClockSkew(s, 'max-clock-skew')) ??
      DEFAULTS.maxClockSkewMs,
    logLevel: enumOption(
      raw,
      'log-level',
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const,
      'info',
    ),
    logFormat: enumOption(raw, 'log-format', ['json', 'pretty'] as const, isTTY ? 'pretty' : 'json'),
    fetch: parseFetchPolicy(raw, upstreams),
  };
}

/** True when the config asks for specific versions rather than the index feed. */
export function isTargeted(c: SyncConfig): boolean {
  return c.modules.length > 0 || c.fromGosum.length > 0 || c.fromGomod.length > 0;
}
