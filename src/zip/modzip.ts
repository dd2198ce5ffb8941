/**
 * Streaming check and h1 hash of a module zip on disk (golang.org/x/mod
 * zip.CheckZip rules + dirhash.HashZip), with yauzl. Entry data is hashed as
 * it inflates; nothing but the root go.mod (bounded by maxGoMod) is kept.
 */
import { createHash } from 'node:crypto';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { hash1, hashGoMod, type FileSum } from './h1.js';
import { classifyEntryName, createCollisionChecker, type CollisionChecker } from './names.js';

/** Size bounds for a module zip, in bytes. */
export interface ZipLimits {
  /** The zip file itself. */
  maxZipBytes: number;
  /** Sum of the (declared and actual) uncompressed sizes of all files. */
  maxUncompressed: number;
  /** The root go.mod. */
  maxGoMod: number;
  /** The root LICENSE. */
  maxLicense: number;
}

const MiB = 1 << 20;

/** Go's limits: MaxZipFile (500 MiB) for the zip and its content, MaxGoMod and MaxLICENSE (16 MiB). */
export const DEFAULT_ZIP_LIMITS: ZipLimits = Object.freeze({
  maxZipBytes: 500 * MiB,
  maxUncompressed: 500 * MiB,
  maxGoMod: 16 * MiB,
  maxLicense: 16 * MiB,
});

/** Result of a successful module zip check. */
export interface ModuleZipInfo {
  /** dirhash.HashZip of the zip: what the checksum database records for `module version`. */
  h1: string;
  /** Number of regular files (directory entries not counted). */
  files: number;
  /** Sum of the files' uncompressed sizes. */
  uncompressedBytes: number;
  /** Content of the module root go.mod, if the zip has one. */
  goMod?: Buffer;
}

const EMPTY_SHA256 = createHash('sha256').digest();
const UNIX_CREATORS = new Set([3 /* Unix */, 19 /* macOS */]);
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const IRREGULAR_TYPES = new Set([0o010000 /* fifo */, 0o020000 /* chr */, 0o060000 /* blk */, 0o140000 /* sock */]);
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Read size for compressed data, and inflate output chunk size: big enough to keep per-chunk overhead low. */
const READ_CHUNK = 256 * 1024;
const INFLATE_CHUNK = 64 * 1024;

type Fail = (reason: string, file?: string, cause?: unknown) => GomirrorError;

/** State of one zip walk. */
interface Walk {
  prefix: string;
  limits: ZipLimits;
  fail: Fail;
  collisions: CollisionChecker;
  sums: FileSum[];
  files: number;
  declaredTotal: number;
  goMod?: Buffer;
}

/**
 * Streams the zip at zipPath with yauzl, enforces the module zip rules for
 * module@version, and returns its h1; throws GomirrorError BAD_ZIP (op
 * 'zip.check', module, version, detail {file, reason}) on any violation or
 * corrupt data. Never holds more than one entry's buffer chunk in memory.
 */
