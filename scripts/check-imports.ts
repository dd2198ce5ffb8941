/**
 * Fails (exit 1) when the folders of `src/` import each other in a cycle,
 * naming one cycle per group of entangled folders. Usage:
 * node dist/scripts/check-imports.js [--print] [srcDir]; `--print` also
 * prints the folder graph. Run by `npm test`.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cyclicComponents, findCycles, folderGraph, formatGraph, type SourceFile } from './import-graph.js';

/** Every .ts file under dir, with its path relative to root. */
async function sources(root: string, dir = root): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(root, full)));
    else if (e.isFile() && e.name.endsWith('.ts')) {
      out.push({ path: path.relative(root, full).split(path.sep).join('/'), text: await readFile(full, 'utf8') });
    }
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const print = argv.includes('--print');
  const dirArg = argv.find((a) => !a.startsWith('--'));
  // dist/scripts/check-imports.js -> <repo>/src
  const srcDir = dirArg ?? fileURLToPath(new URL('../../src', import.meta.url));
  const graph = folderGraph(await sources(srcDir));
  if (print) console.log(formatGraph(graph));
  const cycles = findCycles(graph);
  for (const c of cycles) console.error(`check-imports: folder import cycle: ${c.join(' -> ')}`);
  for (const comp of cyclicComponents(graph))
    console.error(`check-imports: folders that import each other: ${comp.join(', ')}`);
  if (cycles.length === 0) console.log(`check-imports: ${graph.size} folders under ${srcDir}, no import cycle`);
  return cycles.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
