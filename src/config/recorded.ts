/**
 * What a mirror remembers about itself (docs/architecture.md, invariant 8): the checksum
 * database, upstreams and index of its first run. Later commands use them
 * unless told otherwise; a different checksum-database key is refused. Pure.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { RecordedSettings } from '../store/state-records.js';
import { parseSumdbSpec, type SumdbSpec } from './sumdb-spec.js';
import { given, stringOption, type RawOptions } from './raw.js';

export type { RecordedSettings };

/** The GOSUMDB-style value of a recorded checksum database. */
export function sumdbValue(s: SumdbSpec): string {
  return `${s.key} ${s.url}`;
}

/**
 * The options with the recorded settings filled in where none was given; a
 * given checksum database whose key differs from the recorded one is a
 * CONFIG error (exit 2) naming both keys.
 */
export function applyRecorded(raw: RawOptions, recorded: RecordedSettings | undefined, stateDir: string): RawOptions {
  if (recorded === undefined) return raw;
  const out: RawOptions = { ...raw };
  if (given(raw, 'sumdb')) {
    const spec = parseSumdbSpec(stringOption(raw, 'sumdb') ?? '');
    if (spec.key !== recorded.sumdb.key) {
      throw new GomirrorError(
        ErrorCodes.CONFIG,
        `this mirror was built with checksum database key ${recorded.sumdb.key} (recorded in ` +
          `${stateDir}/settings.json); ` +
          `refusing --sumdb ${spec.key}: a mirror must not silently switch trust roots (use a new --dest and ` +
          `--state for another checksum database)`,
        { op: 'config.recorded', detail: { recorded: recorded.sumdb.key, given: spec.key } },
      );
    }
  } else {
    out['sumdb'] = sumdbValue(recorded.sumdb);
  }
  if (!given(raw, 'upstream') && recorded.upstreams !== undefined) out['upstream'] = recorded.upstreams.join(',');
  if (!given(raw, 'index') && recorded.index !== undefined) out['index'] = recorded.index;
  return out;
}

/**
 * The settings to record after a run with these checked values (the key never changes; upstreams and index follow the
 * last run). Pure.
 */
export function settingsToRecord(
  prev: RecordedSettings | undefined,
  run: { sumdb: SumdbSpec; upstreams?: string[]; index?: string },
  now: Date,
): RecordedSettings {
  const upstreams = run.upstreams ?? prev?.upstreams;
  const index = run.index ?? prev?.index;
  return {
    sumdb: run.sumdb,
    ...(upstreams !== undefined && { upstreams }),
    ...(index !== undefined && { index }),
    recordedAt:
      prev !== undefined && sameSettings(prev, { sumdb: run.sumdb, upstreams, index })
        ? prev.recordedAt
        : now.toISOString(),
  };
}

function sameSettings(
  a: RecordedSettings,
  b: { sumdb: SumdbSpec; upstreams: string[] | undefined; index: string | undefined },
): boolean {
  return (
    sumdbValue(a.sumdb) === sumdbValue(b.sumdb) &&
    JSON.stringify(a.upstreams) === JSON.stringify(b.upstreams) &&
    a.index === b.index
  );
}
