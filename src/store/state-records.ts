/** The run state's record types and their pure parsers, checks and merges (no I/O: state.ts's StateStore does that). */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { isTimestamp, type Cursor } from '../feed/cursor.js';
import type { FutureJournal } from './journals.js';

/** A version waiting for another attempt, with the error that stopped the last one. */
export interface RetryItem {
  module: string;
  version: string;
  timestamp?: string;
  attempts: number;
  nextAttemptAt: string;
  /** When the first of these failures happened (absent in entries written before it was recorded). */
  firstFailedAt?: string;
  lastError: { code: string; message: string };
}

/** A feed entry or line given up on for good, with the reason. */
export interface SkippedItem {
  module?: string;
  version?: string;
  raw?: string;
  reason: string;
  code: string;
  at: string;
  /** For a version given up after retries: how many attempts failed, and since when. */
  attempts?: number;
  firstFailedAt?: string;
}

/** The outcome of one run, as `gomirror status` shows it. */
export interface RunSummary {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  exitCode: number;
  published: number;
  skipped: number;
  failed: number;
  filtered: number;
  invalid: number;
  /** Feed lines held back because they are stamped in the future (absent in summaries of older versions). */
  future?: number;
  /** Entries a full journal could not record (the run stopped before passing them). */
  notRecorded?: number;
  bytes: number;
  cursor?: Cursor;
  failures: Array<{ module: string; version: string; code: string; message: string }>;
}

/** What the mirror remembers about itself (settings.json): its checksum database, upstreams and index. */
export interface RecordedSettings {
  sumdb: { name: string; key: string; url: string };
  /** Absent when the tree was first written by `import` (no upstream of its own). */
  upstreams?: string[];
  index?: string;
  recordedAt: string;
}

/** One upstream's health as the last runs saw it (upstreams.json; one entry per configured upstream). */
export interface UpstreamHealthRecord {
  url: string;
  lastSuccessAt?: string;
  lastFailureAt?: string;
  consecutiveFailures: number;
  /** Set while the last run left it cooling down after failures. */
  coolingUntil?: string;
}

/** The run's view of its upstreams (epoch ms), as the fetcher reports it. */
export interface UpstreamActivityInput {
  url: string;
  consecutiveFailures: number;
  coolingUntil?: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * The new upstream health records: this run's activity over the previous records; upstreams no longer configured are
 * dropped. Pure.
 */
export function mergeUpstreamHealth(
  prev: readonly UpstreamHealthRecord[],
  run: readonly UpstreamActivityInput[],
): UpstreamHealthRecord[] {
  return run.map((a) => {
    const p = prev.find((r) => r.url === a.url);
    const lastSuccessAt = iso(a.lastSuccessAt) ?? p?.lastSuccessAt;
    const lastFailureAt = iso(a.lastFailureAt) ?? p?.lastFailureAt;
    const coolingUntil = iso(a.coolingUntil);
    return {
      url: a.url,
      ...(lastSuccessAt !== undefined && { lastSuccessAt }),
      ...(lastFailureAt !== undefined && { lastFailureAt }),
      consecutiveFailures:
        a.lastSuccessAt !== undefined || a.lastFailureAt !== undefined
          ? a.consecutiveFailures
          : (p?.consecutiveFailures ?? 0),
      ...(coolingUntil !== undefined && { coolingUntil }),
    };
  });
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The MALFORMED error for a state file (or bucket object) `file` that fails its check for `reason`. */
export function malformed(file: string, reason: string, cause?: unknown): GomirrorError {
  return new GomirrorError(ErrorCodes.MALFORMED, `state file ${file} is malformed: ${reason}`, {
    op: 'store.state',
    detail: { file },
    cause,
  });
}

/** Checks a parsed cursor object; returns the reason it is unusable, or undefined. */
export function cursorProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not a JSON object';
  if (typeof v['since'] !== 'string' || !isTimestamp(v['since'])) return '"since" is not an RFC 3339 timestamp';
  const seen = v['seenAtSince'];
  if (!Array.isArray(seen) || !seen.every((k) => typeof k === 'string'))
    return '"seenAtSince" is not a list of strings';
  return undefined;
}

function retryProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not a JSON object';
  if (typeof v['module'] !== 'string' || typeof v['version'] !== 'string') return 'no module/version';
  if (typeof v['attempts'] !== 'number' || typeof v['nextAttemptAt'] !== 'string') return 'no attempts/nextAttemptAt';
  const last = v['lastError'];
  if (!isRecord(last) || typeof last['code'] !== 'string' || typeof last['message'] !== 'string') return 'no lastError';
  const first = v['firstFailedAt'];
  if (first !== undefined && (typeof first !== 'string' || Number.isNaN(Date.parse(first))))
    return '"firstFailedAt" is not a time';
  return undefined;
}

function settingsProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not a JSON object';
  const s = v['sumdb'];
  if (!isRecord(s) || typeof s['name'] !== 'string' || typeof s['key'] !== 'string' || typeof s['url'] !== 'string')
    return '"sumdb" is not {name, key, url}';
  if (!s['key'].startsWith(`${s['name']}+`)) return '"sumdb": the key does not name the database';
  const ups = v['upstreams'];
  if (ups !== undefined && (!Array.isArray(ups) || !ups.every((u) => typeof u === 'string')))
    return '"upstreams" is not a list of strings';
  if (v['index'] !== undefined && typeof v['index'] !== 'string') return '"index" is not a string';
  if (typeof v['recordedAt'] !== 'string') return '"recordedAt" is not a string';
  return undefined;
}

/** A parsed settings.json as the recorded settings; MALFORMED (naming `file`) when it is not that. */
export function asRecordedSettings(v: unknown, file: string): RecordedSettings {
  const problem = settingsProblem(v);
  if (problem !== undefined) throw malformed(file, problem);
  return v as RecordedSettings;
}

/** The largest settings.json read (it holds a key, a few URLs and a time). */
export const MAX_SETTINGS_BYTES = 64 * 1024;

/** Parses the text of a settings.json read from `where` (a file or a bucket object); MALFORMED when it is not one. */
export function parseRecordedSettings(text: string, where: string): RecordedSettings {
  if (Buffer.byteLength(text) > MAX_SETTINGS_BYTES) throw malformed(where, `larger than ${MAX_SETTINGS_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw malformed(where, 'not valid JSON', err);
  }
  return asRecordedSettings(v, where);
}

/** One skipped journal line as an item, or undefined for a blank, torn or corrupt line. */
export function parseSkippedLine(line: string): SkippedItem | undefined {
  if (line.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || typeof v['reason'] !== 'string' || typeof v['code'] !== 'string') return undefined;
  return v as unknown as SkippedItem;
}

/** A parsed future.json as its journal of future-stamped lines; MALFORMED (naming `file`) when it is not one. */
export function asFutureJournal(v: unknown, file: string): FutureJournal {
  if (!isRecord(v) || typeof v['count'] !== 'number' || !Array.isArray(v['items']) || typeof v['at'] !== 'string') {
    throw malformed(file, 'not a journal of future-stamped feed lines');
  }
  return v as unknown as FutureJournal;
}

/**
 * A parsed summary.json as a run summary; MALFORMED (naming `file`) when it is not one. Older summaries' `fetched`
 * (always `published`) is dropped.
 */
export function asRunSummary(v: unknown, file: string): RunSummary {
  if (!isRecord(v) || typeof v['startedAt'] !== 'string' || typeof v['exitCode'] !== 'number') {
    throw malformed(file, 'not a run summary');
  }
  const { fetched: _legacy, ...summary } = v;
  return summary as unknown as RunSummary;
}

/** A parsed upstreams.json as its health records; MALFORMED (naming `file`) when it is not a list of them. */
export function asUpstreamHealth(v: unknown, file: string): UpstreamHealthRecord[] {
  const list = isRecord(v) ? v['upstreams'] : undefined;
  if (
    !Array.isArray(list) ||
    !list.every((u) => isRecord(u) && typeof u['url'] === 'string' && typeof u['consecutiveFailures'] === 'number')
  ) {
    throw malformed(file, 'not a list of upstream health records');
  }
  return list as UpstreamHealthRecord[];
}

/** A parsed retry journal entry as a RetryItem; MALFORMED (naming `file`) when it is not one. */
export function asRetryItem(v: unknown, file: string): RetryItem {
  const problem = retryProblem(v);
  if (problem !== undefined) throw malformed(file, problem);
  return v as RetryItem;
}
