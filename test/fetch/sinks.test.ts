import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { bufferSink } from '../../src/fetch/sinks.js';

const tooLarge = (): GomirrorError => new GomirrorError(ErrorCodes.TOO_LARGE, 'too large', { op: 'test' });
const body = (...chunks: string[]): Readable => Readable.from(chunks.map((c) => Buffer.from(c)));

describe('bufferSink', () => {
  it('joins the chunks of a body without Content-Length', async () => {
    const got = await bufferSink(body('ab', 'cde', 'f'), 100, tooLarge, undefined);
    expect(got.value.toString()).toBe('abcdef');
    expect(got.bytes).toBe(6);
  });

  it('fills one buffer of the declared size when the body matches it', async () => {
    const got = await bufferSink(body('ab', 'cde', 'f'), 100, tooLarge, 6);
    expect(got.value.toString()).toBe('abcdef');
    expect(got.value.length).toBe(6);
    expect(got.bytes).toBe(6);
  });

  it('a body shorter than declared yields only the bytes that came (never uninitialised memory)', async () => {
    const got = await bufferSink(body('ab', 'c'), 100, tooLarge, 4096);
    expect(got.value.toString()).toBe('abc');
    expect(got.bytes).toBe(3);
  });

  it('a body longer than declared is counted in full so the caller sees the mismatch', async () => {
    const got = await bufferSink(body('abcd', 'efgh'), 100, tooLarge, 5);
    expect(got.bytes).toBe(8);
    expect(got.value.toString()).toBe('abcde');
  });

  it('rejects a body that errors or is destroyed before its end', async () => {
    const broken = new Readable({ read() {} });
    broken.push(Buffer.from('ab'));
    const hangUp = new Error('socket hang up');
    setImmediate(() => broken.destroy(hangUp));
    await expect(bufferSink(broken, 100, tooLarge, 10)).rejects.toBe(hangUp);
    const cut = new Readable({ read() {} });
    cut.push(Buffer.from('ab'));
    setImmediate(() => cut.destroy());
    await expect(bufferSink(cut, 100, tooLarge, 10)).rejects.toThrow('closed before its end');
  });

  it('stops at the size limit with or without Content-Length', async () => {
    await expect(bufferSink(body('abcd', 'efgh'), 6, tooLarge, undefined)).rejects.toMatchObject({
      code: ErrorCodes.TOO_LARGE,
    });
    await expect(bufferSink(body('abcd', 'efgh'), 6, tooLarge, 6)).rejects.toMatchObject({
      code: ErrorCodes.TOO_LARGE,
    });
  });
});
