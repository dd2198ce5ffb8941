import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { classifyStorageError } from '../../src/serve/files.js';

const err = (code: (typeof ErrorCodes)[keyof typeof ErrorCodes], detail?: Record<string, unknown>): GomirrorError =>
  new GomirrorError(code, `s3 get s3://b/k at http://h: ${code}`, { op: 'test', ...(detail && { detail }) });

describe('classifyStorageError', () => {
  it('a missing object is missing; an invalid or unsafe key is refused', () => {
    expect(classifyStorageError(err(ErrorCodes.NOT_FOUND))).toEqual({ kind: 'missing' });
    expect(classifyStorageError(err(ErrorCodes.INVALID_PATH))).toEqual({ kind: 'refused' });
    expect(classifyStorageError(err(ErrorCodes.UNSAFE_PATH))).toEqual({ kind: 'refused' });
  });

  it('a filesystem error is classified by the errno it carries', () => {
    expect(classifyStorageError(err(ErrorCodes.IO, { errno: 'EACCES' }))).toEqual({ kind: 'forbidden' });
    expect(classifyStorageError(err(ErrorCodes.IO, { errno: 'EMFILE' }))).toEqual({ kind: 'busy', code: 'EMFILE' });
  });

  it('a bucket error is failed: 503 when transient (IO), 502 otherwise, with its one-line message', () => {
    const io = err(ErrorCodes.IO);
    expect(classifyStorageError(io)).toEqual({ kind: 'failed', status: 503, message: io.message });
    const denied = err(ErrorCodes.CONFIG);
    expect(classifyStorageError(denied)).toEqual({ kind: 'failed', status: 502, message: denied.message });
  });

  it('anything else is busy (503)', () => {
    expect(classifyStorageError(new Error('boom'))).toEqual({ kind: 'busy', code: 'EUNKNOWN' });
  });
});
