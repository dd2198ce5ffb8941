/**
 * The tree writer: the only code that makes module files visible. It accepts
 * nothing but `Verified` certificates, renames verified temp files into place
 * (zip, then mod, then info, which marks the version complete), and then
 * regenerates the module's `@v/list` and `@latest` from what is on disk.
 * It never writes through a symlink planted in the tree (safe-dir.ts).
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { checkInfo, type InfoDoc } from '../version/info.js';
import { completeVersionsIn, moduleIndex } from '../version/module-index.js';
import { assertVerified, type Verified } from '../version/verified.js';
import { bytesPayload, type Payload } from '../version/payload.js';
import { FsTreeStorage } from '../storage/fs.js';
import { latestKey, listKey, moduleKey, versionKey } from '../storage/keys.js';
import { TREE_DIR_MODE } from '../storage/modes.js';
import { ensureTreeDir } from '../storage/safe-dir.js';
import type { StagedPut, TreeStorage } from '../storage/storage.js';
import { versionFile } from './layout.js';
import { addCounts, isZero, zeroCounts, type TreeCounts, type TreeCountsStore } from './tree-counts.js';

/** The values of settled promises, or the first rejection thrown. */
function valuesOf<T extends readonly unknown[]>(settled: { [K in keyof T]: PromiseSettledResult<T[K]> }): T {
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Runs fn over items, at most `limit` at a time; every call settles before the first failure is thrown. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
  };
  valuesOf(await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane)));
}

/** Per-module index rewrites: the one running (tail) and the one waiting to start, which later callers share. */
interface IndexJobs {
  tail: Promise<void>;
  queued: Promise<void> | undefined;
}

// The counting calls below are single synchronous system calls, like fsx.ts: no thread-pool round trips per version.

