/**
 * A state kept in a bucket, worked on in a local directory: `pull` replaces
 * the local working copy with the bucket's state (the bucket is
 * authoritative; what it holds is checked later by the state store's own
 * parsers, and here only for size and place), `push` sends what changed
 * since: every other file first, then the cursor, then removals, so that a
 * cursor in the bucket never passes journals that are not there yet.
 * Temporary files, the tile cache, the space reserve and lock files stay
 * local. The remote side is any TreeStorage (a bucket prefix in production).
 */
import { createWriteStream, promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError, tempPath } from '../storage/atomic.js';
import { mkdirs } from '../storage/fsx.js';
import { STATE_DIR_MODE, STATE_FILE_MODE } from '../storage/modes.js';
import type { TreeStorage } from '../storage/storage.js';
import { assertInside } from './layout.js';

/** The largest state object pulled from a bucket (the export list of a large mirror is the biggest state file). */
export const MAX_STATE_OBJECT_BYTES = 2 * 1024 ** 3;
/** Files up to this size are pushed from memory; larger ones from a temporary copy. */
const IN_MEMORY_BYTES = 8 * 1024 ** 2;
/** Objects put, fetched or removed at once. */
const PARALLEL = 16;
/** The file pushed last: the feed cursor. */
const CURSOR_FILE = 'cursor.json';

/**
 * True for the state files shared through the bucket: everything but
 * temporary files (`tmp/`, `*.tmp`, `*.new`), lock files, the space
 * reserve, the checksum-database tile cache (`sumdb/<name>/tile/`), and
 * names a bucket key may not hold (a segment starting with '.'). Pure.
 */
export function isSharedStatePath(rel: string): boolean {
  const segs = rel.split('/');
  if (segs.some((s) => s === '' || s.startsWith('.'))) return false;
  const [first] = segs;
  if (first === 'tmp' || first === 'reserve' || first === 'lock' || first?.startsWith('lock.')) return false;
  if (segs[0] === 'sumdb' && segs[2] === 'tile') return false;
  const last = segs[segs.length - 1] as string;
  return !last.endsWith('.tmp') && !last.endsWith('.new');
}

/** What a local file looked like when it was last pulled or pushed (inode, size and time: atomic replacement changes the inode). */
type Fingerprint = string;

const fingerprint = (s: { ino: number; size: number; mtimeMs: number }): Fingerprint =>
  `${s.ino}:${s.size}:${s.mtimeMs}`;

/** Options of a BucketStateSync. */
export interface StateSyncOptions {
  /** Called before each phase of a push: throws to stop it (the bucket lock's fencing check). */
  fence?: () => void;
  /** Temporary files (default `<dir>/tmp`). */
  tmpDir?: string;
}

/** The local working copy `dir` of the state in `remote`; see the module comment. */
export class BucketStateSync {
  /** Shared files as last pulled or pushed, by state-relative path (bounded by the journals' caps). */
  private readonly known = new Map<string, Fingerprint>();
  private chain: Promise<void> = Promise.resolve();
  private readonly tmpDir: string;

  constructor(
    readonly dir: string,
    readonly remote: TreeStorage,
    private readonly opts: StateSyncOptions = {},
  ) {
    this.tmpDir = opts.tmpDir ?? nodePath.join(dir, 'tmp');
  }

  /** Replaces the shared files of the working copy with the bucket's (removing local ones the bucket lacks); how many files and bytes came. */
  async pull(): Promise<{ files: number; bytes: number }> {
    await this.makeTmpDir();
    const remoteKeys = new Set<string>();
    let bytes = 0;
    for await (const page of this.remote.list('')) {
      const shared = page.filter((obj) => isSharedStatePath(obj.key));
      for (const obj of shared) if (obj.size > MAX_STATE_OBJECT_BYTES) throw this.tooLarge(obj.key, obj.size);
      await inBatches(shared, (obj) => this.download(obj.key));
      for (const obj of shared) {
        remoteKeys.add(obj.key);
        bytes += obj.size;
      }
    }
    for (const rel of await this.localFiles()) {
      if (!remoteKeys.has(rel)) await this.removeLocal(rel);
    }
    this.known.clear();
    for (const rel of remoteKeys) {
      const st = await fs.stat(this.local(rel)).catch(() => undefined);
      if (st !== undefined) this.known.set(rel, fingerprint(st));
    }
    return { files: remoteKeys.size, bytes };
  }

