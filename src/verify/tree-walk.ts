/**
 * A streaming walk over the served tree that yields its modules (the key
 * prefixes holding `@v/…` or `@latest`) with the names in their `@v/`, from
 * one listing of the whole tree (TreeStorage.list). The keys under any
 * prefix ending in '/' come together in a listing, so a module is complete
 * once the listing leaves its prefix: memory holds the modules on one path
 * from the root (nested modules), never the tree. Symbolic links met by a
 * directory backend are reported through `onLink`; keys under `skip`
 * prefixes (the state directory inside a directory tree) are ignored.
 */
import type { TreeStorage } from '../storage/storage.js';

/** A module of the tree: its escaped path and the names under its `@v/` (paths below it for nested entries). */
export interface ModuleEntry {
  /** Escaped module path relative to the root, with `/` separators. */
  escaped: string;
  /** Names under `<escaped>/@v/` ("list", version files, and whatever else is there). */
  names: string[];
  hasLatest: boolean;
}

export interface WalkOptions {
  /** Key prefixes (each ending in '/') never walked. */
  skip?: string[];
  /** Called with the key of every symbolic link met. */
  onLink?: (key: string) => void;
}

/** Where a key belongs: a name in a module's `@v/`, the module's `@latest`, or nothing (undefined). Pure. */
export function moduleKeyOf(key: string): { escaped: string; name?: string; latest?: true } | undefined {
  const segs = key.split('/');
  const at = segs.findIndex((s) => s.startsWith('@'));
  if (at < 0) return undefined;
  const escaped = segs.slice(0, at).join('/');
  const rest = segs.slice(at + 1);
  if (segs[at] === '@v' && rest.length > 0) return { escaped, name: rest.join('/') };
  if (segs[at] === '@latest' && rest.length === 0) return { escaped, latest: true };
  return undefined;
}

/** The prefix every key of the module's block starts with. */
function blockOf(escaped: string): string {
  return escaped === '' ? '' : `${escaped}/`;
}

/** Yields every module of the tree; see the module comment. */
export async function* walkModules(tree: TreeStorage, opts: WalkOptions = {}): AsyncGenerator<ModuleEntry> {
  const skip = opts.skip ?? [];
  const open: ModuleEntry[] = [];
  const listOpts = opts.onLink === undefined ? {} : { onLink: opts.onLink };
  for await (const page of tree.listKeys('', listOpts)) {
    for (const key of page) {
      if (skip.some((p) => key.startsWith(p))) continue;
      for (let top = open.at(-1); top !== undefined && !key.startsWith(blockOf(top.escaped)); top = open.at(-1)) {
        yield open.pop() as ModuleEntry;
      }
      const where = moduleKeyOf(key);
      if (where === undefined) continue;
      let entry = open.at(-1);
      if (entry?.escaped !== where.escaped) {
        entry = { escaped: where.escaped, names: [], hasLatest: false };
        open.push(entry);
      }
      if (where.name !== undefined) entry.names.push(where.name);
      else entry.hasLatest = true;
    }
  }
  while (open.length > 0) yield open.pop() as ModuleEntry;
}
