/**
 * What an export carries: one sorted listing of the tree (TreeStorage.list,
 * in key order) merged with the list of paths earlier exports already
 * carried, kept in the same order, so memory holds only the new files (the
 * delta), never the whole tree. A version is carried only when it is complete
 * (.info and .mod present; .info is written last) and its checksum-database
 * lookup exists, so every carried version can be proven.
 */
import { ioError } from '../storage/atomic.js';
import type { ObjectStat, TreeStorage } from '../storage/storage.js';
import { lookupKey } from '../sumdbtree/layout.js';
import { classifyTreePath, storedPathFor } from './paths.js';

/** One file the bundle will carry. */
export interface PlannedFile {
  /** Tree-relative, '/'-separated. */
  path: string;
  /** Bundle-relative storage name. */
  stored: string;
  size: number;
}

export interface PlanInput {
  tree: TreeStorage;
  sumdbName: string;
  /** Carry everything, not only what `previous` lacks. */
  full: boolean;
  /** Paths carried by earlier exports, sorted by compareKeys. */
  previous: AsyncIterable<string>;
  /** Called, in order, with every path exported after this run (earlier ones and new ones). */
  record(p: string): Promise<void>;
  /**
   * Key prefixes (each ending in '/') not to list: the bundle output or state when they lie inside a directory tree.
   */
  skip?: string[];
}

export interface Plan {
  files: PlannedFile[];
  bytes: number;
}

/** The order of a sorted listing: keys by UTF-16 code units. Pure. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The objects of the tree in key order, without those under `skip`. */
async function* sortedObjects(tree: TreeStorage, skip: readonly string[]): AsyncGenerator<ObjectStat> {
  for await (const page of tree.list('', { sorted: true }))
    for (const o of page) if (!skip.some((p) => o.key.startsWith(p))) yield o;
}

/**
 * What is known about the version whose files are being listed (they come one after another): keeps lookups to one per
 * fact.
 */
interface VersionFacts {
  stem: string;
  has: Map<string, Promise<boolean>>;
}

/**
 * True when the listed file is something a bundle carries (see the module comment); `facts` remembers the current
 * version's.
 */
async function exportable(
  tree: TreeStorage,
  sumdbName: string,
  key: string,
  facts: { current?: VersionFacts },
): Promise<boolean> {
  const what = classifyTreePath(key, sumdbName);
  if (what === undefined) return false;
  if (what.kind !== 'version') return true;
  const stem = key.slice(0, -what.ext.length); // "<module>/@v/<version>."
  if (facts.current?.stem !== stem) facts.current = { stem, has: new Map() };
  const { has } = facts.current;
  has.set(what.ext, Promise.resolve(true));
  const ask = (k: string, f: string): Promise<boolean> => {
    const known = has.get(k) ?? tree.exists(f);
    has.set(k, known);
    return known;
  };
  if (!(await ask('info', `${stem}info`)) || !(await ask('mod', `${stem}mod`))) return false;
  return ask('lookup', lookupKey(sumdbName, what.module, what.version));
}

/** Lists the tree and returns the files this export carries; see PlanInput. */
export async function planExport(input: PlanInput): Promise<Plan> {
  const prev = input.previous[Symbol.asyncIterator]();
  let p = await prev.next();
  const files: PlannedFile[] = [];
  let bytes = 0;
  const facts: { current?: VersionFacts } = {};
  try {
    for await (const { key, size } of sortedObjects(input.tree, input.skip ?? [])) {
      while (!p.done && compareKeys(p.value, key) < 0) p = await prev.next();
      const seen = !p.done && p.value === key;
      if (seen && !input.full) {
        await input.record(key);
        continue;
      }
      if (!(await exportable(input.tree, input.sumdbName, key, facts))) continue;
      files.push({ path: key, stored: storedPathFor(key), size });
      bytes += size;
      await input.record(key);
    }
  } catch (err) {
    throw ioError(err, 'transfer.plan', `cannot list the tree ${input.tree.location}`, { root: input.tree.location });
  } finally {
    await prev.return?.(undefined);
  }
  return { files, bytes };
}
