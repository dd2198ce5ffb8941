/**
 * The served tree in a local directory. A put writes a temporary file in
 * tmpDir (same filesystem as the tree), fsyncs it with mode 0644, then
 * renames it into place, so a reader sees the old file or the whole new one;
 * directories are created 0755, each checked to be a real directory (never
 * a symlink planted in the tree, see safe-dir.ts). Renames and removals
 * become durable at `barrier` (one fsync per directory touched since the
 * last barrier, see dir-sync.ts).
 */
import * as fsSync from 'node:fs';
import { constants, promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError, publishFiles, syncTempFile, writeTempFile } from './atomic.js';
import { DirSyncGroup } from './dir-sync.js';
import { ensureTreeDir } from './safe-dir.js';
import { checkKey, checkPrefix } from './keys.js';
import type {
  ListOptions,
  ObjectStat,
  ObjectStream,
  PutOptions,
  PutSource,
  StagedPut,
  TreeStorage,
} from './storage.js';

/** A staged put: a durable temp file, and whether stage wrote it (then discard removes it). */
interface FsStaged extends StagedPut {
  readonly temp: string;
  readonly owned: boolean;
}

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG']);

function notFound(key: string, err?: unknown): GomirrorError {
  return new GomirrorError(ErrorCodes.NOT_FOUND, `no object ${key} in the tree`, {
    op: 'storage.get',
    detail: { key },
    cause: err,
  });
}

