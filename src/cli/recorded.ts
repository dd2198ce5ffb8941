/**
 * The CLI edge of the recorded settings: read them before parsing a command's options, record them after a run that
 * held the lock.
 */
import type { RawOptions } from '../config/config.js';
import { parsePlaces } from '../config/places.js';
import { applyRecorded, settingsToRecord } from '../config/recorded.js';
import type { SumdbSpec } from '../config/sumdb-spec.js';
import { formatLocation } from '../storage/location.js';
import { loadRecordedSettings } from '../store/state-session.js';
import type { RecordedSettings } from '../store/state-records.js';
import { StateStore } from '../store/state.js';

/**
 * The options of a command with the mirror's recorded settings filled in (CONFIG error on a different checksum-database
 * key).
 */
export async function withRecorded(
  argv: RawOptions,
): Promise<{ raw: RawOptions; recorded: RecordedSettings | undefined }> {
  const places = parsePlaces(argv, process.env);
  const recorded = await loadRecordedSettings(places);
  return { raw: applyRecorded(argv, recorded, formatLocation(places.state)), recorded };
}

/**
 * Records what a run used when it differs from what was recorded (never a
 * different key: withRecorded refused that). Called after the run, so a run
 * refused by the lock changes nothing.
 */
export async function recordSettings(
  stateDir: string,
  run: { sumdb: SumdbSpec; upstreams?: string[]; index?: string },
): Promise<void> {
  const store = new StateStore(stateDir);
  const prev = await store.loadSettings();
  const next = settingsToRecord(prev, run, new Date());
  if (prev !== undefined && JSON.stringify(prev) === JSON.stringify(next)) return;
  await store.saveSettings(next);
}
