/**
 * exported.txt written in the directory-walk order of older versions is
 * re-sorted once into key order (in runs spilled to disk and merged), so a
 * delta export after an upgrade carries nothing twice; a list already in key
 * order is left as it is.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { comparePaths } from '../../src/transfer/paths.js';
import { ensureKeyOrder } from '../../src/transfer/path-order.js';
import { compareKeys } from '../../src/transfer/plan.js';
import { tempDir } from '../zip/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const PATHS = Array.from({ length: 500 }, (_, i) => [
  `a.dev/m${i % 7}/@v/v1.${i}.0.info`,
  `a.dev/m${i % 7}-x/@v/v1.${i}.0.mod`,
  `a.dev/m${i % 7}.y/@v/v1.${i}.0.zip`,
  `sumdb/s/lookup/a.dev/m${i % 7}@v1.${i}.0`,
]).flat();

describe('ensureKeyOrder', () => {
  it('re-sorts a list in directory-walk order into key order, in bounded runs, leaving no temporary file', async () => {
    const file = join(dir, 'exported.txt');
    const walkOrder = [...new Set(PATHS)].sort(comparePaths);
    expect(walkOrder).not.toEqual([...walkOrder].sort(compareKeys)); // the two orders differ here
    await writeFile(file, `${walkOrder.join('\n')}\n`);
    const tmp = join(dir, 'tmp');
    expect(await ensureKeyOrder(file, tmp, 97)).toBe(true);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
    expect(lines).toEqual([...walkOrder].sort(compareKeys));
    expect(await readdir(tmp)).toEqual([]);
    expect(await readdir(dir)).toContain('exported.txt.key-order');
    expect(await ensureKeyOrder(file, tmp, 97)).toBe(false); // marked: never read again
    expect(await ensureKeyOrder(join(dir, 'missing.txt'), tmp)).toBe(false);

    const sorted = join(dir, 'sorted.txt'); // a list already in key order is only marked
    await writeFile(sorted, `${[...walkOrder].sort(compareKeys).join('\n')}\n`);
    expect(await ensureKeyOrder(sorted, tmp, 97)).toBe(false);
    expect(await readdir(dir)).toContain('sorted.txt.key-order');
  });
});