/** Size of a file, or undefined when there is none. */
function sizeOf(file: string): number | undefined {
  try {
    return lstatSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Creates the version directory `vdir` (checked like ensureTreeDir); true when this call created it (a new module). */
async function makeVersionDir(root: string, vdir: string): Promise<boolean> {
  await ensureTreeDir(root, path.dirname(vdir));
  let created = true;
  try {
    mkdirSync(vdir, { mode: TREE_DIR_MODE });
    chmodSync(vdir, TREE_DIR_MODE); // whatever the umask
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false;
  }
  await ensureTreeDir(root, vdir);
  return created;
}

type Sizes = Partial<Record<'zip' | 'mod' | 'info', number>>;

/** The count change of replacing the files `before` with `after` (kinds absent from `after` are untouched). Pure. */
export function publishDelta(newModule: boolean, before: Sizes, after: Sizes): TreeCounts {
  const d = zeroCounts();
  d.modules = newModule ? 1 : 0;
  for (const k of ['zip', 'mod', 'info'] as const) {
    const now = after[k];
    if (now === undefined) continue;
    const old = before[k];
    d[k].files += old === undefined ? 1 : 0;
    d[k].bytes += now - (old ?? 0);
  }
  d.versions = d.info.files;
  return d;
}

/** Module indexes rewritten at once by a checkpoint. */
const INDEX_REWRITES_AT_ONCE = 16;

/**
 * Writes the served tree. Renames become durable at `checkpoint()` (one
 * directory fsync per touched directory), which also rewrites the indexes of
 * modules marked with `touchModule`; callers checkpoint before they record
 * progress.
 */
export class TreeWriter {
  private readonly indexJobs = new Map<string, IndexJobs>();
  private touched = new Set<string>();
  private checkpoints: Promise<void> = Promise.resolve();
  /** Count changes of the renames since the last checkpoint, and tree changes under way (see TreeCountsStore). */
  private delta = zeroCounts();
  private changing = 0;

  /** Writes the tree in `storage` (by default the directory root, with temp files in tmpDir). */
  constructor(
    readonly root: string,
    tmpDir: string,
    private readonly counts?: TreeCountsStore,
    readonly storage: TreeStorage = new FsTreeStorage(root, tmpDir),
  ) {}

  /** True when module@version is complete in the tree (.info present, and .zip when wanted). */
  async isPublished(module: string, version: string, withZip: boolean): Promise<boolean> {
    const info = await this.storage.exists(versionKey(module, version, 'info'));
    if (!info || !(await this.storage.exists(versionKey(module, version, 'mod')))) return false;
    return !withZip || this.storage.exists(versionKey(module, version, 'zip'));
  }

  /**
   * Publishes a verified version: zip, mod, then info (the commit marker),
   * whose bytes are info.bytes exactly (as the upstream served them), checked
   * again here so that no caller can publish an .info of another shape.
   * In-memory payloads are written to durable temp files first; file payloads
   * are fsynced and consumed. `beforeRename` (e.g. a durable journal append)
   * runs alongside that, and nothing is renamed unless it succeeds too.
   */
  async publishVersion(v: Verified, info: InfoDoc, beforeRename?: () => Promise<void>): Promise<void> {
    assertVerified(v);
    checkInfo(info.bytes, v.module, v.version, 'store.publish');
    const key = (ext: 'zip' | 'mod' | 'info'): string => versionKey(v.module, v.version, ext);
    const file = (ext: 'zip' | 'mod' | 'info'): string => versionFile(this.root, v.module, v.version, ext);
    const staged: StagedPut[] = [];
    const after: Sizes = {};
    const stage = async (p: Payload, k: string, kind: keyof Sizes): Promise<StagedPut> => {
      if (this.counts !== undefined) after[kind] = p.kind === 'file' ? lstatSync(p.path).size : p.data.length;
      const s = await this.storage.stage(k, p);
      staged.push(s);
      return s;
    };
    let renaming = false;
    this.changing++;
    try {
      // allSettled: every staged put is known (and discarded) before a failure is thrown.
      const [zip, mod, infoPut] = valuesOf(
        await Promise.allSettled([
          v.zip === undefined ? undefined : stage(v.zip, key('zip'), 'zip'),
          stage(v.mod, key('mod'), 'mod'),
          stage(bytesPayload(info.bytes), key('info'), 'info'),
          beforeRename?.(),
          this.counts?.markOpen(),
        ] as const),
      );
      // Counting (counts.json, a filesystem tree only): the version directory is created here, where its creation is seen (a new module).
      const newModule = this.counts === undefined ? false : await makeVersionDir(this.root, path.dirname(file('info')));
      const before = this.counts === undefined ? {} : this.sizesBefore(file);
      renaming = true;
      await this.storage.commit([...(zip === undefined ? [] : [zip]), mod, infoPut]);
      if (this.counts !== undefined) addCounts(this.delta, publishDelta(newModule, before, after));
    } catch (err) {
      await this.storage.discard(staged);
      if (renaming) await this.counts?.taint().catch(() => undefined); // some renames may have happened uncounted
      throw err;
    } finally {
      this.changing--;
    }
  }

  /** Sizes of a version's files before publishing: none when its .info is missing (a new version), else each one's. */
  private sizesBefore(file: (ext: 'zip' | 'mod' | 'info') => string): Sizes {
    const info = sizeOf(file('info'));
    if (info === undefined) return {};
    const [zip, mod] = [sizeOf(file('zip')), sizeOf(file('mod'))];
    return { info, ...(zip !== undefined && { zip }), ...(mod !== undefined && { mod }) };
  }

  /** Marks module's versions as changed: its `@v/list` and `@latest` are rewritten at the next checkpoint. */
  touchModule(module: string): void {
    this.touched.add(module);
  }

  /**
   * Rewrites the indexes of every module touched so far, then makes every
   * rename done so far durable (fsyncs the directories written since the last
   * checkpoint), then adds their counts to counts.json. Checkpoints run one
   * at a time; on failure the modules stay touched (and the counts pending)
   * for the next one.
   */
  checkpoint(): Promise<void> {
    const run = async (): Promise<void> => {
      const modules = [...this.touched];
      this.touched = new Set();
      // Taken before the flush: every rename counted here is made durable by it.
      const delta = this.delta;
      this.delta = zeroCounts();
      try {
        await forEachLimit(modules, INDEX_REWRITES_AT_ONCE, (m) => this.refreshModuleIndex(m));
      } catch (err) {
        for (const m of modules) this.touched.add(m);
        addCounts(this.delta, delta);
        throw err;
      }
      try {
        await this.storage.barrier();
        await this.counts?.commit(delta, this.changing > 0 || !isZero(this.delta));
      } catch (err) {
        addCounts(this.delta, delta);
        throw err;
      }
    };
    const next = this.checkpoints.then(run, run);
    this.checkpoints = next.catch(() => undefined);
    return next;
  }

  /**
   * Rewrites `@v/list` and `@latest` (version/module-index.ts) from the
   * complete versions on disk once the call's earlier writes are
   * done. Serialized per module; callers arriving while a rewrite is waiting
   * to start share it (one rewrite per burst of versions of a module).
   */
  async refreshModuleIndex(module: string): Promise<void> {
    const jobs = this.indexJobs.get(module) ?? { tail: Promise.resolve(), queued: undefined };
    if (jobs.queued !== undefined) return jobs.queued;
    const run = jobs.tail.then(() => {
      jobs.queued = undefined;
      return this.rewriteIndex(module);
    });
    const guarded = run.catch(() => undefined);
    jobs.queued = run;
    jobs.tail = guarded;
    this.indexJobs.set(module, jobs);
    try {
      await run;
    } finally {
      if (jobs.tail === guarded && jobs.queued === undefined) this.indexJobs.delete(module);
    }
  }

  /** Versions that are complete (info + mod + zip, see completeVersionsIn) in the module's @v directory. */
  async completeVersions(module: string): Promise<string[]> {
    const prefix = `${moduleKey(module)}/@v/`;
    const names: string[] = [];
    for await (const page of this.storage.listKeys(prefix)) {
      for (const k of page) if (!k.includes('/', prefix.length)) names.push(k.slice(prefix.length));
    }
    return completeVersionsIn(names);
  }

  private async rewriteIndex(module: string): Promise<void> {
    const index = moduleIndex(await this.completeVersions(module));
    await this.writeIfChanged(listKey(module), Buffer.from(index.list));
    const latest = latestKey(module);
    if (index.latest !== undefined) {
      const info = await this.storage.get(versionKey(module, index.latest, 'info'));
      await this.writeIfChanged(latest, info);
    } else {
      await this.storage.remove(latest);
    }
  }

  /** Rewrites key whole unless it already holds exactly data (re-checks after a crash cost a read, not a write). */
  private async writeIfChanged(key: string, data: Buffer): Promise<void> {
    const current = await this.storage.get(key).catch(() => undefined);
    if (current?.equals(data)) return;
    await this.storage.put(key, bytesPayload(data));
  }
}
