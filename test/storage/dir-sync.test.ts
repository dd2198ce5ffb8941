import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { DirSyncGroup } from '../../src/storage/dir-sync.js';
import { tempDir } from '../zip/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

describe('DirSyncGroup', () => {
  it('fsyncs each added directory once per flush, and forgets it afterwards', async () => {
    const g = new DirSyncGroup();
    const a = join(dir, 'a');
    await fs.mkdir(a);
    g.add(a);
    g.add(a);
    g.add(dir);
    expect(g.pending).toBe(2);
    await g.flush();
    expect(g.pending).toBe(0);
    await g.flush();
  });

  it('skips a directory removed since, and keeps the others dirty when an fsync fails', async () => {
    const g = new DirSyncGroup();
    g.add(join(dir, 'gone'));
    await g.flush();
    expect(g.pending).toBe(0);
    const file = join(dir, 'not-a-dir');
    await fs.writeFile(file, 'x');
    g.add(join(file, 'child')); // ENOTDIR: a real failure
    g.add(dir);
    await expect(g.flush()).rejects.toMatchObject({ code: ErrorCodes.IO });
    expect(g.pending).toBe(2);
  });
});