function isMissing(err: unknown): boolean {
  return MISSING.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** TreeStorage on a local directory; see the module comment. */
export class FsTreeStorage implements TreeStorage {
  private readonly dirs = new DirSyncGroup();
  private realRoot: string | undefined;
  readonly location: string;
  /** A directory listing names files; each size is one more stat. */
  readonly statsWithKeys = false;

  /**
   * root: the tree; tmpDir: where puts write their temp files (on root's filesystem, not served); without it, putting
   * bytes is an IO error (a tree opened for reading).
   */
  constructor(
    readonly root: string,
    private readonly tmpDir?: string,
  ) {
    this.location = root;
  }

  /** The file path of key. */
  pathOf(key: string): string {
    return nodePath.join(this.root, ...checkKey(key).split('/'));
  }

  /** The file path of key (TreeStorage.localPath). */
  localPath(key: string): string {
    return this.pathOf(key);
  }

  async put(key: string, source: PutSource, opts?: PutOptions): Promise<void> {
    const staged = await this.stage(key, source, opts);
    try {
      await this.commit([staged]);
    } catch (err) {
      await this.discard([staged]);
      throw err;
    }
  }

  async stage(key: string, source: PutSource, _opts?: PutOptions): Promise<StagedPut> {
    const target = this.pathOf(key);
    if (source.kind === 'file') {
      await syncTempFile(source.path);
      const staged: FsStaged = { key, temp: source.path, owned: false };
      return staged;
    }
    if (this.tmpDir === undefined) {
      throw new GomirrorError(ErrorCodes.IO, `cannot write ${target}: the tree ${this.root} is open for reading only`, {
        op: 'storage.put',
        detail: { key },
      });
    }
    const temp = await writeTempFile(this.tmpDir, nodePath.basename(target), source.data);
    const staged: FsStaged = { key, temp, owned: true };
    return staged;
  }

  async commit(staged: readonly StagedPut[]): Promise<void> {
    const files = (staged as readonly FsStaged[]).map((s) => ({ temp: s.temp, target: this.pathOf(s.key) }));
    for (const d of new Set(files.map((f) => nodePath.dirname(f.target)))) await ensureTreeDir(this.root, d);
    for (const d of await publishFiles(files)) this.dirs.add(d);
  }

  async discard(staged: readonly StagedPut[]): Promise<void> {
    const owned = (staged as readonly FsStaged[]).filter((s) => s.owned);
    await Promise.all(owned.map((s) => fs.rm(s.temp, { force: true }).catch(() => undefined)));
  }

  barrier(): Promise<void> {
    return this.dirs.flush();
  }

  /**
   * Synchronous like fsx.ts (small files, local disk): open without following links, check it is a regular file below
   * no link, read.
   */
  async get(key: string): Promise<Buffer> {
    const file = this.pathOf(key);
    let fd: number;
    try {
      this.checkReal(key, file);
      fd = fsSync.openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      if (isMissing(err)) throw notFound(key, err);
      throw ioError(err, 'storage.get', `cannot open ${file}`, { key });
    }
    try {
      if (!fsSync.fstatSync(fd).isFile()) throw notFound(key);
      return fsSync.readFileSync(fd);
    } catch (err) {
      throw ioError(err, 'storage.get', `cannot read ${file}`, { key });
    } finally {
      fsSync.closeSync(fd);
    }
  }

  /** UNSAFE_PATH when file is reached through a symlink below the root (the root itself may be one). */
  private checkReal(key: string, file: string): void {
    const real = fsSync.realpathSync.native(file);
    this.realRoot ??= fsSync.realpathSync.native(this.root);
    if (real !== nodePath.join(this.realRoot, ...key.split('/'))) throw unsafe(this.root, key);
  }

  async stream(key: string): Promise<ObjectStream> {
    const file = this.pathOf(key);
    let handle: fs.FileHandle;
    try {
      this.checkReal(key, file);
      handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      if (isMissing(err)) throw notFound(key, err);
      throw ioError(err, 'storage.get', `cannot open ${file}`, { key });
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw notFound(key);
      const body = handle.createReadStream(st.size > 0 ? { start: 0, end: st.size - 1 } : { start: 0 });
      return { key, size: st.size, mtime: st.mtime, body };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw ioError(err, 'storage.get', `cannot read ${file}`, { key });
    }
  }

  async stat(key: string): Promise<ObjectStat | undefined> {
    const file = this.pathOf(key);
    try {
      const st = fsSync.lstatSync(file, { throwIfNoEntry: false }); // synchronous: see fsx.ts
      return st?.isFile() === true ? { key, size: st.size, mtime: st.mtime } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw ioError(err, 'storage.stat', `cannot stat ${file}`, { key });
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async *list(prefix: string, opts: ListOptions = {}): AsyncGenerator<ObjectStat[]> {
    checkPrefix(prefix);
    const pageSize = Math.max(1, opts.pageSize ?? 1000);
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    if (!realDirs(this.root, base)) return;
    yield* pages(walk(this.root, base, prefix, { withStat: true, ...opts }), pageSize);
  }

  async *listKeys(prefix: string, opts: ListOptions = {}): AsyncGenerator<string[]> {
    checkPrefix(prefix);
    const pageSize = Math.max(1, opts.pageSize ?? 1000);
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    if (!realDirs(this.root, base)) return;
    for await (const page of pages(walk(this.root, base, prefix, { withStat: false, ...opts }), pageSize))
      yield page.map((s) => s.key);
  }

  async remove(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    try {
      const st = await fs.lstat(file);
      if (!st.isFile()) return false;
      await ensureTreeDir(this.root, nodePath.dirname(file)); // never through a symlink planted in the tree
      await fs.rm(file);
    } catch (err) {
      if (isMissing(err)) return false;
      throw ioError(err, 'storage.remove', `cannot remove ${file}`, { key });
    }
    this.dirs.add(nodePath.dirname(file));
    return true;
  }

  async quarantine(key: string, area: string): Promise<boolean> {
    const from = this.pathOf(key);
    const to = nodePath.join(area, ...key.split('/'));
    try {
      await fs.mkdir(nodePath.dirname(to), { recursive: true });
      await fs.rename(from, to);
      this.dirs.add(nodePath.dirname(from));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV')
        throw ioError(err, 'verify.quarantine', `cannot move ${from} to ${to}`, { file: key });
    }
    try {
      await fs.copyFile(from, to);
      await fs.rm(from);
      this.dirs.add(nodePath.dirname(from));
      return true;
    } catch (err) {
      throw ioError(err, 'verify.quarantine', `cannot move ${from} to ${to}`, { file: key });
    }
  }
}

/**
 * The tree at root for reading (serve, status, verify, export): its real path, which must be a directory; IO error
 * otherwise.
 */
export async function openFsTree(root: string, tmpDir?: string): Promise<FsTreeStorage> {
  try {
    const real = await fs.realpath(nodePath.resolve(root));
    if (!(await fs.stat(real)).isDirectory()) throw new Error('not a directory');
    return new FsTreeStorage(real, tmpDir);
  } catch (err) {
    throw ioError(err, 'storage.open', `cannot open the tree ${root}`, { root });
  }
}

function unsafe(root: string, key: string): GomirrorError {
  return new GomirrorError(
    ErrorCodes.UNSAFE_PATH,
    `${key} is reached through a symbolic link inside the tree ${root}`,
    {
      op: 'storage.get',
      detail: { root, path: key },
    },
  );
}

/**
 * True when every component of base (below root) is a real directory: keys below a symlink or a file are not objects.
 */
function realDirs(root: string, base: string): boolean {
  let cur = root;
  for (const name of base === '' ? [] : base.split('/')) {
    cur = nodePath.join(cur, name);
    const st = fsSync.lstatSync(cur, { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory()) return false;
  }
  return true;
}

/** How `walk` lists: with sizes or not, sorted or not, who hears of symbolic links. */
interface WalkOptions extends ListOptions {
  withStat: boolean;
}

/**
 * Directories whose size (st_size: grows with the entries on ext4, xfs, btrfs
 * and tmpfs) is at most this are read in one synchronous call (like fsx.ts:
 * no thread-pool round trips); larger ones are streamed, so the names held
 * at once stay bounded either way.
 */
const SMALL_DIR_BYTES = 32 * 1024;

/**
 * The entries of a directory: small ones in one call, large ones streamed through one open handle, or read whole and
 * sorted as keys sort.
 */
async function* entriesOf(dir: string, sorted: boolean): AsyncGenerator<fsSync.Dirent> {
  if (!sorted) {
    if (fsSync.statSync(dir).size <= SMALL_DIR_BYTES) return yield* fsSync.readdirSync(dir, { withFileTypes: true });
    return yield* await fs.opendir(dir, { bufferSize: 64 });
  }
  const all = await fs.readdir(dir, { withFileTypes: true });
  // A directory's keys all start with "<name>/": sorting by that string sorts the keys below it too.
  const sortKey = (e: fsSync.Dirent): string => (e.isDirectory() ? `${e.name}/` : e.name);
  yield* all
    .map((e) => ({ e, k: sortKey(e) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.e);
}

/**
 * Regular files under `<root>/<base>` whose keys start with prefix, depth
 * first (each directory through one open handle, or read whole when sorted);
 * hidden names and symlinks are skipped (symlinks reported to onLink).
 * Without withStat, size and mtime are placeholders (-1, epoch).
 */
async function* walk(root: string, base: string, prefix: string, o: WalkOptions): AsyncGenerator<ObjectStat> {
  const dirPath = nodePath.join(root, ...(base === '' ? [] : base.split('/')));
  const where = base === '' ? root : base;
  let entries: AsyncGenerator<fsSync.Dirent>;
  try {
    entries = entriesOf(dirPath, o.sorted === true);
    // The first step opens (or reads) the directory: a missing one lists nothing.
    const first = await entries.next();
    if (first.done === true) return;
    entries = prepend(first.value, entries);
  } catch (err) {
    if (isMissing(err)) return;
    throw ioError(err, 'storage.list', `cannot list ${where}`, { prefix });
  }
  try {
    for await (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const key = base === '' ? entry.name : `${base}/${entry.name}`;
      if (entry.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* walk(root, key, prefix, o);
      } else if (entry.isSymbolicLink()) {
        if (key.startsWith(prefix)) o.onLink?.(key);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        if (!o.withStat) {
          yield { key, size: -1, mtime: new Date(0) };
          continue;
        }
        const st = await fs.lstat(nodePath.join(root, ...key.split('/'))).catch(() => undefined);
        if (st?.isFile() === true) yield { key, size: st.size, mtime: st.mtime };
      }
    }
  } catch (err) {
    throw ioError(err, 'storage.list', `cannot list ${where}`, { prefix });
  }
}

/** `first`, then the rest of `rest`. */
async function* prepend<T>(first: T, rest: AsyncGenerator<T>): AsyncGenerator<T> {
  yield first;
  yield* rest;
}

/** Groups an async sequence into arrays of at most size items. */
async function* pages<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let page: T[] = [];
  for await (const item of items) {
    page.push(item);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}
