/**
 * Counts of the served tree (modules, versions, .zip/.mod/.info files and
 * bytes), kept incrementally in `<state>/counts.json` by the writer that
 * changes the tree, so `status` answers without walking it. The file is
 * rewritten atomically at checkpoints with what those checkpoints made
 * durable. Before the first rename after a closed checkpoint the file is
 * marked `open`; a writer that finds it open at start knows a run ended
 * between a rename and its checkpoint, and the counts stay marked inexact
 * until a recount (`gomirror status --walk`) replaces them.
 */
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError, writeFileAtomic } from '../storage/atomic.js';
import { STATE_FILE_MODE } from '../storage/modes.js';
import type { TreeStorage } from '../storage/storage.js';

/** Files and bytes of one kind of version file. */
export interface FileCount {
  files: number;
  bytes: number;
}

/** The counted content of a tree. */
export interface TreeCounts {
  /** Module directories (those holding an @v directory). */
  modules: number;
  /** Versions, i.e. .info files (the commit marker). */
  versions: number;
  zip: FileCount;
  mod: FileCount;
  info: FileCount;
}

/**
 * counts.json: the counts, whether they are known to match the tree, and whether a writer may have renamed past them.
 */
export interface CountsRecord extends TreeCounts {
  /** False after a run ended between a rename and its checkpoint, or for a tree counted by nobody yet. */
  exact: boolean;
  /** A writer renamed files that no checkpoint has counted yet (a run is writing, or was killed). */
  open: boolean;
  updatedAt: string;
}

/** Name of the counts file in the state directory. */
export const COUNTS_FILE = 'counts.json';

/** Counts of an empty tree. Pure. */
export function zeroCounts(): TreeCounts {
  return {
    modules: 0,
    versions: 0,
    zip: { files: 0, bytes: 0 },
    mod: { files: 0, bytes: 0 },
    info: { files: 0, bytes: 0 },
  };
}

/** True when the delta changes nothing. Pure. */
export function isZero(d: TreeCounts): boolean {
  return (
    d.modules === 0 &&
    d.versions === 0 &&
    (['zip', 'mod', 'info'] as const).every((k) => d[k].files === 0 && d[k].bytes === 0)
  );
}

/** Adds `d` into `into` (in place) and returns it. */
export function addCounts(into: TreeCounts, d: TreeCounts): TreeCounts {
  into.modules += d.modules;
  into.versions += d.versions;
  for (const k of ['zip', 'mod', 'info'] as const) {
    into[k].files += d[k].files;
    into[k].bytes += d[k].bytes;
  }
  return into;
}

/** The kind of version file a path names ("….zip" under "/@v/"), if any. Pure. */
export function versionFileKind(rel: string): 'zip' | 'mod' | 'info' | undefined {
  const p = rel.split(nodePath.sep).join('/');
  if (!p.includes('/@v/') || p.startsWith('sumdb/')) return undefined;
  for (const k of ['zip', 'mod', 'info'] as const) if (p.endsWith(`.${k}`)) return k;
  return undefined;
}

function isCount(v: unknown): v is FileCount {
  const c = v as Record<string, unknown> | null;
  return typeof c === 'object' && c !== null && Number.isSafeInteger(c['files']) && Number.isSafeInteger(c['bytes']);
}

/** The record in parsed counts.json, or why it is not one. Pure. */
export function parseCounts(v: unknown): CountsRecord | string {
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) return 'not an object';
  if (!Number.isSafeInteger(r['modules']) || !Number.isSafeInteger(r['versions']))
    return 'modules/versions are not integers';
  if (!isCount(r['zip']) || !isCount(r['mod']) || !isCount(r['info'])) return 'zip/mod/info are not {files, bytes}';
  if (typeof r['exact'] !== 'boolean' || typeof r['open'] !== 'boolean') return 'exact/open are not booleans';
  const c = (k: string): FileCount => {
    const x = r[k] as FileCount;
    return { files: x.files, bytes: x.bytes };
  };
  return {
    modules: r['modules'] as number,
    versions: r['versions'] as number,
    zip: c('zip'),
    mod: c('mod'),
    info: c('info'),
    exact: r['exact'] as boolean,
    open: r['open'] as boolean,
    updatedAt: typeof r['updatedAt'] === 'string' ? r['updatedAt'] : '',
  };
}

