/**
 * Where a command works: the served tree (`--dest`), the state (`--state`),
 * each a directory or an `s3://BUCKET[/PREFIX]` location, the S3 settings
 * they share (`--s3-endpoint`, `--s3-path-style` and the AWS environment),
 * and the local working directory (`--work-dir`). The environment is handed
 * in by the CLI edge, read nowhere else. Pure.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { formatLocation, parseLocation, subLocation, type Location, type S3Settings } from '../storage/location.js';
import { fail, flag, stringOption, type RawOptions } from './raw.js';
import { parseHttpUrl } from './values.js';

/** The process environment as the CLI edge hands it to the parse functions. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** Where a command's tree and state live. */
export interface Places {
  /** The served tree. */
  dest: Location;
  /** The state (cursor, trusted head, journals, lock): a directory, or a never-served prefix in a bucket. */
  state: Location;
  /**
   * The local directory the state is read and written in: the state directory
   * itself, or the working copy of a bucket state (`<workDir>/state`).
   */
  stateDir: string;
  /** Local working directory: a bucket state's working copy and temporary download files. */
  workDir: string;
}

/** The state prefix below an s3 `--dest` when `--state` is not given. */
export const BUCKET_STATE_SUFFIX = '.gomirror/state';

/** The first non-empty value among the environment variables `names`. */
function envValue(env: ConfigEnv, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/**
 * The S3 settings: `--s3-endpoint` (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL),
 * `--s3-path-style`, the region (AWS_REGION, AWS_DEFAULT_REGION) and profile
 * (AWS_PROFILE); CONFIG error naming the option for an endpoint that is no http(s) URL.
 */
export function parseS3Settings(raw: RawOptions, env: ConfigEnv): S3Settings {
  const given = stringOption(raw, 's3-endpoint');
  const fromEnv = envValue(env, ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL']);
  const endpointText = given ?? fromEnv;
  return {
    endpoint:
      endpointText === undefined
        ? undefined
        : parseHttpUrl(endpointText, given !== undefined ? 's3-endpoint' : 'AWS_ENDPOINT_URL'),
    pathStyle: flag(raw, 's3-path-style'),
    region: envValue(env, ['AWS_REGION', 'AWS_DEFAULT_REGION']),
    profile: envValue(env, ['AWS_PROFILE']),
  };
}

function destOf(raw: RawOptions, s3: S3Settings): Location {
  const text = stringOption(raw, 'dest');
  if (text === undefined)
    fail('dest', 'is required (the root of the served tree: a directory or s3://BUCKET[/PREFIX])');
  return parseLocation(text, 'dest', s3);
}

/** `--dest` (required) as a location, for commands that need no state (serve). */
export function parseDest(raw: RawOptions, env: ConfigEnv): Location {
  return destOf(raw, parseS3Settings(raw, env));
}

/**
 * The default working directory: `$XDG_CACHE_HOME/gomirror/<id>`, else
 * `$HOME/.cache/gomirror/<id>`, where id is the first 16 hex digits of the
 * sha256 of the state's location; undefined when neither variable is set.
 */
export function defaultWorkDir(state: Location, env: ConfigEnv): string | undefined {
  const id = createHash('sha256').update(formatLocation(state)).digest('hex').slice(0, 16);
  const xdg = envValue(env, ['XDG_CACHE_HOME']);
  if (xdg !== undefined) return path.join(path.resolve(xdg), 'gomirror', id);
  const home = envValue(env, ['HOME']);
  return home === undefined ? undefined : path.join(path.resolve(home), '.cache', 'gomirror', id);
}

/**
 * The working directory: `--work-dir`, else the default; without HOME or
 * XDG_CACHE_HOME a directory state works in `<state>/work` and a bucket
 * state needs `--work-dir` (CONFIG error).
 */
function parseWorkDir(raw: RawOptions, state: Location, env: ConfigEnv): string {
  const given = stringOption(raw, 'work-dir');
  if (given !== undefined) return path.resolve(given);
  const dflt = defaultWorkDir(state, env);
  if (dflt !== undefined) return dflt;
  if (state.kind === 'fs') return path.join(state.dir, 'work');
  return fail('work-dir', 'is required for a bucket state when neither HOME nor XDG_CACHE_HOME is set');
}

/**
 * The places of every command: `--dest`, `--state` (default `DEST/.gomirror`
 * for a directory, `s3://BUCKET/PREFIX/.gomirror/state` for a bucket),
 * `--work-dir`, with the S3 settings shared by both locations.
 */
export function parsePlaces(raw: RawOptions, env: ConfigEnv): Places {
  const s3 = parseS3Settings(raw, env);
  const dest = destOf(raw, s3);
  const stateText = stringOption(raw, 'state');
  const state =
    stateText !== undefined
      ? parseLocation(stateText, 'state', s3)
      : dest.kind === 'fs'
        ? subLocation(dest, '.gomirror')
        : subLocation(dest, BUCKET_STATE_SUFFIX);
  const workDir = parseWorkDir(raw, state, env);
  const stateDir = state.kind === 'fs' ? state.dir : path.join(workDir, 'state');
  return { dest, state, stateDir, workDir };
}
