/**
 * Persistent storage of the signed tree head the mirror trusts, written
 * atomically (temporary file, fsync, rename, directory fsync) so a crash
 * leaves either the old or the new head, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError } from '../io-error.js';

/** Loads and saves the trusted signed tree note (raw bytes, verified by the client). */
export interface TrustedHeadStore {
  /** The saved note, or undefined when none was saved yet. */
  load(): Promise<Buffer | undefined>;
  /** Replaces the saved note atomically. */
  save(note: Buffer): Promise<void>;
}

/** Checks a sumdb name is safe as a relative directory path (host[/path], no dot segments). */
function checkName(sumdbName: string): void {
  const ok =
    sumdbName !== '' &&
    !sumdbName.includes('\\') &&
    !sumdbName.includes('\0') &&
    sumdbName.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
  if (!ok) {
    throw new GomirrorError(
      ErrorCodes.CONFIG,
      `checksum database name ${JSON.stringify(sumdbName)} is not a safe path`,
      {
        op: 'sumdb.trusted',
      },
    );
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A TrustedHeadStore in <stateDir>/sumdb/<sumdbName>/latest with atomic replacement. */
export function fileTrustedHeadStore(stateDir: string, sumdbName: string): TrustedHeadStore {
  checkName(sumdbName);
  const dir = join(stateDir, 'sumdb', sumdbName);
  const file = join(dir, 'latest');
  return {
    async load(): Promise<Buffer | undefined> {
      try {
        return await readFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw ioError(err, 'sumdb.trusted', `cannot read trusted checksum database head ${file}`, { file });
      }
    },
    async save(note: Buffer): Promise<void> {
      const tmp = join(dir, `.latest.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        // State: private to its owner (a umask can only take bits away from these).
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const fh = await open(tmp, 'wx', 0o600);
        try {
          await fh.writeFile(note);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, file);
        await fsyncDir(dir);
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw ioError(err, 'sumdb.trusted', `cannot save trusted checksum database head ${file}`, { file });
      }
    },
  };
}