/** Reads `<stateDir>/counts.json`; undefined when there is none; MALFORMED when it is corrupt. */
export async function readCounts(stateDir: string): Promise<CountsRecord | undefined> {
  const file = nodePath.join(stateDir, COUNTS_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(err, 'store.counts', `cannot read ${file}`, { file });
  }
  let parsed: CountsRecord | string;
  try {
    parsed = parseCounts(JSON.parse(text));
  } catch {
    parsed = 'not valid JSON';
  }
  if (typeof parsed === 'string')
    throw new GomirrorError(ErrorCodes.MALFORMED, `${file} is corrupt: ${parsed} (gomirror status --walk recounts)`, {
      op: 'store.counts',
      detail: { file },
    });
  return parsed;
}

/** True when the tree holds no object (dot names, the state, never count): one page of one key at most. */
async function treeIsEmpty(tree: TreeStorage): Promise<boolean> {
  for await (const page of tree.listKeys('', { pageSize: 1 })) if (page.length > 0) return false;
  return true;
}

/**
 * The writer's side of counts.json. `load` once; `markOpen` before renaming
 * after a closed commit; `commit` a checkpoint's delta. Calls are serialized.
 */
export class TreeCountsStore {
  private record: CountsRecord | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly stateDir: string,
    private readonly tmpDir: string,
    private readonly tree: TreeStorage,
  ) {}

  /**
   * Loads counts.json: an open file (a killed writer) becomes inexact; a missing one is exact zeros only for an empty
   * tree. A corrupt one starts inexact.
   */
  load(): Promise<CountsRecord> {
    return this.serial(() => this.loaded());
  }

  /**
   * Writes the counts as `open` (durably) unless they already are: call before renaming files no checkpoint has
   * counted.
   */
  markOpen(): Promise<void> {
    return this.serial(async () => {
      const rec = await this.loaded();
      if (rec.open) return;
      await this.write({ ...rec, open: true });
    });
  }

  /** Adds a checkpoint's delta; `open` says whether renames not in it may already have happened. */
  commit(delta: TreeCounts, open: boolean): Promise<void> {
    return this.serial(async () => {
      const rec = await this.loaded();
      const nextOpen = rec.open && open;
      if (isZero(delta) && nextOpen === rec.open) return;
      const next = { ...rec, ...addCounts(structuredClone(rec) as TreeCounts, delta), open: nextOpen };
      await this.write(next);
    });
  }

  /** Marks the counts inexact (a change of unknown size happened), durably. */
  taint(): Promise<void> {
    return this.serial(async () => {
      const rec = await this.loaded();
      if (rec.exact) await this.write({ ...rec, exact: false });
    });
  }

  /** Replaces the counts with those of a full walk (exact). */
  replace(counts: TreeCounts): Promise<void> {
    return this.serial(() => this.write({ ...counts, exact: true, open: false, updatedAt: '' }));
  }

  private async loaded(): Promise<CountsRecord> {
    if (this.record !== undefined) return this.record;
    let rec: CountsRecord | undefined;
    try {
      rec = await readCounts(this.stateDir);
    } catch (err) {
      if (!(err instanceof GomirrorError && err.code === ErrorCodes.MALFORMED)) throw err;
      rec = { ...zeroCounts(), exact: false, open: false, updatedAt: '' };
    }
    const fresh = rec ?? { ...zeroCounts(), exact: await treeIsEmpty(this.tree), open: false, updatedAt: '' };
    this.record = { ...fresh, exact: fresh.exact && !fresh.open };
    return this.record;
  }

  private async write(rec: CountsRecord): Promise<void> {
    const value = { ...rec, updatedAt: new Date().toISOString() };
    await writeFileAtomic(
      nodePath.join(this.stateDir, COUNTS_FILE),
      `${JSON.stringify(value)}\n`,
      this.tmpDir,
      STATE_FILE_MODE,
    );
    this.record = value;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