  /** Pushes what changed since the last pull or push (pushes never overlap; each waits for the one before). */
  push(): Promise<void> {
    const next = this.chain.then(() => this.pushNow());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async pushNow(): Promise<void> {
    this.opts.fence?.();
    await this.makeTmpDir();
    const present = new Map<string, Fingerprint>();
    for (const rel of await this.localFiles()) {
      const st = await fs.stat(this.local(rel)).catch(() => undefined);
      if (st !== undefined) present.set(rel, fingerprint(st));
    }
    const changed = [...present].filter(([rel, fp]) => this.known.get(rel) !== fp).map(([rel]) => rel);
    await this.putAll(
      changed.filter((rel) => rel !== CURSOR_FILE),
      present,
    );
    await this.remote.barrier();
    if (changed.includes(CURSOR_FILE)) {
      this.opts.fence?.();
      await this.putAll([CURSOR_FILE], present);
      await this.remote.barrier();
    }
    const gone = [...this.known.keys()].filter((rel) => !present.has(rel));
    if (gone.length === 0) return;
    this.opts.fence?.();
    await inBatches(gone, async (rel) => {
      await this.remote.remove(rel);
      this.known.delete(rel);
    });
    await this.remote.barrier();
  }

  private async putAll(rels: readonly string[], present: ReadonlyMap<string, Fingerprint>): Promise<void> {
    await inBatches(rels, async (rel) => {
      if (await this.upload(rel)) this.known.set(rel, present.get(rel) as Fingerprint);
    });
  }

  /** Puts one file; false when it vanished meanwhile (the next push removes it remotely). */
  private async upload(rel: string): Promise<boolean> {
    const file = this.local(rel);
    try {
      const st = await fs.stat(file);
      if (st.size <= IN_MEMORY_BYTES) {
        await this.remote.put(rel, { kind: 'bytes', data: await fs.readFile(file) });
        return true;
      }
      const copy = tempPath(this.tmpDir, nodePath.basename(rel));
      try {
        await fs.copyFile(file, copy);
        await this.remote.put(rel, { kind: 'file', path: copy });
      } finally {
        await fs.rm(copy, { force: true });
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError(err, 'store.state-sync', `cannot push ${file} to ${this.remote.location}`);
    }
  }

  /** Streams one object into place (temporary file, size checked as it comes, then renamed). */
  private async download(rel: string): Promise<void> {
    const target = this.local(rel);
    const temp = tempPath(this.tmpDir, nodePath.basename(rel));
    const obj = await this.remote.stream(rel);
    let seen = 0;
    obj.body.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > MAX_STATE_OBJECT_BYTES) obj.body.destroy(this.tooLarge(rel, seen));
    });
    try {
      await pipeline(obj.body, createWriteStream(temp, { mode: STATE_FILE_MODE, flags: 'wx' }));
      await mkdirs(nodePath.dirname(target), STATE_DIR_MODE, STATE_DIR_MODE);
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      if (err instanceof GomirrorError) throw err;
      throw ioError(err, 'store.state-sync', `cannot pull ${rel} from ${this.remote.location} into ${this.dir}`);
    }
  }

  private async makeTmpDir(): Promise<void> {
    await mkdirs(this.tmpDir, STATE_DIR_MODE, STATE_DIR_MODE).catch((err: unknown) => {
      throw ioError(err, 'store.state-sync', `cannot create ${this.tmpDir}`);
    });
  }

  private async removeLocal(rel: string): Promise<void> {
    try {
      await fs.rm(this.local(rel), { force: true });
    } catch (err) {
      throw ioError(err, 'store.state-sync', `cannot remove ${this.local(rel)}`);
    }
  }

  /** The local path of a state-relative path, checked to stay inside the working copy. */
  private local(rel: string): string {
    const p = nodePath.join(this.dir, ...rel.split('/'));
    assertInside(this.dir, p);
    return p;
  }

  /** Every shared file of the working copy (state-relative, '/'-separated); excluded directories are not entered. */
  private async localFiles(sub = ''): Promise<string[]> {
    let entries;
    try {
      entries = await fs.readdir(sub === '' ? this.dir : this.local(sub), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(err, 'store.state-sync', `cannot read ${this.dir}`);
    }
    const out: string[] = [];
    for (const e of entries) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (e.isDirectory()) {
        if (isSharedStatePath(`${rel}/x`)) out.push(...(await this.localFiles(rel)));
      } else if (e.isFile() && isSharedStatePath(rel)) out.push(rel);
    }
    return out;
  }

  private tooLarge(rel: string, size: number): GomirrorError {
    return new GomirrorError(
      ErrorCodes.TOO_LARGE,
      `state object ${rel} in ${this.remote.location} is ${size} bytes, more than the ${MAX_STATE_OBJECT_BYTES} a state file may have`,
      { op: 'store.state-sync', detail: { key: rel, size } },
    );
  }
}

/** Runs `work` over `items`, PARALLEL at a time. */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL) {
    await Promise.all(items.slice(i, i + PARALLEL).map(work));
  }
}
