/**
 * Streaming check and h1 hash of a module zip on disk (golang.org/x/mod
 * zip.CheckZip rules + dirhash.HashZip), with yauzl. Entry data is hashed as
 * it inflates; nothing but the root go.mod (bounded by maxGoMod) is kept.
 */
import { createHash } from 'node:crypto';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import yauzl from 'yauzl';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { checkModuleVersion } from '../module/index.js';
import { hashEntryData, type Fail } from './entry-data.js';
import { hash1, hashGoMod, type FileSum } from './h1.js';
import { checkLocalEntry } from './local-entry.js';
import { classifyEntryName, createCollisionChecker, type CollisionChecker } from './names.js';
import { bytesSource, fileSource, type ZipSource } from './source.js';

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
/** Zip files up to this size are read whole (one read) and checked in memory. */
export const READ_WHOLE_MAX = 1 * MiB;

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
  /** Where the central directory starts: the end of the last entry's data. */
  centralOffset: number;
  /** Where the next entry's local header must start: entries are contiguous from offset 0. */
  nextOffset: number;
}

/**
 * Checks the module zip (a path, or its bytes) against the module zip rules
 * for module@version and returns its h1; throws GomirrorError BAD_ZIP (op
 * 'zip.check', module, version, detail {file, reason}) on any violation or
 * corrupt data, IO when a file cannot be read. Memory stays bounded: a file
 * larger than READ_WHOLE_MAX is read a window at a time, and large entries
 * are streamed through inflate.
 */