export async function hashModuleZip(
  zipPath: string,
  module: string,
  version: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ModuleZipInfo> {
  checkArgs(module, version);
  const fail: Fail = (reason, file, cause) => {
    // A system error while reading (EIO...) is the disk's fault, not the zip's.
    const io = isSystemError(cause);
    const where = file === undefined ? '' : ` entry ${JSON.stringify(file)}`;
    return new GomirrorError(io ? ErrorCodes.IO : ErrorCodes.BAD_ZIP, `${io ? 'cannot read' : 'bad'} module zip${where}: ${reason}`, {
      op: 'zip.check',
      module,
      version,
      detail: { zip: zipPath, ...(file !== undefined && { file }), reason },
      cause,
    });
  };
  const { handle, size } = await openForRead(zipPath, module, version);
  let zipfile: yauzl.ZipFile | undefined;
  try {
    zipfile = await openZip(handle, size, fail);
    if (zipfile.fileSize > limits.maxZipBytes) {
      throw fail(`zip file is ${zipfile.fileSize} bytes; limit is ${limits.maxZipBytes}`);
    }
    const walk: Walk = { prefix: `${module}@${version}/`, limits, fail, collisions: createCollisionChecker(), sums: [], files: 0, declaredTotal: 0 };
    const entries = entryReader(zipfile, fail);
    for (let entry = await entries.next(); entry !== null; entry = await entries.next()) {
      await visitEntry(zipfile, handle, entry, walk);
    }
    return {
      h1: hash1(walk.sums),
      files: walk.files,
      uncompressedBytes: walk.declaredTotal,
      ...(walk.goMod !== undefined && { goMod: walk.goMod }),
    };
  } finally {
    zipfile?.close();
    await handle.close();
  }
}

/** Opens the zip and reads its size; a failure here is the file's (IO), not its content's. */
async function openForRead(zipPath: string, module: string, version: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle | undefined;
  try {
    handle = await openFile(zipPath, 'r');
    return { handle, size: (await handle.stat()).size };
  } catch (err) {
    await handle?.close();
    throw new GomirrorError(ErrorCodes.IO, `cannot read module zip ${zipPath}: ${(err as Error).message}`, {
      op: 'zip.check',
      module,
      version,
      detail: { zip: zipPath },
      cause: err,
    });
  }
}

/** True for a Node system error (errno + syscall), as opposed to a zlib or format error. */
function isSystemError(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown } | null | undefined;
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

function checkArgs(module: string, version: string): void {
  if (module === '' || /[\n@]/.test(module)) {
    throw new GomirrorError(ErrorCodes.INVALID_PATH, `invalid module path ${JSON.stringify(module)} for a zip check`, { op: 'zip.check', module, version });
  }
  if (version === '' || /[\n/]/.test(version)) {
    throw new GomirrorError(ErrorCodes.INVALID_VERSION, `invalid version ${JSON.stringify(version)} for a zip check`, { op: 'zip.check', module, version });
  }
}

/**
 * yauzl reader over a FileHandle we own: yauzl parses the directory and
 * local headers through it, and closing the zipfile leaves the handle open
 * for our own data reads (yauzl's fd readers always close their fd).
 */
class HandleReader extends yauzl.RandomAccessReader {
  constructor(private readonly handle: FileHandle) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    const cb = callback as (err: Error | null, bytesRead?: number) => void;
    this.handle.read(buffer, offset, length, position).then(
      ({ bytesRead }) => cb(null, bytesRead),
      (err: Error) => cb(err),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(readRange(this.handle, start, end - start));
  }

  override close(callback: (err: Error | null) => void): void {
    callback(null);
  }
}

/** Reads the zip's end of central directory with yauzl; entries are then pulled lazily. */
function openZip(handle: FileHandle, size: number, fail: Fail): Promise<yauzl.ZipFile> {
  // decodeStrings off: names are checked as raw UTF-8 (see decodeName), so
  // strictFileNames has nothing to do; our own name rules are stricter.
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: false };
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(new HandleReader(handle), size, options, (err, zipfile) => {
      if (err === null && zipfile !== undefined) return resolve(zipfile);
      reject(fail(`not a readable zip: ${err?.message ?? 'unknown error'}`, undefined, err));
    });
  });
}

/** Pulls entries one at a time from a lazyEntries zipfile; resolves null at the end. */
function entryReader(zipfile: yauzl.ZipFile, fail: Fail): { next(): Promise<yauzl.Entry | null> } {
  let pending: { resolve: (e: yauzl.Entry | null) => void; reject: (e: unknown) => void } | undefined;
  let failed: GomirrorError | undefined;
  zipfile.on('entry', (entry: yauzl.Entry) => pending?.resolve(entry));
  zipfile.on('end', () => pending?.resolve(null));
  // Always listening, so a late error (e.g. closing the fd) cannot crash the process.
  zipfile.on('error', (err: Error) => {
    failed = fail(`corrupt zip: ${err.message}`, undefined, err);
    pending?.reject(failed);
  });
  return {
    next: () =>
      new Promise((resolve, reject) => {
        if (failed !== undefined) return reject(failed);
        pending = { resolve, reject };
        zipfile.readEntry();
      }),
  };
}

/** Checks one central directory entry, hashes its data and records it in walk. */
async function visitEntry(zipfile: yauzl.ZipFile, handle: FileHandle, entry: yauzl.Entry, walk: Walk): Promise<void> {
  const name = decodeName(entry, walk.fail);
  const kind = classifyEntryName(name, walk.prefix);
  if ('reason' in kind) throw walk.fail(kind.reason, name);
  checkEntryType(entry, name, walk.fail);
  if (kind.kind === 'root' || kind.kind === 'dir') {
    if (kind.kind === 'dir') {
      const clash = walk.collisions.check(kind.path, true);
      if (clash !== undefined) throw walk.fail(clash, name);
    }
    // Go's archive/zip opens a directory entry as empty, and fails on one with data.
    if (entry.compressedSize !== 0 || entry.uncompressedSize !== 0) throw walk.fail('directory entry has data', name);
    walk.sums.push({ name, sha256: EMPTY_SHA256 });
    return;
  }
  const clash = walk.collisions.check(kind.path, false);
  if (clash !== undefined) throw walk.fail(clash, name);
  const declared = entry.uncompressedSize;
  const { limits } = walk;
  if (walk.declaredTotal + declared > limits.maxUncompressed) {
    throw walk.fail(`total uncompressed size of module contents too large (limit is ${limits.maxUncompressed} bytes)`, name);
  }
  if (kind.path === 'go.mod' && declared > limits.maxGoMod) {
    throw walk.fail(`go.mod file too large (${declared} bytes; limit is ${limits.maxGoMod})`, name);
  }
  if (kind.path === 'LICENSE' && declared > limits.maxLicense) {
    throw walk.fail(`LICENSE file too large (${declared} bytes; limit is ${limits.maxLicense})`, name);
  }
  walk.declaredTotal += declared;
  const keep = kind.path === 'go.mod';
  const data = await hashEntryData(zipfile, handle, entry, name, keep, walk.fail);
  walk.sums.push({ name, sha256: data.sha256 });
  walk.files += 1;
  if (keep) walk.goMod = data.content;
}

