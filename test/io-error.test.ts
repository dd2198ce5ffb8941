import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../src/errors.js';
import { ioError } from '../src/io-error.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, write`), { code });
}

describe('ioError', () => {
  it.each(['ENOSPC', 'EDQUOT'])('maps %s to NO_SPACE', (code) => {
    const e = ioError(errno(code), 'test.op', 'cannot write x', { file: 'x' });
    expect(e.code).toBe(ErrorCodes.NO_SPACE);
    expect(e.op).toBe('test.op');
    expect(e.message).toBe(`cannot write x: ${code}: simulated, write`);
    expect(e.detail).toEqual({ file: 'x', errno: code });
  });

  it('maps any other error to IO and keeps the module version it concerns', () => {
    const e = ioError(
      errno('EACCES'),
      { op: 'fetch.zip', module: 'example.com/m', version: 'v1.0.0' },
      'cannot write download to /d',
    );
    expect(e.code).toBe(ErrorCodes.IO);
    expect(e.op).toBe('fetch.zip');
    expect(e.module).toBe('example.com/m');
    expect(e.version).toBe('v1.0.0');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('passes a GomirrorError through unchanged', () => {
    const inner = new GomirrorError(ErrorCodes.UNSAFE_PATH, 'symlink', { op: 'store.dir' });
    expect(ioError(inner, 'other.op', 'ignored')).toBe(inner);
  });
});
