/**
 * The tree writer: the only code that makes module files visible. It accepts
 * nothing but `Verified` certificates, commits verified puts into the tree
 * (zip, then mod, then info, which marks the version complete), and then
 * regenerates the module's `@v/list` and `@latest` from what is in the tree.
 * It reaches the tree only through TreeStorage (on a directory tree, never
 * through a symlink planted in it: see storage/safe-dir.ts).
 */
import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { ErrorCodes, isGomirrorError } from '../errors.js';
import { checkInfo, type InfoDoc } from '../version/info.js';
import { completeVersionsIn, moduleIndex } from '../version/module-index.js';
import { assertVerified, type Verified } from '../version/verified.js';
import { bytesPayload, type Payload } from '../version/payload.js';
import { latestKey, listKey, moduleKey, versionKey } from '../storage/keys.js';
import type { ObjectStat, StagedPut, TreeStorage } from '../storage/storage.js';
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

type Sizes = Partial<Record<'zip' | 'mod' | 'info', number>>;

/** An object as a listing showed it: its key, with its size and MD5 when the storage lists them. */
type Listed = Pick<ObjectStat, 'key'> & Partial<Pick<ObjectStat, 'size' | 'md5'>>;

/** What one listing of a module's `<module>/@` prefix tells (see TreeWriter.scanModule). */
interface ModuleScan {
  complete: string[];
  list?: Listed;
  latest?: Listed;
}