function decodeName(entry: yauzl.Entry, fail: Fail): string {
  // decodeStrings is off: Go hashes the raw name bytes, so we read them as
  // UTF-8 ourselves (no CP437, no Info-ZIP unicode path field).
  const raw = entry.fileNameRaw;
  try {
    return utf8.decode(raw);
  } catch (err) {
    throw fail('file name is not valid UTF-8', raw.toString('latin1'), err);
  }
}

function checkEntryType(entry: yauzl.Entry, name: string, fail: Fail): void {
  if (entry.isEncrypted()) throw fail('entry is encrypted', name);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw fail(`unsupported compression method ${entry.compressionMethod}`, name);
  }
  if (UNIX_CREATORS.has(entry.versionMadeBy >>> 8)) {
    const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (type === S_IFLNK) throw fail('entry is a symbolic link', name);
    if (IRREGULAR_TYPES.has(type)) throw fail('entry is not a regular file', name);
  }
}

/** Yields bytes [start, start+length) of the file, READ_CHUNK at a time; the handle stays open. */
async function* readRange(handle: FileHandle, start: number, length: number): AsyncGenerator<Buffer> {
  const end = start + length;
  for (let pos = start; pos < end; ) {
    const want = Math.min(READ_CHUNK, end - pos);
    const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, pos);
    if (bytesRead === 0) throw new Error(`unexpected end of file at offset ${pos}`);
    pos += bytesRead;
    yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
  }
}

function dataStart(zipfile: yauzl.ZipFile, entry: yauzl.Entry, name: string, fail: Fail): Promise<number> {
  return new Promise((resolve, reject) => {
    // yauzl checks the local header signature and that the data fits in the file.
    zipfile.readLocalFileHeader(entry, { minimal: true }, (err, header) => {
      if (err !== null) return reject(fail(`bad local file header: ${err.message}`, name, err));
      resolve(header.fileDataStart);
    });
  });
}

/**
 * Reads and inflates one entry straight from the file, hashing as data
 * arrives; fails as soon as the data exceeds the declared size (zip bombs
 * stop after one chunk), and at the end on a short file or CRC mismatch.
 */
async function hashEntryData(
  zipfile: yauzl.ZipFile,
  handle: FileHandle,
  entry: yauzl.Entry,
  name: string,
  keep: boolean,
  fail: Fail,
): Promise<{ sha256: Buffer; content?: Buffer }> {
  const declared = entry.uncompressedSize;
  const start = await dataStart(zipfile, entry, name, fail);
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  let crc = 0;
  let bytes = 0;
  const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      bytes += chunk.length;
      if (bytes > declared) throw fail(`uncompressed data larger than declared size (${declared} bytes)`, name);
      hash.update(chunk);
      crc = crc32(chunk, crc);
      if (keep) parts.push(chunk);
    }
  };
  if (entry.compressedSize > 0) {
    const raw = readRange(handle, start, entry.compressedSize);
    try {
      if (entry.compressionMethod === 8) await pipeline(raw, createInflateRaw({ chunkSize: INFLATE_CHUNK }), sink);
      else await pipeline(raw, sink);
    } catch (err) {
      if (err instanceof GomirrorError) throw err;
      throw fail(`corrupt entry data: ${(err as Error).message}`, name, err);
    }
  }
  if (bytes !== declared) throw fail(`uncompressed size ${bytes} differs from declared size ${declared}`, name);
  if (crc >>> 0 !== entry.crc32 >>> 0) throw fail('CRC-32 mismatch', name);
  return { sha256: hash.digest(), ...(keep && { content: Buffer.concat(parts, bytes) }) };
}

/** h1 of a go.mod file on disk (bounded by maxGoMod); throws TOO_LARGE past maxBytes and IO when unreadable. */
export async function hashGoModFile(path: string, maxBytes: number = DEFAULT_ZIP_LIMITS.maxGoMod): Promise<string> {
  const tooLarge = (): GomirrorError =>
    new GomirrorError(ErrorCodes.TOO_LARGE, `go.mod file ${path} is larger than ${maxBytes} bytes`, {
      op: 'zip.gomod',
      detail: { file: path, limit: maxBytes },
    });
  let handle;
  try {
    handle = await openFile(path, 'r');
    if ((await handle.stat()).size > maxBytes) throw tooLarge();
    // Read in chunks up to maxBytes + 1, so a file growing under us is caught too.
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      parts.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge();
    }
    return hashGoMod(Buffer.concat(parts, total));
  } catch (err) {
    if (err instanceof GomirrorError) throw err;
    throw new GomirrorError(ErrorCodes.IO, `cannot read go.mod file ${path}: ${(err as Error).message}`, {
      op: 'zip.gomod',
      detail: { file: path },
      cause: err,
    });
  } finally {
    await handle?.close();
  }
}
