import { describe, expect, it } from 'vitest';
import {
  cyclicComponents,
  findCycles,
  folderGraph,
  folderOf,
  formatGraph,
  importSpecifiers,
  type FolderGraph,
} from '../../scripts/import-graph.js';

const graphOf = (edges: Record<string, string[]>): FolderGraph =>
  new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

describe('importSpecifiers', () => {
  it('finds static, type-only, multi-line, re-export, side-effect and dynamic imports', () => {
    const text = [
      "import { a } from '../store/a.js';",
      'import type { B } from "../verify/b.js";',
      'import {',
      '  c,',
      "} from '../sync/c.js';",
      "export { d } from './d.js';",
      "import '../polyfill/e.js';",
      "const f = await import('../cli/f.js');",
      "import pino from 'pino';",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual([
      '../store/a.js',
      '../verify/b.js',
      '../sync/c.js',
      './d.js',
      '../polyfill/e.js',
      '../cli/f.js',
      'pino',
    ]);
  });
});

describe('folderGraph', () => {
  it('maps files to folders, a root file to ".", and drops packages and imports within a folder', () => {
    const g = folderGraph([
      { path: 'errors.ts', text: "import { x } from './config/config.js';" },
      {
        path: 'config/config.ts',
        text: "import { E } from '../errors.js';\nimport { y } from './other.js';\nimport { z } from 'node:fs';",
      },
      { path: 'store/writer.ts', text: "import type { V } from '../verify/verified.js';" },
      { path: 'store/sub/deep.ts', text: "import { w } from '../writer.js';" },
    ]);
    expect(folderOf('errors.ts')).toBe('.');
    expect(formatGraph(g)).toBe('. -> config\nconfig -> .\nstore -> verify');
  });
});

describe('findCycles', () => {
  it('finds nothing in an acyclic graph', () => {
    const g = graphOf({ cli: ['sync', 'store'], sync: ['store', 'version'], store: ['version'], version: [] });
    expect(findCycles(g)).toEqual([]);
    expect(cyclicComponents(g)).toEqual([]);
  });

  it('finds a two-folder cycle', () => {
    expect(findCycles(graphOf({ '.': ['config'], config: ['.'] }))).toEqual([['.', 'config', '.']]);
  });

  it('finds a long cycle and names every folder of the group', () => {
    const g = graphOf({
      cli: ['store'],
      store: ['verify'],
      verify: ['sync'],
      sync: ['fetch'],
      fetch: ['store'],
      zip: [],
    });
    expect(findCycles(g)).toEqual([['fetch', 'store', 'verify', 'sync', 'fetch']]);
    expect(cyclicComponents(g)).toEqual([['fetch', 'store', 'sync', 'verify']]);
  });

  it('gives a shortest cycle through every folder of a group, each once', () => {
    const g = graphOf({ a: ['b'], b: ['a', 'c'], c: ['b'], d: ['a'] });
    expect(findCycles(g)).toEqual([
      ['a', 'b', 'a'],
      ['b', 'c', 'b'],
    ]);
    expect(cyclicComponents(g)).toEqual([['a', 'b', 'c']]);
  });

  it('gives the cycles of separate groups, each a real path in the graph', () => {
    const g = graphOf({ a: ['b'], b: ['a', 'c'], c: ['d'], d: ['e'], e: ['c'] });
    const cycles = findCycles(g);
    expect(cycles).toHaveLength(2);
    for (const c of cycles) {
      expect(c[0]).toBe(c.at(-1));
      for (let i = 0; i + 1 < c.length; i++) expect(g.get(c[i] as string)?.has(c[i + 1] as string)).toBe(true);
    }
    expect(cycles).toContainEqual(['a', 'b', 'a']);
    expect(cycles).toContainEqual(['c', 'd', 'e', 'c']);
  });
});
