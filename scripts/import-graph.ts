/**
 * The import graph between the folders of `src/` and its cycles. Pure: the
 * caller reads the files (scripts/check-imports.ts). A file directly in
 * `src/` belongs to folder ".". Every relative `import`/`export … from`,
 * side-effect `import '…'` and dynamic `import('…')` is an edge, type-only
 * imports included: a type shared both ways still ties two folders together.
 */
import * as path from 'node:path/posix';

/** Folder -> the folders it imports from (never itself). */
export type FolderGraph = Map<string, Set<string>>;

/** One source file: its path relative to `src/` with `/` separators, and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;

/** The module specifiers a file imports or re-exports from (comments are not stripped; keep imports out of them). */
export function importSpecifiers(text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((m) => m[2] as string);
}

/** The folder of a `src/`-relative path: its first segment, or "." for a file directly in `src/`. */
export function folderOf(file: string): string {
  const i = file.indexOf('/');
  return i < 0 ? '.' : file.slice(0, i);
}

/** The `src/`-relative target of a relative specifier, or undefined when it is a package or leaves `src/`. */
function resolveTarget(from: string, spec: string): string | undefined {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return undefined;
  const target = path.normalize(path.join(path.dirname(from), spec));
  return target.startsWith('../') ? undefined : target;
}

/** The folder graph of the given files (every folder holding a file is a node). */
export function folderGraph(files: Iterable<SourceFile>): FolderGraph {
  const graph: FolderGraph = new Map();
  const edges = (folder: string): Set<string> => {
    let s = graph.get(folder);
    if (s === undefined) graph.set(folder, (s = new Set()));
    return s;
  };
  for (const f of files) {
    const from = folderOf(f.path);
    const out = edges(from);
    for (const spec of importSpecifiers(f.text)) {
      const target = resolveTarget(f.path, spec);
      if (target === undefined) continue;
      const to = folderOf(target);
      if (to !== from) out.add(to);
    }
  }
  return graph;
}

/** The groups of folders that import each other (strongly connected components, Tarjan), each sorted. */
export function cyclicComponents(graph: FolderGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const comp: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      comp.push(w);
    }
    if (comp.length > 1) out.push(comp.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** A shortest path start -> … -> start through folders of comp only (breadth first). */
function cycleThrough(graph: FolderGraph, comp: readonly string[], start: string): string[] {
  const inComp = new Set(comp);
  const prev = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i] as string;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const pathBack = [v];
        for (let p = prev.get(v); p !== undefined; p = prev.get(p)) pathBack.push(p);
        return [...pathBack.reverse(), start];
      }
      if (!prev.has(w) && w !== start) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start]; // unreachable for a strongly connected comp
}

/** cycle rotated to start (and end) at its smallest folder, so that equal cycles compare equal. */
function rotated(cycle: readonly string[]): string[] {
  const ring = cycle.slice(0, -1);
  const min = ring.indexOf([...ring].sort()[0] as string);
  const out = [...ring.slice(min), ...ring.slice(0, min)];
  return [...out, out[0] as string];
}

/**
 * The cycles between folders: for every folder in a group of folders that
 * import each other, a shortest cycle through it, as a path that starts and
 * ends at the same folder (e.g. ["store", "verify", "store"]); each cycle
 * once, starting at its smallest folder. Empty when the graph is acyclic.
 */
export function findCycles(graph: FolderGraph): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const comp of cyclicComponents(graph)) {
    for (const start of comp) {
      const c = rotated(cycleThrough(graph, comp, start));
      const key = c.join('\0');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(c);
    }
  }
  return out;
}

/** The graph as lines "folder -> a, b", sorted. */
export function formatGraph(graph: FolderGraph): string {
  return [...graph.keys()]
    .sort()
    .map((k) => `${k} -> ${[...(graph.get(k) ?? [])].sort().join(', ')}`)
    .join('\n');
}
