/**
 * The re-hash of one version file (.mod or .zip) as verify needs it: its
 * `h1:` and size, or the error, as plain data (an outcome, never a
 * rejection) that can be turned back into the same error.
 */
import { ErrorCodes, GomirrorError, isGomirrorError, type ErrorCode } from '../errors.js';
import { promises as fs, readFileSync, statSync } from 'node:fs';
import {
  bytesSource,
  DEFAULT_ZIP_LIMITS,
  hashGoMod,
  hashGoModFile,
  hashModuleZip,
  hashZipSource,
  READ_WHOLE_MAX,
} from '../zip/index.js';

/** One file to re-hash. */
export interface HashJob {
  ext: 'mod' | 'zip';
  file: string;
  module: string;
  version: string;
}

/** The error of a failed re-hash, as plain data. */
export interface HashFailure {
  /** The GomirrorError code, absent for another error. */
  code?: string;
  message: string;
  op?: string;
  detail?: Record<string, unknown>;
  /** The file was gone (ENOENT): a concurrent change, not a problem. */
  vanished: boolean;
}

export type HashOutcome = { ok: true; h1: string; bytes: number } | { ok: false; failure: HashFailure };

function vanished(err: unknown): boolean {
  const codeOf = (e: unknown): unknown => (e as NodeJS.ErrnoException | undefined)?.code;
  if (codeOf(err) === 'ENOENT' || isGomirrorError(err, ErrorCodes.NOT_FOUND)) return true;
  return isGomirrorError(err) && (err.detail?.['errno'] === 'ENOENT' || codeOf((err as Error).cause) === 'ENOENT');
}

/** Plain-data form of an error. Pure. */
export function failureOf(err: unknown): HashFailure {
  const base = { message: err instanceof Error ? err.message : String(err), vanished: vanished(err) };
  if (!(err instanceof GomirrorError)) return base;
  return {
    ...base,
    code: err.code,
    op: err.op,
    ...(err.detail !== undefined && { detail: structuredClone(err.detail) }),
  };
}

/** The error a failure stands for: a GomirrorError with the same code, message and detail, or a plain Error. Pure. */
export function errorOf(f: HashFailure): Error {
  if (f.code === undefined) return new Error(f.message);
  const code = (Object.values(ErrorCodes) as string[]).includes(f.code) ? (f.code as ErrorCode) : ErrorCodes.IO;
  return new GomirrorError(code, f.message, {
    op: f.op ?? 'verify.hash',
    ...(f.detail !== undefined && { detail: f.detail }),
  });
}

/** Most bytes of a version file hashed in memory: a whole .mod, or a zip up to READ_WHOLE_MAX. */
export function inMemoryLimit(ext: 'mod' | 'zip'): number {
  return ext === 'mod' ? DEFAULT_ZIP_LIMITS.maxGoMod : READ_WHOLE_MAX;
}

/** The h1 of a version file's bytes held in memory (at most inMemoryLimit(ext)); `label` names it in errors. */
export async function hashBytes(
  job: Omit<HashJob, 'file'>,
  data: Buffer,
  label: string,
): Promise<{ h1: string; bytes: number }> {
  if (job.ext === 'mod') return { h1: hashGoMod(data), bytes: data.length };
  return { h1: (await hashZipSource(bytesSource(data), label, job.module, job.version)).h1, bytes: data.length };
}

/**
 * The h1 of a small file read in one synchronous read (one system call per
 * step instead of thread-pool round trips), or undefined to take the general
 * path: a large or unreadable file, whose errors that path words.
 */
async function hashSmall(job: HashJob): Promise<{ h1: string; bytes: number } | undefined> {
  let data: Buffer;
  try {
    if (statSync(job.file).size > inMemoryLimit(job.ext)) return undefined;
    data = readFileSync(job.file);
  } catch {
    return undefined;
  }
  if (data.length > inMemoryLimit(job.ext)) return undefined;
  return hashBytes(job, data, job.file);
}

/** Re-hashes one file on the calling thread. */
export async function hashJob(job: HashJob): Promise<HashOutcome> {
  try {
    const small = await hashSmall(job);
    if (small !== undefined) return { ok: true, ...small };
    const h1 =
      job.ext === 'mod' ? await hashGoModFile(job.file) : (await hashModuleZip(job.file, job.module, job.version)).h1;
    return { ok: true, h1, bytes: (await fs.stat(job.file)).size };
  } catch (err) {
    return { ok: false, failure: failureOf(err) };
  }
}
