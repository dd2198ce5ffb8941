/**
 * Streaming check and h1 hash of a module zip on disk (golang.org/x/mod
 * zip.CheckZip rules + dirhash.HashZip), with yauzl. Entry data is hashed as
 * it inflates; nothing but the root go.mod (bounded by maxGoMod) is kept.
 */
import { createHash } from 'node:crypto';
import { open as openFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
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
  const fail: Fail = (reason, file, cause) =>
    new GomirrorError(ErrorCodes.BAD_ZIP, `bad module zip${file === undefined ? '' : ` entry ${JSON.stringify(file)}`}: ${reason}`, {
      op: 'zip.check',
      module,
      version,
      detail: { zip: zipPath, ...(file !== undefined && { file }), reason },
      cause,
    });
  const zipfile = await openZip(zipPath, module, version, fail);
  try {
    if (zipfile.fileSize > limits.maxZipBytes) {
      throw fail(`zip file is ${zipfile.fileSize} bytes; limit is ${limits.maxZipBytes}`);
    }
    const walk: Walk = { prefix: `${module}@${version}/`, limits, fail, collisions: createCollisionChecker(), sums: [], files: 0, declaredTotal: 0 };
    const entries = entryReader(zipfile, fail);
    for (let entry = await entries.next(); entry !== null; entry = await entries.next()) {
      await visitEntry(zipfile, entry, walk);
    }
    return {
      h1: hash1(walk.sums),
      files: walk.files,
      uncompressedBytes: walk.declaredTotal,
      ...(walk.goMod !== undefined && { goMod: walk.goMod }),
    };
  } finally {
    zipfile.close();
  }
}

function checkArgs(module: string, version: string): void {
  if (module === '' || /[\n@]/.test(module)) {
    throw new GomirrorError(ErrorCodes.INVALID_PATH, `invalid module path ${JSON.stringify(module)} for a zip check`, { op: 'zip.check', module, version });
  }
  if (version === '' || /[\n/]/.test(version)) {
    throw new GomirrorError(ErrorCodes.INVALID_VERSION, `invalid version ${JSON.stringify(version)} for a zip check`, { op: 'zip.check', module, version });
  }
}

function openZip(zipPath: string, module: string, version: string, fail: Fail): Promise<yauzl.ZipFile> {
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: false };
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, options, (err, zipfile) => {
      if (err === null && zipfile !== undefined) return resolve(zipfile);
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (typeof code === 'string') {
        // A system error (ENOENT, EACCES, EIO...): the file, not its content.
        reject(new GomirrorError(ErrorCodes.IO, `cannot read module zip ${zipPath}: ${err?.message}`, { op: 'zip.check', module, version, detail: { zip: zipPath }, cause: err }));
      } else {
        reject(fail(`not a readable zip: ${err?.message ?? 'unknown error'}`, undefined, err));
      }
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
async function visitEntry(zipfile: yauzl.ZipFile, entry: yauzl.Entry, walk: Walk): Promise<void> {
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
  const data = await hashEntryData(zipfile, entry, name, keep, walk.fail);
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

/**
 * Inflates one entry, hashing as data arrives; fails as soon as the data
 * exceeds the declared size, and at the end on a short file or CRC mismatch.
 */
function hashEntryData(
  zipfile: yauzl.ZipFile,
  entry: yauzl.Entry,
  name: string,
  keep: boolean,
  fail: Fail,
): Promise<{ sha256: Buffer; content?: Buffer }> {
  const declared = entry.uncompressedSize;
  return new Promise((resolve, reject) => {
    zipfile.openReadStream(entry, (err, stream) => {
      if (err !== null || stream === undefined) return reject(fail(`cannot read entry data: ${err?.message}`, name, err));
      const hash = createHash('sha256');
      const parts: Buffer[] = [];
      let crc = 0;
      let bytes = 0;
      let done = false;
      const stop = (e: GomirrorError): void => {
        if (done) return;
        done = true;
        (stream as Readable).destroy();
        reject(e);
      };
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        bytes += chunk.length;
        if (bytes > declared) return stop(fail(`uncompressed data larger than declared size (${declared} bytes)`, name));
        hash.update(chunk);
        crc = crc32(chunk, crc);
        if (keep) parts.push(chunk);
      });
      stream.on('error', (e: Error) => stop(fail(`corrupt entry data: ${e.message}`, name, e)));
      stream.on('end', () => {
        if (done) return;
        if (bytes !== declared) return stop(fail(`uncompressed size ${bytes} differs from declared size ${declared}`, name));
        if (crc >>> 0 !== entry.crc32 >>> 0) return stop(fail('CRC-32 mismatch', name));
        done = true;
        resolve({ sha256: hash.digest(), ...(keep && { content: Buffer.concat(parts, bytes) }) });
      });
    });
  });
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
