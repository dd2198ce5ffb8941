/**
 * Random access to a zip's bytes, in memory or in a file, for yauzl and for
 * reading entry data. A file source keeps one window of the file in memory so
 * the central directory (many tiny reads in a row) costs one read per window.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';

/** Read size for compressed data and the file source's window: big enough to keep per-read overhead low. */
export const READ_CHUNK = 256 * 1024;

/** The bytes of one zip file. */
export interface ZipSource {
  readonly size: number;
  /** Bytes [start, start+length) in one Buffer (the caller bounds length). */
  slice(start: number, length: number): Promise<Buffer>;
  /** Bytes [start, start+length), READ_CHUNK at a time. */
  range(start: number, length: number): AsyncIterable<Buffer>;
  /** A yauzl reader over the same bytes; closing it leaves the source open. */
  reader(): yauzl.RandomAccessReader;
}

type ReadCallback = (err: Error | null, bytesRead?: number) => void;

/** A yauzl reader that delegates to a function; `close` is a no-op (the source owns the bytes). */
class DelegatingReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly readFn: (
      buffer: Buffer,
      offset: number,
      length: number,
      position: number,
      cb: ReadCallback,
    ) => void,
    private readonly rangeFn: (start: number, length: number) => AsyncIterable<Buffer>,
  ) {
    super();
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    this.readFn(buffer, offset, length, position, callback as ReadCallback);
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(this.rangeFn(start, end - start));
  }

  override close(callback: (err: Error | null) => void): void {
    callback(null);
  }
}

/** A zip held in memory: every read is a copy, answered synchronously. */
export function bytesSource(data: Buffer): ZipSource {
  const clamp = (start: number, length: number): Buffer => data.subarray(start, Math.min(data.length, start + length));
  async function* range(start: number, length: number): AsyncGenerator<Buffer> {
    for (let pos = start; pos < start + length; pos += READ_CHUNK)
      yield clamp(pos, Math.min(READ_CHUNK, start + length - pos));
  }
  const read = (buffer: Buffer, offset: number, length: number, position: number, cb: ReadCallback): void => {
    cb(null, clamp(position, length).copy(buffer, offset));
  };
  return {
    size: data.length,
    slice: (start, length) => Promise.resolve(clamp(start, length)),
    range,
    reader: () => new DelegatingReader(read, range),
  };
}

/** A zip in a file the caller keeps open for the source's lifetime. */
export function fileSource(handle: FileHandle, size: number): ZipSource {
  let window: { start: number; data: Buffer } | undefined;
  const readAt = async (length: number, position: number): Promise<Buffer> => {
    const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(length), 0, length, position);
    return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
  };
  async function* range(start: number, length: number): AsyncGenerator<Buffer> {
    const end = start + length;
    for (let pos = start; pos < end; ) {
      const chunk = await readAt(Math.min(READ_CHUNK, end - pos), pos);
      if (chunk.length === 0) throw new Error(`unexpected end of file at offset ${pos}`);
      pos += chunk.length;
      yield chunk;
    }
  }
  /**
   * Small reads are served from (and refill) the window; large ones go straight to the file. The result may be a view
   * of the window.
   */
  const windowed = async (position: number, length: number): Promise<Buffer> => {
    const w = window;
    if (w !== undefined && position >= w.start && position + length <= w.start + w.data.length) {
      return w.data.subarray(position - w.start, position - w.start + length);
    }
    const fill = length <= READ_CHUNK / 4 ? Math.min(READ_CHUNK, size - position) : length;
    const data = await readAt(Math.max(fill, length), position);
    if (fill > length) window = { start: position, data };
    return data.subarray(0, Math.min(length, data.length));
  };
  const read = (buffer: Buffer, offset: number, length: number, position: number, cb: ReadCallback): void => {
    windowed(position, length).then(
      (data) => cb(null, data.copy(buffer, offset)),
      (err: Error) => cb(err),
    );
  };
  return {
    size,
    slice: (start, length) => windowed(start, length),
    range,
    reader: () => new DelegatingReader(read, range),
  };
}
