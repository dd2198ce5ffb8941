/**
 * A streaming walk over the served tree that yields module directories (the
 * ones holding `@v/` or `@latest`). Large directories are read with opendir
 * and recursed into while being read, small ones in one call, so memory is
 * bounded by the depth of the tree, never by its size. Dot names and the state directory are skipped;
 * symlinks are never followed, and every one met (in `sumdb/` and `@v/` too)
 * is reported through `onLink`. Entries that vanish mid-walk (a concurrent
 * sync) are tolerated.
 */
import { promises as fs, readdirSync, statSync, type Dir, type Dirent } from 'node:fs';
import * as nodePath from 'node:path';

/** A directory of the tree that holds a module's `@v/` and/or `@latest`. */
export interface ModuleDirEntry {
  /** Escaped module path relative to the root, with `/` separators. */
  escaped: string;
  /** Absolute directory. */
  dir: string;
  hasVersionDir: boolean;
  hasLatest: boolean;
}

export interface WalkOptions {
  /** Absolute directories never entered (e.g. the state directory). */
  skipDirs?: string[];
  /** Called with the root-relative path (`/` separators) of every symbolic link met. */
  onLink?: (rel: string) => void;
}

function relOf(root: string, abs: string): string {
  return nodePath.relative(root, abs).split(nodePath.sep).join('/');
}

async function openDir(dir: string): Promise<Dir | undefined> {
  try {
    return await fs.opendir(dir, { bufferSize: 64 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Directories whose size (st_size: grows with the entries on ext4, xfs, btrfs
 * and tmpfs) is at most this are read in one synchronous call; larger ones
 * are streamed, so the names held at once stay bounded either way.
 */
const SMALL_DIR_BYTES = 32 * 1024;

/** The entries of dir: one readdir call for a small directory, streamed for a large one; nothing when it is gone. */
async function* entries(dir: string): AsyncGenerator<Dirent> {
  let small: Dirent[] | undefined;
  try {
    if (statSync(dir).size <= SMALL_DIR_BYTES) small = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw err;
  }
  if (small !== undefined) return yield* small;
  const handle = await openDir(dir);
  if (handle !== undefined) yield* handle;
}

async function* walkDir(
  root: string,
  dir: string,
  skip: ReadonlySet<string>,
  onLink: (rel: string) => void,
): AsyncGenerator<ModuleDirEntry> {
  let hasVersionDir = false;
  let hasLatest = false;
  for await (const e of entries(dir)) {
    const abs = nodePath.join(dir, e.name);
    if (e.name.startsWith('.') || skip.has(abs)) continue;
    if (e.isSymbolicLink()) onLink(relOf(root, abs));
    else if (e.name === '@v' && e.isDirectory()) hasVersionDir = true;
    else if (e.name === '@latest' && e.isFile()) hasLatest = true;
    else if (e.isDirectory() && !e.name.startsWith('@')) yield* walkDir(root, abs, skip, onLink); // sumdb/ too: it yields no module
  }
  if (hasVersionDir || hasLatest) yield { escaped: relOf(root, dir), dir, hasVersionDir, hasLatest };
}

/** Yields every module directory under root, depth first; see the module comment. */
export async function* walkModules(root: string, opts: WalkOptions = {}): AsyncGenerator<ModuleDirEntry> {
  const base = nodePath.resolve(root);
  const skip = new Set((opts.skipDirs ?? []).map((d) => nodePath.resolve(d)));
  yield* walkDir(base, base, skip, opts.onLink ?? (() => undefined));
}

/**
 * The entry names of one module's `@v` directory but its symlinks, which go
 * to `onLink` (empty when it is gone). One module's directory is small enough to hold; the tree is not.
 */
export async function readVersionDir(
  moduleDir: string,
  onLink: (name: string) => void = () => undefined,
): Promise<string[]> {
  try {
    const entries = readdirSync(nodePath.join(moduleDir, '@v'), { withFileTypes: true }); // one system call (a module's directory is small)
    return entries.flatMap((e) => (e.isSymbolicLink() ? (onLink(e.name), []) : [e.name]));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}
