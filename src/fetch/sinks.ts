/**
 * Where a response body goes: memory (bounded) or a file (streamed). Each
 * sink counts bytes and enforces the size limit while reading.
 */
import { createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { GomirrorError } from '../errors.js';
import { ioError } from '../io-error.js';
import { bytesPayload, filePayload, type Payload } from '../version/payload.js';
import type { MemoryBudget } from './memory-budget.js';

/**
 * Consumes one response body; throws `tooLarge()` as soon as more than `maxBytes` arrive; `declared` is the
 * Content-Length, if any.
 */
export type Sink<T> = (
  body: Readable,
  maxBytes: number,
  tooLarge: () => GomirrorError,
  declared: number | undefined,
) => Promise<{ value: T; bytes: number }>;

/**
 * Collects the whole body into one Buffer. With a Content-Length, chunks are
 * copied into one buffer of that size as they arrive (no second copy of the
 * body at the end); a body longer than declared is still counted, and the
 * caller rejects the size mismatch.
 */
export const bufferSink: Sink<Buffer> = async (body, maxBytes, tooLarge, declared) => {
  if (declared !== undefined && declared <= maxBytes)
    return intoBuffer(body, Buffer.allocUnsafe(declared), maxBytes, tooLarge);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return { value: Buffer.concat(chunks, bytes), bytes };
};

/** Copies the body into `out` from 'data' events (no async iterator per chunk). */
function intoBuffer(
  body: Readable,
  out: Buffer,
  maxBytes: number,
  tooLarge: () => GomirrorError,
): Promise<{ value: Buffer; bytes: number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const onData = (chunk: Buffer): void => {
      if (bytes + chunk.length > maxBytes) {
        body.off('data', onData);
        body.pause();
        reject(tooLarge());
        return;
      }
      if (bytes < out.length) chunk.copy(out, bytes, 0, Math.min(chunk.length, out.length - bytes));
      bytes += chunk.length;
    };
    body.on('data', onData);
    body.once('error', reject);
    body.once('end', () => resolve({ value: bytes < out.length ? out.subarray(0, bytes) : out, bytes }));
    // A body destroyed without an error (settles nothing if 'end' came first).
    body.once('close', () => reject(new Error('response body closed before its end')));
  });
}

/** Where an I/O failure happened, for the error the file sink throws. */
export interface FileSinkContext {
  op: string;
  module?: string;
  version?: string;
}

/**
 * A sink that streams the body into `destPath` (created or truncated on each
 * use), or with `offset` > 0 appends it after the first `offset` bytes already
 * there (the count, and the size limit, then include them); local write
 * failures become IO / NO_SPACE errors.
 */
export function fileSink(destPath: string, ctx: FileSinkContext, offset = 0): Sink<void> {
  return async (body, maxBytes, tooLarge) => {
    let bytes = offset;
    let fsError: NodeJS.ErrnoException | undefined;
    if (offset > 0)
      await truncate(destPath, offset).catch((err: NodeJS.ErrnoException) =>
        Promise.reject(sinkIoError(err, destPath, ctx)),
      );
    const out = createWriteStream(destPath, { flags: offset > 0 ? 'a' : 'w' });
    out.on('error', (err: NodeJS.ErrnoException) => {
      fsError ??= err;
    });
    // Counted from 'data' events beside the pipe (no async generator per chunk).
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes && !body.destroyed) body.destroy(tooLarge());
    });
    try {
      await pipeline(body, out);
    } catch (err) {
      // Read before waiting: closing the stream re-emits the body's error on it.
      const local = fsError;
      // A stream destroyed before its open completed still creates the file: wait for it to close, so that a
      // caller removing the file after this rejection removes it for good.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      if (local !== undefined) throw sinkIoError(local, destPath, ctx);
      throw err;
    }
    return { value: undefined, bytes };
  };
}

function sinkIoError(err: NodeJS.ErrnoException, path: string, ctx: FileSinkContext): GomirrorError {
  return ioError(err, ctx, `cannot write download to ${path}`, { path });
}

/** A download that can continue where an interrupted attempt stopped (HTTP Range). */
export interface Resumable<T> {
  /** Bytes the last interrupted attempt left on disk (0 when it kept nothing, e.g. it was held in memory). */
  kept(): Promise<number>;
  /** A sink that appends the rest of the body after `offset` kept bytes; its count is the whole body's. */
  append(offset: number): Sink<T>;
}

/**
 * A sink that keeps a body in memory when its Content-Length fits in the
 * budget (reserved here; the caller gives it back when done with the
 * payload) and streams every other body into `destPath`; `resume` continues
 * an interrupted file download there.
 */
export function payloadSink(
  destPath: string,
  ctx: FileSinkContext,
  memory: MemoryBudget,
): { sink: Sink<Payload>; resume: Resumable<Payload> } {
  const toFile = fileSink(destPath, ctx);
  let onDisk = false;
  const resume: Resumable<Payload> = {
    kept: async () => (onDisk ? ((await stat(destPath).catch(() => undefined))?.size ?? 0) : 0),
    append: (offset) => async (body, maxBytes, tooLarge, declared) => {
      onDisk = true;
      const { bytes } = await fileSink(destPath, ctx, offset)(body, maxBytes, tooLarge, declared);
      return { value: filePayload(destPath), bytes };
    },
  };
  const sink: Sink<Payload> = async (body, maxBytes, tooLarge, declared) => {
    onDisk = false;
    if (declared !== undefined && declared <= maxBytes && memory.take(declared)) {
      let got: { value: Buffer; bytes: number };
      try {
        got = await bufferSink(body, maxBytes, tooLarge, declared);
      } catch (err) {
        memory.give(declared);
        throw err;
      }
      // A short body is rejected by the fetcher (TRUNCATED, retried): nobody will give its bytes back.
      if (got.bytes !== declared) memory.give(declared);
      return { value: bytesPayload(got.value), bytes: got.bytes };
    }
    onDisk = true;
    const { bytes } = await toFile(body, maxBytes, tooLarge, declared);
    return { value: filePayload(destPath), bytes };
  };
  return { sink, resume };
}
