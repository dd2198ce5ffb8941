/**
 * Fails (exit 1) when a .ts file under `src/`, `test/` or `scripts/` has a
 * line over 120 characters, printing `file:line: N characters` for each.
 * Usage: node dist/scripts/check-lines.js [dir…] (default: those three
 * folders of this repository). Run by `npm test`.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLongLine, longLines, MAX_LINE_CHARS } from './line-length.js';

/** Every .ts file under dir, sorted, skipping node_modules. */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') out.push(...(await tsFiles(full)));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  // dist/scripts/check-lines.js -> <repo>
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dirs = argv.length > 0 ? argv : ['src', 'test', 'scripts'].map((d) => path.join(root, d));
  let files = 0;
  let offenders = 0;
  for (const dir of dirs) {
    for (const file of await tsFiles(dir)) {
      files++;
      const shown = path.relative(process.cwd(), file) || file;
      for (const l of longLines(await readFile(file, 'utf8'))) {
        console.error(formatLongLine(shown, l));
        offenders++;
      }
    }
  }
  if (offenders > 0) {
    console.error(`check-lines: ${offenders} lines over ${MAX_LINE_CHARS} characters`);
    return 1;
  }
  console.log(`check-lines: ${files} files, no line over ${MAX_LINE_CHARS} characters`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
