/**
 * The tree writer: the only code that makes module files visible. It accepts
 * nothing but `Verified` certificates, renames verified temp files into place
 * (zip, then mod, then info, which marks the version complete), and then
 * regenerates the module's `@v/list` and `@latest` from what is on disk.
 * It never writes through a symlink planted in the tree (safe-dir.ts).
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import { isPseudoVersion, sortReleasedVersions, compareSemver, unescapeVersion } from '../module/index.js';
import { checkInfo, type InfoDoc } from '../verify/info.js';
import { assertVerified, type Verified } from '../verify/verified.js';
import { FsTreeStorage } from '../storage/fs.js';
import { latestKey, listKey, moduleKey, versionKey } from '../storage/keys.js';
import type { StagedPut, TreeStorage } from '../storage/storage.js';
import { bytesPayload, type Payload } from './payload.js';

export type { InfoDoc } from '../verify/info.js';

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

  /** Writes the tree in `storage` (by default the directory root, with temp files in tmpDir). */
  constructor(
    readonly root: string,
    tmpDir: string,
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
    const staged: StagedPut[] = [];
    const stage = async (p: Payload, k: string): Promise<StagedPut> => {
      const s = await this.storage.stage(k, p);
      staged.push(s);
      return s;
    };
    try {
      // allSettled: every staged put is known (and discarded) before a failure is thrown.
      const [zip, mod, infoPut] = valuesOf(
        await Promise.allSettled([
          v.zip === undefined ? undefined : stage(v.zip, key('zip')),
          stage(v.mod, key('mod')),
          stage(bytesPayload(info.bytes), key('info')),
          beforeRename?.(),
        ] as const),
      );
      await this.storage.commit([...(zip === undefined ? [] : [zip]), mod, infoPut]);
    } catch (err) {
      await this.storage.discard(staged);
      throw err;
    }
  }

  /** Marks module's versions as changed: its `@v/list` and `@latest` are rewritten at the next checkpoint. */
  touchModule(module: string): void {
    this.touched.add(module);
  }

  /**
   * Rewrites the indexes of every module touched so far, then makes every
   * rename done so far durable (fsyncs the directories written since the last
   * checkpoint). Checkpoints run one at a time; on failure the modules stay
   * touched for the next one.
   */
  checkpoint(): Promise<void> {
    const run = async (): Promise<void> => {
      const modules = [...this.touched];
      this.touched = new Set();
      try {
        await forEachLimit(modules, INDEX_REWRITES_AT_ONCE, (m) => this.refreshModuleIndex(m));
      } catch (err) {
        for (const m of modules) this.touched.add(m);
        throw err;
      }
      await this.storage.barrier();
    };
    const next = this.checkpoints.then(run, run);
    this.checkpoints = next.catch(() => undefined);
    return next;
  }

  /**
   * Rewrites `@v/list` (released versions with a zip) and `@latest` (only when
   * the list is empty) from what is on disk once the call's earlier writes are
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

  /** Versions that are complete (info + mod + zip) in the module's @v directory. */
  async completeVersions(module: string): Promise<string[]> {
    const prefix = `${moduleKey(module)}/@v/`;
    const names: string[] = [];
    for await (const page of this.storage.listKeys(prefix)) {
      for (const k of page) if (!k.includes('/', prefix.length)) names.push(k.slice(prefix.length));
    }
    const have = new Set(names);
    const out: string[] = [];
    for (const name of names) {
      if (!name.endsWith('.info')) continue;
      const stem = name.slice(0, -'.info'.length);
      if (!have.has(`${stem}.mod`) || !have.has(`${stem}.zip`)) continue;
      try {
        out.push(unescapeVersion(stem));
      } catch {
        // not a file we wrote; ignore it
      }
    }
    return out;
  }

  private async rewriteIndex(module: string): Promise<void> {
    const versions = await this.completeVersions(module);
    const released = sortReleasedVersions(versions);
    const list = released.map((v) => `${v}\n`).join('');
    await this.writeIfChanged(listKey(module), Buffer.from(list));
    const latest = latestKey(module);
    const pseudo = versions.filter((v) => isPseudoVersion(v)).sort(compareSemver);
    const newest = pseudo[pseudo.length - 1];
    if (released.length === 0 && newest !== undefined) {
      const info = await this.storage.get(versionKey(module, newest, 'info'));
      await this.writeIfChanged(latest, info);
    } else if (released.length > 0) {
      await this.storage.remove(latest);
    }
  }

  /** Rewrites key whole unless it already holds exactly data (re-checks after a crash cost a read, not a write). */
  private async writeIfChanged(key: string, data: Buffer): Promise<void> {
    const current = await this.storage.get(key).catch(() => undefined);
    if (current !== undefined && current.equals(data)) return;
    await this.storage.put(key, bytesPayload(data));
  }
}
