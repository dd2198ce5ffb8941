/**
 * One module zip check as plain data that can cross a thread boundary (see
 * check-pool.ts): the job, and its h1 or its error, turned back into the
 * same GomirrorError on the other side.
 */
import { ErrorCodes, GomirrorError, type ErrorCode } from '../errors.js';
import { hashModuleZip } from './modzip.js';

/** A zip to check: its bytes (a copy crosses to a worker) or its file, and the module@version it must hold. */
export interface ZipCheckJob {
  zip: Uint8Array | string;
  module: string;
  version: string;
}

/** A failed check as plain data: a GomirrorError's fields, or only a message for another error. */
export interface ZipCheckFailure {
  code?: string;
  /** The message without the " (module@version)" the error adds. */
  message: string;
  op?: string;
  module?: string;
  version?: string;
  detail?: Record<string, unknown>;
}

export type ZipCheckOutcome = { ok: true; h1: string } | { ok: false; failure: ZipCheckFailure };

/** The message a GomirrorError was made with (its constructor appends " (module@version)"). */
function bareMessage(err: GomirrorError): string {
  if (err.module === undefined) return err.message;
  const where = ` (${err.module}${err.version ? `@${err.version}` : ''})`;
  return err.message.endsWith(where) ? err.message.slice(0, -where.length) : err.message;
}

/** Plain-data form of an error. Pure. */
export function zipFailureOf(err: unknown): ZipCheckFailure {
  if (!(err instanceof GomirrorError)) return { message: err instanceof Error ? err.message : String(err) };
  return {
    code: err.code,
    message: bareMessage(err),
    op: err.op,
    ...(err.module !== undefined && { module: err.module }),
    ...(err.version !== undefined && { version: err.version }),
    ...(err.detail !== undefined && { detail: structuredClone(err.detail) }),
  };
}

/** The error a failure stands for: a GomirrorError with the same fields, or an IO error for any other. Pure. */
export function zipErrorOf(f: ZipCheckFailure): GomirrorError {
  const known = f.code !== undefined && (Object.values(ErrorCodes) as string[]).includes(f.code);
  return new GomirrorError(known ? (f.code as ErrorCode) : ErrorCodes.IO, f.message, {
    op: f.op ?? 'zip.check',
    ...(f.module !== undefined && { module: f.module }),
    ...(f.version !== undefined && { version: f.version }),
    ...(f.detail !== undefined && { detail: f.detail }),
  });
}

/** Checks one zip on the calling thread (never rejects: a failure is an outcome). */
export async function checkZipJob(job: ZipCheckJob): Promise<ZipCheckOutcome> {
  try {
    const zip =
      typeof job.zip === 'string' || Buffer.isBuffer(job.zip)
        ? job.zip
        : Buffer.from(job.zip.buffer, job.zip.byteOffset, job.zip.byteLength);
    return { ok: true, h1: (await hashModuleZip(zip, job.module, job.version)).h1 };
  } catch (err) {
    return { ok: false, failure: zipFailureOf(err) };
  }
}
