/**
 * Atomic file publication: write to a temporary file on the same filesystem,
 * fsync, then rename over the target, so a reader never sees a partial file.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';

/** Suffix of every temporary file name made by tempPath. */
export const TEMP_SUFFIX = '.tmp';

/** Wraps a filesystem error as GomirrorError IO (NO_SPACE for ENOSPC/EDQUOT). */
export function ioError(err: unknown, op: string, message: string, detail: Record<string, unknown> = {}): GomirrorError {
  if (err instanceof GomirrorError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = err instanceof Error ? err.message : String(err);
  const noSpace = code === 'ENOSPC' || code === 'EDQUOT';
  return new GomirrorError(noSpace ? ErrorCodes.NO_SPACE : ErrorCodes.IO, `${message}: ${reason}`, {
    op,
    detail: { ...detail, ...(code !== undefined && { errno: code }) },
    cause: err,
  });
}

/** A unique temporary file name in tmpDir: the hint reduced to safe characters, plus pid and randomness. */
export function tempPath(tmpDir: string, hint: string): string {
  const safe = hint.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 80) || 'file';
  return nodePath.join(tmpDir, `${safe}.${process.pid}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function renameInto(temp: string, target: string): Promise<void> {
  const dir = nodePath.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  await renameNoSync(temp, target);
  await fsyncDir(dir);
}

/** rename(2) with EXDEV reported as a clear IO error; the caller fsyncs the directory. */
async function renameNoSync(temp: string, target: string): Promise<void> {
  try {
    await fs.rename(temp, target);
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

/** Writes data to a unique temp file in tmpDir (same filesystem as the target), fsyncs, renames over target (mkdir -p its dir). */
export async function writeFileAtomic(target: string, data: Buffer | string, tmpDir: string): Promise<void> {
  const temp = await writeTempFile(tmpDir, nodePath.basename(target), data);
  try {
    await renameInto(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(err, 'store.write', `cannot write ${target}`, { target });
  }
}

/** Renames an already-written temp file into place after fsync (mkdir -p). */
export async function publishFile(tempPath: string, target: string): Promise<void> {
  try {
    const handle = await fs.open(tempPath, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameInto(tempPath, target);
  } catch (err) {
    throw ioError(err, 'store.publish', `cannot publish ${tempPath} as ${target}`, { temp: tempPath, target });
  }
}

/**
 * Publishes several already-written temp files at once: fsyncs them all in
 * parallel, renames all but the last into place in order (mkdir -p), fsyncs
 * their directories once each, then renames the last one (the commit marker,
 * e.g. a version's .info) and fsyncs its directory. A crash never leaves the
 * marker durable without the others; cheaper than publishFile per file.
 */
export async function publishFiles(files: ReadonlyArray<{ temp: string; target: string }>): Promise<void> {
  let current = files[0];
  const place = async (group: ReadonlyArray<{ temp: string; target: string }>): Promise<void> => {
    const dirs = new Set<string>();
    for (const f of group) {
      current = f;
      const dir = nodePath.dirname(f.target);
      if (!dirs.has(dir)) await fs.mkdir(dir, { recursive: true });
      dirs.add(dir);
      await renameNoSync(f.temp, f.target);
    }
    await Promise.all([...dirs].map(fsyncDir));
  };
  try {
    await Promise.all(files.map((f) => syncFile(f.temp)));
    await place(files.slice(0, -1));
    await place(files.slice(-1));
  } catch (err) {
    throw ioError(err, 'store.publish', `cannot publish ${current?.temp} as ${current?.target}`, { temp: current?.temp, target: current?.target });
  }
}

/** Writes data to a new temp file in tmpDir and fsyncs it; returns its path (for publishFiles). */
export async function writeTempFile(tmpDir: string, hint: string, data: Buffer | string): Promise<string> {
  const temp = tempPath(tmpDir, hint);
  try {
    await fs.mkdir(tmpDir, { recursive: true });
    const handle = await fs.open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(err, 'store.write', `cannot write temporary file ${temp}`, { temp });
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes everything in tmpDir (all of it is stale once the run lock is held) and returns how many entries went; 0 if tmpDir is missing. */
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
