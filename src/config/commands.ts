/**
 * One parse function per command: each turns the raw, merged options of its
 * command into a checked configuration, or throws a CONFIG error (exit 2)
 * naming the key. `gomirror sync` itself is parseSyncConfig (./config.ts).
 * Pure.
 */
import path from 'node:path';
import { parseSyncConfig, DEFAULTS, type LogFormat, type LogLevel, type SyncConfig } from './config.js';
import { parseLockConfig, type LockConfig } from './lease.js';
import { parseDest, parsePlaces, type ConfigEnv, type Places } from './places.js';
import type { Location } from '../storage/location.js';
import { enumOption, fail, flag, intOption, listOption, numericText, stringOption, type RawOptions } from './raw.js';
import { parseSumdbSpec, type SumdbSpec } from './sumdb-spec.js';
import { parseDuration, parseHttpUrl, parseListen, parseMaxConnections, parseSumdbFallbackUrl } from './values.js';

/** Modules `gomirror verify` checks at once when --concurrency is not given (hashing is CPU and disk bound). */
export const VERIFY_DEFAULT_CONCURRENCY = 4;

/** The log options every command takes. */
export interface LogConfig {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** `--log-level` and `--log-format` (default: pretty on a terminal, json otherwise). */
export function parseLogConfig(raw: RawOptions, isTTY: boolean): LogConfig {
  return {
    logLevel: enumOption(
      raw,
      'log-level',
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const,
      'info',
    ),
    logFormat: enumOption(raw, 'log-format', ['json', 'pretty'] as const, isTTY ? 'pretty' : 'json'),
  };
}

function sumdbOf(raw: RawOptions): SumdbSpec {
  return parseSumdbSpec(stringOption(raw, 'sumdb') ?? DEFAULTS.sumdb);
}

/** `gomirror sync`: the run configuration and the metrics file written after it. */
export interface SyncCommandConfig {
  sync: SyncConfig;
  metricsFile: string | undefined;
}

export function parseSyncCommand(raw: RawOptions, isTTY: boolean, env: ConfigEnv): SyncCommandConfig {
  return { sync: parseSyncConfig(raw, isTTY, env), metricsFile: stringOption(raw, 'metrics-file') };
}

/** `gomirror daemon`: a sync configuration, the pause between runs and the metrics file. */
export interface DaemonCommandConfig extends SyncCommandConfig {
  intervalMs: number;
}

export function parseDaemonCommand(raw: RawOptions, isTTY: boolean, env: ConfigEnv): DaemonCommandConfig {
  const intervalMs = parseDuration(stringOption(raw, 'interval') ?? '15m', 'interval');
  return { ...parseSyncCommand(raw, isTTY, env), intervalMs };
}

/** `gomirror verify`: the sync configuration (for --repair and --online) and the verify switches. */
export interface VerifyCommandConfig {
  sync: SyncConfig;
  json: boolean;
  repair: boolean;
  online: boolean;
  /** Modules checked at once (VERIFY_DEFAULT_CONCURRENCY unless --concurrency is given). */
  concurrency: number;
}

export function parseVerifyCommand(raw: RawOptions, isTTY: boolean, env: ConfigEnv): VerifyCommandConfig {
  const sync = parseSyncConfig(raw, isTTY, env);
  return {
    sync,
    json: flag(raw, 'json'),
    repair: flag(raw, 'repair'),
    online: flag(raw, 'online'),
    concurrency: intOption(raw, 'concurrency', 1, 256) ?? VERIFY_DEFAULT_CONCURRENCY,
  };
}

/** `gomirror status`: where, which checksum database, and how to report. */
export interface StatusCommandConfig extends Places, LockConfig {
  sumdb: SumdbSpec;
  json: boolean;
  /** Report the kept counts and filesystem space (never with --check). */
  disk: boolean;
  /** Walk the whole tree (disk use by kind) and save exact counts (never with --check). */
  walk: boolean;
  /** With --check: the lag thresholds of the monitoring-plugin verdict. */
  check: { maxLagMs: number; warnLagMs: number } | undefined;
}

export function parseStatusCommand(raw: RawOptions, env: ConfigEnv): StatusCommandConfig {
  const check = flag(raw, 'check');
  let limits: StatusCommandConfig['check'];
  if (check) {
    const maxLagMs = parseDuration(stringOption(raw, 'max-lag') ?? '1h', 'max-lag');
    const warn = stringOption(raw, 'warn-lag');
    const warnLagMs = warn === undefined ? Math.floor(maxLagMs / 2) : parseDuration(warn, 'warn-lag');
    limits = { maxLagMs, warnLagMs: Math.min(warnLagMs, maxLagMs) };
  }
  return {
    ...parsePlaces(raw, env),
    ...parseLockConfig(raw),
    sumdb: sumdbOf(raw),
    json: flag(raw, 'json'),
    disk: !check && flag(raw, 'disk', true),
    walk: !check && flag(raw, 'walk', false),
    check: limits,
  };
}

function requiredPath(raw: RawOptions, key: string, what: string): string {
  const v = stringOption(raw, key);
  if (v === undefined) fail(key, `is required (${what})`);
  return path.resolve(v);
}

/** `gomirror export`: the mirror, the bundle directory, and whether to carry everything. */
export interface ExportCommandConfig extends LogConfig, Places, LockConfig {
  out: string;
  full: boolean;
  sumdb: SumdbSpec;
}

export function parseExportCommand(raw: RawOptions, isTTY: boolean, env: ConfigEnv): ExportCommandConfig {
  const dirs = parsePlaces(raw, env);
  const out = requiredPath(raw, 'out', 'the directory to write the bundle into');
  return {
    ...dirs,
    ...parseLockConfig(raw),
    out,
    full: flag(raw, 'full'),
    sumdb: sumdbOf(raw),
    ...parseLogConfig(raw, isTTY),
  };
}

/** `gomirror import`: the mirror and the bundle to verify and merge. */
export interface ImportCommandConfig extends LogConfig, Places, LockConfig {
  bundle: string;
  sumdb: SumdbSpec;
}

export function parseImportCommand(raw: RawOptions, isTTY: boolean, env: ConfigEnv): ImportCommandConfig {
  const dirs = parsePlaces(raw, env);
  const bundle = requiredPath(raw, 'bundle', 'the bundle directory to import');
  return { ...dirs, ...parseLockConfig(raw), bundle, sumdb: sumdbOf(raw), ...parseLogConfig(raw, isTTY) };
}

/** `gomirror serve`: the tree, the address, and the optional checksum-database fallback. */
export interface ServeCommandConfig {
  dest: Location;
  listen: { host: string; port: number };
  sumdb: SumdbSpec;
  /** Where lookups and tiles the tree lacks are fetched from (undefined: nowhere, the air-gap default). */
  sumdbFallbackUrl: string | undefined;
  maxConnections: number | undefined;
}

export function parseServeCommand(raw: RawOptions, env: ConfigEnv): ServeCommandConfig {
  const sumdb = sumdbOf(raw);
  return {
    dest: parseDest(raw, env),
    listen: parseListen(numericText(raw, 'listen') ?? '127.0.0.1:8080'),
    sumdb,
    sumdbFallbackUrl: parseSumdbFallbackUrl(raw['sumdb-fallback'], sumdb),
    maxConnections: parseMaxConnections(raw['max-connections']),
  };
}

/** `gomirror probe`: what to probe and how. */
export interface ProbeCommandConfig {
  index: string;
  upstreams: string[];
  sumdb: SumdbSpec;
  samples: number;
  /** PATH@VERSION whose .info every upstream must serve (default: the first entry of the index). */
  module: string | undefined;
  json: boolean;
}

export function parseProbeCommand(raw: RawOptions): ProbeCommandConfig {
  const upstreams = listOption(raw, 'upstream');
  const samples = numericText(raw, 'samples') ?? '3';
  if (!/^[1-9]\d?$/.test(samples))
    fail('samples', `expected a whole number from 1 to 99, got ${JSON.stringify(samples)}`);
  return {
    index: parseHttpUrl(stringOption(raw, 'index') ?? DEFAULTS.index, 'index'),
    upstreams: (upstreams.length > 0 ? upstreams : [DEFAULTS.upstream]).map((u) => parseHttpUrl(u, 'upstream')),
    sumdb: sumdbOf(raw),
    samples: Number(samples),
    module: stringOption(raw, 'probe-module'),
    json: flag(raw, 'json'),
  };
}