/** The count change of replacing the files `before` with `after` (kinds absent from `after` are untouched). Pure. */
export function publishDelta(before: Sizes, after: Sizes): TreeCounts {
  const d = zeroCounts();
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

/**
 * What the tree holds of a version: all it needs, no `.info` at all (nothing published), or an `.info` with a file
 * missing.
 */
export type VersionPresence = 'complete' | 'absent' | 'partial';

/** Most versions remembered as just published for the lookup publisher (beyond it, it asks the tree). */
const RECENT_LIMIT = 65_536;

/** Module indexes rewritten at once by a checkpoint. */
const INDEX_REWRITES_AT_ONCE = 16;

/**
 * Writes the served tree. Puts become durable at `checkpoint()` (the
 * storage's barrier: on a directory, one fsync per touched directory), which
 * also rewrites the indexes of modules marked with `touchModule`; callers
 * checkpoint before they record progress. With a TreeCountsStore it keeps
 * counts.json: a module is counted when its `@v/list` is first written after a
 * version was published into it.
 */
export class TreeWriter {
  private readonly indexJobs = new Map<string, IndexJobs>();
  private touched = new Set<string>();
  private checkpoints: Promise<void> = Promise.resolve();
  /** Count changes of the renames since the last checkpoint, and tree changes under way (see TreeCountsStore). */
  private delta = zeroCounts();
  private changing = 0;
  /** Modules published into since their index was last rewritten (counting only). */
  private readonly publishedInto = new Set<string>();
  /**
   * `module@version` of versions committed by publishVersion and not yet asked about by lookupVisible (at most
   * RECENT_LIMIT).
   */
  private readonly recent = new Set<string>();
  /** `module@version` of versions publishVersion is committing now (bounded by the publishes in flight). */
  private readonly publishing = new Set<string>();

  /** Writes the tree in `storage`, counting into `counts` when given. */
  constructor(
    readonly storage: TreeStorage,
    private readonly counts?: TreeCountsStore,
  ) {}

  /** True when module@version is complete in the tree (.info present, and .zip when wanted). */
  async isPublished(module: string, version: string, withZip: boolean): Promise<boolean> {
    return (await this.presence(module, version, withZip)) === 'complete';
  }

  /** What the tree holds of module@version (.info, .mod, and .zip when wanted), asking about .info first. */
  async presence(module: string, version: string, withZip: boolean): Promise<VersionPresence> {
    if (!(await this.storage.exists(versionKey(module, version, 'info')))) return 'absent';
    if (!(await this.storage.exists(versionKey(module, version, 'mod')))) return 'partial';
    if (withZip && !(await this.storage.exists(versionKey(module, version, 'zip')))) return 'partial';
    return 'complete';
  }

  /**
   * For the lookup publisher: true when module@version has its .info and
   * .mod in the tree. A version this writer published since the question was
   * last asked about it is answered from memory once (the publisher asks
   * about each journaled record until it is visible), and one it is
   * publishing right now (its record is journaled before its files are
   * visible) is not visible yet; others ask the tree.
   */
  async lookupVisible(module: string, version: string): Promise<boolean> {
    const id = `${module}@${version}`;
    if (this.recent.delete(id)) return true;
    if (this.publishing.has(id)) return false;
    return this.isPublished(module, version, false);
  }

  /**
   * Publishes a verified version: zip, mod, then info (the commit marker),
   * whose bytes are info.bytes exactly (as the upstream served them), checked
   * again here so that no caller can publish an .info of another shape.
   * In-memory payloads are written to durable temp files first; file payloads
   * are fsynced and consumed. `beforeRename` (e.g. a durable journal append)
   * runs alongside that, and nothing is renamed unless it succeeds too.
   * `presence` is what the caller learned of the version just before (see
   * `presence`): 'absent' spares asking the tree again for counting.
   */
  async publishVersion(
    v: Verified,
    info: InfoDoc,
    beforeRename?: () => Promise<void>,
    presence?: VersionPresence,
  ): Promise<void> {
    assertVerified(v);
    checkInfo(info.bytes, v.module, v.version, 'store.publish');
    const key = (ext: 'zip' | 'mod' | 'info'): string => versionKey(v.module, v.version, ext);
    const staged: StagedPut[] = [];
    const after: Sizes = {};
    const stage = async (p: Payload, k: string, kind: keyof Sizes): Promise<StagedPut> => {
      if (this.counts !== undefined) after[kind] = p.kind === 'file' ? lstatSync(p.path).size : p.data.length;
      const s = await this.storage.stage(k, p);
      staged.push(s);
      return s;
    };
    let renaming = false;
    const id = `${v.module}@${v.version}`;
    this.changing++;
    this.publishing.add(id);
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
      const before = this.counts === undefined || presence === 'absent' ? {} : await this.sizesBefore(key);
      renaming = true;
      await this.storage.commit([...(zip === undefined ? [] : [zip]), mod, infoPut]);
      if (this.recent.size < RECENT_LIMIT) this.recent.add(id);
      if (this.counts !== undefined) {
        addCounts(this.delta, publishDelta(before, after));
        this.publishedInto.add(v.module);
      }
    } catch (err) {
      await this.storage.discard(staged);
      if (renaming) await this.counts?.taint().catch(() => undefined); // some renames may have happened uncounted
      throw err;
    } finally {
      this.changing--;
      this.publishing.delete(id);
    }
  }

  /**
   * Sizes of a version's objects before publishing: none when its .info is missing (a new version), else each one's.
   */
  private async sizesBefore(key: (ext: 'zip' | 'mod' | 'info') => string): Promise<Sizes> {
    const info = (await this.storage.stat(key('info')))?.size;
    if (info === undefined) return {};
    const [zip, mod] = await Promise.all([this.storage.stat(key('zip')), this.storage.stat(key('mod'))]);
    return { info, ...(zip !== undefined && { zip: zip.size }), ...(mod !== undefined && { mod: mod.size }) };
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
      try {
        await forEachLimit(modules, INDEX_REWRITES_AT_ONCE, (m) => this.refreshModuleIndex(m));
      } catch (err) {
        for (const m of modules) this.touched.add(m);
        throw err;
      }
      // Taken after the index rewrites (which count new modules) and before the flush: every put counted here is made
      // durable by it.
      const delta = this.delta;
      this.delta = zeroCounts();
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

  /**
   * One listing of the module's `<module>/@` prefix, which holds its `@v/` directory and its `@latest` (no module
   * path element starts with `@`): its complete versions, and what the listing showed of `@v/list` and `@latest`
   * (stats with their MD5 where the storage lists them for free, see TreeStorage.statsWithKeys; else bare keys).
   */
  private async scanModule(module: string): Promise<ModuleScan> {
    const base = `${moduleKey(module)}/@`;
    const vdir = `${base}v/`;
    const names: string[] = [];
    const scan: Omit<ModuleScan, 'complete'> = {};
    const see = (s: Listed): void => {
      if (s.key === `${base}latest`) scan.latest = s;
      else if (s.key.startsWith(vdir) && !s.key.includes('/', vdir.length)) {
        names.push(s.key.slice(vdir.length));
        if (s.key === `${vdir}list`) scan.list = s;
      }
    };
    if (this.storage.statsWithKeys) {
      for await (const page of this.storage.list(base)) page.forEach(see);
    } else {
      for await (const page of this.storage.listKeys(base)) for (const key of page) see({ key });
    }
    return { complete: completeVersionsIn(names), ...scan };
  }

  /**
   * Writes `@v/list`, then `@latest` (put after the list, or removed before
   * it), from one listing of the module (scanModule). The removal is asked
   * for whenever the listing shows an `@latest` the module must not have: a
   * tree written by an older gomirror, a run killed between two steps, or
   * `verify --repair` may have left one beside any list.
   */
  private async rewriteIndex(module: string): Promise<void> {
    const published = this.publishedInto.delete(module);
    let created: boolean;
    let index: ReturnType<typeof moduleIndex>;
    let scan: ModuleScan;
    try {
      scan = await this.scanModule(module);
      index = moduleIndex(scan.complete);
      if (index.latest === undefined && scan.latest !== undefined) await this.storage.remove(latestKey(module));
      created = await this.writeIfChanged(listKey(module), Buffer.from(index.list), scan.list);
    } catch (err) {
      if (published) this.publishedInto.add(module); // the next rewrite counts it
      throw err;
    }
    // A module is new when a version was published into it and its list did not exist yet.
    if (created && published && this.counts !== undefined) this.delta.modules++;
    if (index.latest !== undefined) {
      const info = await this.storage.get(versionKey(module, index.latest, 'info'));
      await this.writeIfChanged(latestKey(module), info, scan.latest);
    }
  }

  /** The bytes at key, or undefined when there is no object (or it cannot be read: the put that follows settles it). */
  private async read(key: string): Promise<Buffer | null | undefined> {
    return this.storage
      .get(key)
      .catch((err: unknown) => (isGomirrorError(err, ErrorCodes.NOT_FOUND) ? undefined : null));
  }

  /**
   * Rewrites key whole unless it already holds exactly data: `listed` is what the module's listing showed of it
   * (undefined: no object); its size and MD5, when listed, decide; else its bytes are read and compared. True when
   * there was no object before.
   */
  private async writeIfChanged(key: string, data: Buffer, listed: Listed | undefined): Promise<boolean> {
    if (listed !== undefined && (await this.holds(key, data, listed))) return false;
    await this.storage.put(key, bytesPayload(data));
    return listed === undefined;
  }

  /** True when the listed object at key holds exactly data (by its listed size and MD5, else by reading it). */
  private async holds(key: string, data: Buffer, listed: Listed): Promise<boolean> {
    if (listed.md5 !== undefined) {
      return listed.size === data.length && listed.md5 === createHash('md5').update(data).digest('hex');
    }
    return (await this.read(key))?.equals(data) === true;
  }
}
