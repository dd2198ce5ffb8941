/**
 * Atomic file publication: write to a temporary file on the same filesystem,
 * fsync, then rename over the target, so a reader never sees a partial file.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError } from '../io-error.js';
import { fsyncPath, rename, withParentDir, writeNewDurable } from './fsx.js';
import { dirModeFor, TREE_DIR_MODE, TREE_FILE_MODE } from './modes.js';

/** Suffix of every temporary file name made by tempPath. */
export const TEMP_SUFFIX = '.tmp';

/** The filesystem-error mapping, re-exported for the store's callers (defined once in src/io-error.ts). */
export { ioError } from '../io-error.js';

/** A unique temporary file name in tmpDir: the hint reduced to safe characters, plus pid and randomness. */
export function tempPath(tmpDir: string, hint: string): string {
  const safe =
    hint
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '')
      .slice(0, 80) || 'file';
  // randomUUID draws from a pooled entropy cache: unique without a syscall per name.
  return nodePath.join(tmpDir, `${safe}.${process.pid}.${randomUUID()}${TEMP_SUFFIX}`);
}

/**
 * rename(2) into a directory created on demand (with dirMode), with EXDEV reported as a clear IO error; the caller
 * fsyncs the directory.
 */
async function renameNoSync(temp: string, target: string, dirMode: number): Promise<void> {
  try {
    await withParentDir(target, () => rename(temp, target), dirMode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EXDEV') {
      throw new GomirrorError(ErrorCodes.IO, `temporary file ${temp} is not on the same filesystem as ${target}`, {
        op: 'store.publish',
        detail: { temp, target },
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Writes data to a unique temp file in tmpDir (same filesystem as the target), fsyncs, renames over target (mkdir -p
 * its dir), fsyncs the directory; the file gets exactly `mode` (tree files 0644 by default, state files pass 0600), new
 * directories the matching directory mode.
 */
export async function writeFileAtomic(
  target: string,
  data: Buffer | string,
  tmpDir: string,
  mode = TREE_FILE_MODE,
): Promise<void> {
  await writeFilesAtomic([{ target, data }], tmpDir, mode);
}

/**
 * writeFileAtomic for many files: temps written and fsynced in parallel, renamed, then each distinct directory fsynced
 * once.
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<{ target: string; data: Buffer | string }>,
  tmpDir: string,
  mode = TREE_FILE_MODE,
): Promise<void> {
  const dirs = await Promise.all(files.map((f) => replaceFile(f.target, f.data, tmpDir, mode)));
  try {
    await Promise.all([...new Set(dirs)].map((d) => fsyncPath(d)));
  } catch (err) {
    throw ioError(err, 'store.write', `cannot fsync ${dirs[0]}`, { dir: dirs[0] });
  }
}

/**
 * writeFileAtomic without the directory fsync: the file's data is durable
 * before it becomes visible, the rename itself is not yet; returns the
 * directory to fsync (see DirSyncGroup).
 */
export async function replaceFile(
  target: string,
  data: Buffer | string,
  tmpDir: string,
  mode = TREE_FILE_MODE,
): Promise<string> {
  const temp = await writeTempFile(tmpDir, nodePath.basename(target), data, mode);
  try {
    await renameNoSync(temp, target, dirModeFor(mode));
    return nodePath.dirname(target);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(err, 'store.write', `cannot write ${target}`, { target });
  }
}

/**
 * A temp file to rename into place; it must already be durable (written by writeTempFile, or passed through
 * syncTempFile).
 */
export interface Placement {
  temp: string;
  target: string;
}

/**
 * Publishes several durable temp files by renaming them into place in order
 * (mkdir -p), so a reader sees the last one (the commit marker, e.g. a
 * version's .info) only after the others. Returns the directories renamed
 * into, for the caller's DirSyncGroup: the renames are not yet durable.
 */
export async function publishFiles(files: ReadonlyArray<Placement>): Promise<string[]> {
  const dirs = new Set<string>();
  for (const f of files) {
    try {
      await renameNoSync(f.temp, f.target, TREE_DIR_MODE);
    } catch (err) {
      throw ioError(err, 'store.publish', `cannot publish ${f.temp} as ${f.target}`, {
        temp: f.temp,
        target: f.target,
      });
    }
    dirs.add(nodePath.dirname(f.target));
  }
  return [...dirs];
}

/**
 * Writes data to a new temp file with exactly `mode` in tmpDir (created on demand with the matching directory mode; the
 * run's own tmpDir already exists, 0700) and fsyncs it; returns its path (for publishFiles).
 */
export async function writeTempFile(
  tmpDir: string,
  hint: string,
  data: Buffer | string,
  mode = TREE_FILE_MODE,
): Promise<string> {
  const temp = tempPath(tmpDir, hint);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    await withParentDir(temp, () => writeNewDurable(temp, bytes, mode), dirModeFor(mode));
    return temp;
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(err, 'store.write', `cannot write temporary file ${temp}`, { temp });
  }
}

/**
 * Makes an already-written temp file durable (fsync) with exactly `mode` (whoever wrote it, whatever the umask), for
 * publishFiles; failures are IO errors.
 */
export async function syncTempFile(file: string, mode = TREE_FILE_MODE): Promise<void> {
  try {
    await fsyncPath(file, mode);
  } catch (err) {
    throw ioError(err, 'store.publish', `cannot fsync ${file}`, { temp: file });
  }
}

/**
 * Removes everything in tmpDir (all of it is stale once the run lock is held) and returns how many entries went; 0 if
 * tmpDir is missing.
 */
export async function removeStaleTemps(tmpDir: string): Promise<number> {
  let removed = 0;
  try {
    // tmpDir holds at most a few files per concurrent download, so listing it whole is fine.
    for (const name of await fs.readdir(tmpDir)) {
      await fs.rm(nodePath.join(tmpDir, name), { recursive: true, force: true });
      removed++;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw ioError(err, 'store.cleanup', `cannot clean temporary directory ${tmpDir}`, { tmpDir });
  }
  return removed;
}