export async function hashModuleZip(
  zip: string | Buffer,
  module: string,
  version: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ModuleZipInfo> {
  checkArgs(module, version);
  if (typeof zip !== 'string')
    return checkZip(bytesSource(zip), `(${zip.length} bytes in memory)`, module, version, limits);
  const { handle, size } = await openForRead(zip, module, version);
  try {
    const src =
      size > READ_WHOLE_MAX
        ? fileSource(handle, size)
        : bytesSource(await readWhole(handle, size, zip, module, version));
    return await checkZip(src, zip, module, version, limits);
  } finally {
    await handle.close();
  }
}

/** hashModuleZip over any source of zip bytes; `label` names the zip in errors. */
export async function hashZipSource(
  src: ZipSource,
  label: string,
  module: string,
  version: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ModuleZipInfo> {
  checkArgs(module, version);
  return checkZip(src, label, module, version, limits);
}

/** The BAD_ZIP (or, for a system error while reading, IO) error of a zip check. */
function zipFail(label: string, module: string, version: string): Fail {
  return (reason, file, cause) => {
    // A system error while reading (EIO...) is the disk's fault, not the zip's.
    const io = isSystemError(cause);
    const where = file === undefined ? '' : ` entry ${JSON.stringify(file)}`;
    return new GomirrorError(
      io ? ErrorCodes.IO : ErrorCodes.BAD_ZIP,
      `${io ? 'cannot read' : 'bad'} module zip${where}: ${reason}`,
      {
        op: 'zip.check',
        module,
        version,
        detail: { zip: label, ...(file !== undefined && { file }), reason },
        cause,
      },
    );
  };
}

/** Walks every entry of the zip in src (named `label` in errors) and computes the h1. */
async function checkZip(
  src: ZipSource,
  label: string,
  module: string,
  version: string,
  limits: ZipLimits,
): Promise<ModuleZipInfo> {
  const fail = zipFail(label, module, version);
  if (src.size > limits.maxZipBytes) throw fail(`zip file is ${src.size} bytes; limit is ${limits.maxZipBytes}`);
  const zipfile = await openZip(src, fail);
  try {
    const centralOffset = centralDirectoryOffset(zipfile);
    const walk: Walk = {
      prefix: `${module}@${version}/`,
      limits,
      fail,
      collisions: createCollisionChecker(),
      sums: [],
      files: 0,
      declaredTotal: 0,
      centralOffset,
      nextOffset: 0,
    };
    const entries = entryReader(zipfile, fail);
    for (let entry = await entries.next(); entry !== null; entry = await entries.next()) {
      await visitEntry(src, entry, walk);
    }
    if (walk.nextOffset !== centralOffset) {
      throw fail(
        `${centralOffset - walk.nextOffset} bytes between the last entry and the central directory (hidden data)`,
      );
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

/** Reads the whole (small) file; a short read means it changed under us. */
async function readWhole(
  handle: FileHandle,
  size: number,
  zipPath: string,
  module: string,
  version: string,
): Promise<Buffer> {
  const data = Buffer.allocUnsafe(size);
  let got = 0;
  try {
    while (got < size) {
      const { bytesRead } = await handle.read(data, got, size - got, got);
      if (bytesRead === 0) throw new Error(`file shrank to ${got} bytes while being read`);
      got += bytesRead;
    }
  } catch (err) {
    throw readError(zipPath, module, version, err);
  }
  return data;
}

/** The IO error of a zip file that cannot be opened or read (the file's fault, not its content's). */
function readError(zipPath: string, module: string, version: string, err: unknown): GomirrorError {
  return new GomirrorError(ErrorCodes.IO, `cannot read module zip ${zipPath}: ${(err as Error).message}`, {
    op: 'zip.check',
    module,
    version,
    detail: { zip: zipPath },
    cause: err,
  });
}

/** Opens the zip and reads its size; a failure here is the file's (IO), not its content's. */
async function openForRead(
  zipPath: string,
  module: string,
  version: string,
): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle | undefined;
  try {
    handle = await openFile(zipPath, 'r');
    return { handle, size: (await handle.stat()).size };
  } catch (err) {
    await handle?.close();
    throw readError(zipPath, module, version, err);
  }
}

/** True for a Node system error (errno + syscall), as opposed to a zlib or format error. */
function isSystemError(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown } | null | undefined;
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

/**
 * Throws INVALID_PATH or INVALID_VERSION (op 'zip.check') unless zip.CheckZip
 * would accept module@version (module.Check and a canonical version) and
 * gomirror can store it: the function is safe whatever its caller checked.
 */
function checkArgs(module: string, version: string): void {
  try {
    checkModuleVersion(module, version);
  } catch (err) {
    if (!(err instanceof GomirrorError)) throw err;
    const reason = String(err.detail?.['reason'] ?? err.message);
    const what =
      err.code === ErrorCodes.INVALID_PATH
        ? `module path ${JSON.stringify(module)}`
        : `version ${JSON.stringify(version)}`;
    throw new GomirrorError(err.code, `invalid ${what} for a zip check: ${reason}`, {
      op: 'zip.check',
      module,
      version,
      detail: { reason },
      cause: err,
    });
  }
}

/** Reads the zip's end of central directory with yauzl; entries are then pulled lazily. */
function openZip(src: ZipSource, fail: Fail): Promise<yauzl.ZipFile> {
  // decodeStrings off: names are checked as raw UTF-8 (see decodeName), so
  // strictFileNames has nothing to do; our own name rules are stricter.
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: false };
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(src.reader(), src.size, options, (err, zipfile) => {
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
async function visitEntry(src: ZipSource, entry: yauzl.Entry, walk: Walk): Promise<void> {
  const name = decodeName(entry, walk.fail);
  const kind = classifyEntryName(name, walk.prefix);
  if ('reason' in kind) throw walk.fail(kind.reason, name);
  checkEntryType(entry, name, walk.fail);
  const start = await checkLocalEntry(src, entry, name, walk.fail, walk);
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
    throw walk.fail(
      `total uncompressed size of module contents too large (limit is ${limits.maxUncompressed} bytes)`,
      name,
    );
  }
  if (kind.path === 'go.mod' && declared > limits.maxGoMod) {
    throw walk.fail(`go.mod file too large (${declared} bytes; limit is ${limits.maxGoMod})`, name);
  }
  if (kind.path === 'LICENSE' && declared > limits.maxLicense) {
    throw walk.fail(`LICENSE file too large (${declared} bytes; limit is ${limits.maxLicense})`, name);
  }
  walk.declaredTotal += declared;
  const keep = kind.path === 'go.mod';
  const e = {
    name,
    start,
    compressedSize: entry.compressedSize,
    declaredSize: declared,
    method: entry.compressionMethod,
    crc32: entry.crc32,
  };
  const data = await hashEntryData(src, e, keep, walk.fail);
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

/** The central directory's offset, as yauzl read it from the end of central directory record. */
function centralDirectoryOffset(zipfile: yauzl.ZipFile): number {
  // yauzl starts its entry cursor at the central directory (typed wrongly as boolean in @types/yauzl).
  const offset = (zipfile as unknown as { readEntryCursor: unknown }).readEntryCursor;
  if (typeof offset !== 'number') throw new Error('yauzl did not expose the central directory offset');
  return offset;
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
