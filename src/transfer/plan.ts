/**
 * What an export carries: a sorted walk of the tree merged with the sorted
 * list of paths earlier exports already carried, so memory holds only the
 * new files (the delta), never the whole tree. A version is carried only
 * when it is complete (.info and .mod present; .info is written last) and its
 * checksum-database lookup file exists, so every carried version can be proven.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ioError } from '../storage/atomic.js';
import { exists } from '../storage/fsx.js';
import { lookupFile } from '../sumdbtree/layout.js';
import { classifyTreePath, comparePaths, storedPathFor } from './paths.js';

/** One file the bundle will carry. */
export interface PlannedFile {
  /** Tree-relative, '/'-separated. */
  path: string;
  /** Bundle-relative storage name. */
  stored: string;
  size: number;
}

export interface PlanInput {
  root: string;
  sumdbName: string;
  /** Carry everything, not only what `previous` lacks. */
  full: boolean;
  /** Paths carried by earlier exports, sorted by comparePaths. */
  previous: AsyncIterable<string>;
  /** Called, in order, with every path exported after this run (earlier ones and new ones). */
  record(p: string): Promise<void>;
  /** Absolute directories not to walk (e.g. the bundle output when it lies inside the tree). */
  skip?: string[];
}

export interface Plan {
  files: PlannedFile[];
  bytes: number;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Regular files under root in comparePaths order, skipping dot names and `skip`, with their directory's names. */
async function* walk(
  root: string,
  dir: string,
  skip: ReadonlySet<string>,
): AsyncGenerator<{ rel: string; siblings: ReadonlySet<string> }> {
  const abs = path.join(root, dir);
  if (skip.has(abs)) return;
  const entries = (await fs.readdir(abs, { withFileTypes: true })).sort(byName);
  const names = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory()) yield* walk(root, rel, skip);
    else if (e.isFile()) yield { rel, siblings: names };
  }
}

/** True when the walked file is something a bundle carries (see the module comment). */
async function exportable(
  root: string,
  sumdbName: string,
  rel: string,
  siblings: ReadonlySet<string>,
): Promise<boolean> {
  const what = classifyTreePath(rel, sumdbName);
  if (what === undefined) return false;
  if (what.kind !== 'version') return true;
  const stem = path.posix.basename(rel).slice(0, -(what.ext.length + 1));
  if (!siblings.has(`${stem}.info`) || !siblings.has(`${stem}.mod`)) return false;
  return exists(lookupFile(root, sumdbName, what.module, what.version));
}

/** Walks the tree and returns the files this export carries; see PlanInput. */
export async function planExport(input: PlanInput): Promise<Plan> {
  const prev = input.previous[Symbol.asyncIterator]();
  let p = await prev.next();
  const files: PlannedFile[] = [];
  let bytes = 0;
  try {
    for await (const { rel, siblings } of walk(
      path.resolve(input.root),
      '',
      new Set((input.skip ?? []).map((s) => path.resolve(s))),
    )) {
      while (!p.done && comparePaths(p.value, rel) < 0) p = await prev.next();
      const seen = !p.done && p.value === rel;
      if (seen && !input.full) {
        await input.record(rel);
        continue;
      }
      if (!(await exportable(input.root, input.sumdbName, rel, siblings))) continue;
      const { size } = await fs.stat(path.join(input.root, rel));
      files.push({ path: rel, stored: storedPathFor(rel), size });
      bytes += size;
      await input.record(rel);
    }
  } catch (err) {
    throw ioError(err, 'transfer.plan', `cannot walk the tree ${input.root}`, { root: input.root });
  } finally {
    await prev.return?.(undefined);
  }
  return { files, bytes };
}
