/** Temporary directories for tests: one way to make them (under the OS temp dir) and to remove them. */
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A new empty directory `<os temp dir>/<prefix>XXXXXX`. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** makeTempDir for synchronous setup code (global setup, module-level servers). */
export function makeTempDirSync(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a directory made by makeTempDir and everything in it; a missing one is fine. */
export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** The temporary directories of one suite, removed together by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  /** `base` starts every name, e.g. "gomirror-chaos-". */
  constructor(private readonly base = 'gomirror-') {}

  /** A new empty directory named `<base><prefix>-XXXXXX`. */
  async make(prefix: string): Promise<string> {
    const d = await makeTempDir(`${this.base}${prefix}-`);
    this.dirs.push(d);
    return d;
  }

  /** Removes every directory made so far. */
  async cleanup(): Promise<void> {
    for (const d of this.dirs.splice(0)) await removeTempDir(d);
  }
}
