import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { PendingJournal, type PendingRecord } from '../../src/sumdbtree/journal.js';
import { tempDir } from '../zip/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

const rec = (i: number): PendingRecord => ({
  module: `example.com/m${i}`,
  version: `v1.${i}.0`,
  id: i,
  recordText: `example.com/m${i} v1.${i}.0 h1:x=\nexample.com/m${i} v1.${i}.0/go.mod h1:y=\n`,
});

async function all(j: PendingJournal): Promise<PendingRecord[]> {
  const out: PendingRecord[] = [];
  await j.scan(0, (r) => {
    out.push(r);
  });
  return out;
}

describe('PendingJournal', () => {
  it('yields nothing when the file does not exist', async () => {
    expect(await all(new PendingJournal(join(dir, 'none', 'pending.jsonl')))).toEqual([]);
  });

  it('appends (creating the directory) and iterates in order', async () => {
    const j = new PendingJournal(join(dir, 'state', 'sub', 'pending.jsonl'));
    await j.append(rec(1));
    await j.append(rec(2));
    await j.append(rec(3));
    expect(await all(j)).toEqual([rec(1), rec(2), rec(3)]);
    const text = await fs.readFile(j.file, 'utf8');
    expect(text.split('\n')).toHaveLength(4);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('survives reopening: a new instance reads what an old one appended', async () => {
    const file = join(dir, 'pending.jsonl');
    await new PendingJournal(file).append(rec(7));
    const j2 = new PendingJournal(file);
    await j2.append(rec(8));
    expect(await all(j2)).toEqual([rec(7), rec(8)]);
  });

  it('clear removes everything; clearing twice is fine; appends afterwards start fresh', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    await j.append(rec(1));
    await j.clear();
    await expect(fs.access(j.file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await all(j)).toEqual([]);
    await j.clear();
    await j.append(rec(2));
    expect(await all(j)).toEqual([rec(2)]);
  });

  it('clear waits for appends in flight', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    const appends = [1, 2, 3].map((i) => j.append(rec(i)));
    await j.clear();
    await Promise.all(appends);
    expect(await all(j)).toEqual([]);
  });

  it('ignores a torn last line, blank lines and lines of the wrong shape', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    await j.append(rec(1));
    await j.append(rec(2));
    const junk = [
      '',
      '   ',
      JSON.stringify({ module: 'm', version: 'v1.0.0', id: '3', recordText: 'x' }), // id not a number
      JSON.stringify({ module: 'm', version: 'v1.0.0', id: 1.5, recordText: 'x' }), // not an integer
      JSON.stringify({ module: 'm', version: 'v1.0.0', id: 4 }), // no recordText
      'null',
      '[1,2]',
    ].join('\n');
    await fs.appendFile(j.file, `${junk}\n${JSON.stringify(rec(9)).slice(0, 30)}`);
    expect(await all(j)).toEqual([rec(1), rec(2)]);
  });

  it('an append after a torn line still lands on its own line (no record is lost)', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    await j.append(rec(1));
    await j.close();
    await fs.appendFile(j.file, '{"module":"torn'); // a run killed mid-write
    // the next run appends: its records must survive, or their lookups and tiles
    // are never published while the module files are
    const next = new PendingJournal(j.file);
    await next.append(rec(2));
    await next.append(rec(3));
    expect(await all(next)).toEqual([rec(1), rec(2), rec(3)]);
    await next.close();
  });

  it('scan resumes from the offset it returned; a line still being written waits for the next scan', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    await j.append(rec(1));
    await j.append(rec(2));
    const seen: number[] = [];
    const visit = (r: PendingRecord): void => {
      seen.push(r.id);
    };
    const first = await j.scan(0, visit);
    expect(first).toBe((await fs.stat(j.file)).size);
    const line = JSON.stringify(rec(3));
    await fs.appendFile(j.file, line.slice(0, 20)); // half a line: a write in progress
    expect(await j.scan(first, visit)).toBe(first);
    await fs.appendFile(j.file, `${line.slice(20)}\n`);
    const second = await j.scan(first, visit);
    expect(second).toBe((await fs.stat(j.file)).size);
    expect(seen).toEqual([1, 2, 3]);
    expect(await j.scan(second, visit)).toBe(second);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('scan reads a journal far larger than its read size, line by line', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    const n = 3000; // ~400 KB: several 64 KiB reads, lines split across them
    await fs.writeFile(j.file, Array.from({ length: n }, (_, i) => `${JSON.stringify(rec(i))}\n`).join(''));
    const got: number[] = [];
    const end = await j.scan(0, (r) => {
      got.push(r.id);
    });
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(end).toBe((await fs.stat(j.file)).size);
  });

  it('scan keeps multi-byte characters whole across its reads', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    const wide = (i: number): PendingRecord => ({ ...rec(i), recordText: `${'é😀'.repeat(40 + (i % 7))}\n` });
    const n = 2000; // several 64 KiB reads; characters of 2 and 4 bytes land on their edges
    await fs.writeFile(j.file, Array.from({ length: n }, (_, i) => `${JSON.stringify(wide(i))}\n`).join(''));
    const got: PendingRecord[] = [];
    const end = await j.scan(0, (r) => {
      got.push(r);
    });
    expect(got).toEqual(Array.from({ length: n }, (_, i) => wide(i)));
    expect(end).toBe((await fs.stat(j.file)).size);
  });

  it('concurrent appends all land, one per line', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    const n = 60;
    await Promise.all(Array.from({ length: n }, (_, i) => j.append(rec(i))));
    const got = await all(j);
    expect(got).toHaveLength(n);
    expect(got.map((r) => r.id)).toEqual(Array.from({ length: n }, (_, i) => i));
    const lines = (await fs.readFile(j.file, 'utf8')).split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(n);
  });

  it('wraps a failed append as IO and keeps working afterwards', async () => {
    const file = join(dir, 'pending.jsonl');
    await fs.mkdir(file); // a directory where the journal should be
    const j = new PendingJournal(file);
    const err = await j.append(rec(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GomirrorError);
    expect((err as GomirrorError).code).toBe(ErrorCodes.IO);
    expect((err as GomirrorError).op).toBe('sumdbtree.journal');
    expect((err as GomirrorError).message).toContain(file);
    await fs.rmdir(file);
    await j.append(rec(2));
    expect(await all(j)).toEqual([rec(2)]);
  });
  it('compact keeps the given records and all appended after the offset; appends go on after it', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    for (const i of [1, 2, 3, 4]) await j.append(rec(i));
    const offset = await j.scan(0, () => undefined);
    await j.append(rec(5)); // after the scan: must survive
    const start = await j.compact(offset, [rec(2)]);
    expect(start).toBe(Buffer.byteLength(`${JSON.stringify(rec(2))}\n`));
    await j.append(rec(6));
    expect(await all(j)).toEqual([rec(2), rec(5), rec(6)]);
    const after: number[] = [];
    await j.scan(start, (r) => {
      after.push(r.id);
    });
    expect(after).toEqual([5, 6]);
    // What a new run finds after a crash: the same records, no temporary file left beside the journal.
    expect(await all(new PendingJournal(j.file))).toEqual([rec(2), rec(5), rec(6)]);
    expect(await fs.readdir(dir)).toEqual(['pending.jsonl']);
    await j.close();
  });

  it('compact waits for appends in flight and loses none that arrive while it runs', async () => {
    const j = new PendingJournal(join(dir, 'pending.jsonl'));
    await j.append(rec(1));
    const offset = await j.scan(0, () => undefined);
    const before = [2, 3].map((i) => j.append(rec(i)));
    const compacted = j.compact(offset, []);
    const during = [4, 5].map((i) => j.append(rec(i)));
    await Promise.all([...before, compacted, ...during]);
    expect(await all(j)).toEqual([rec(2), rec(3), rec(4), rec(5)]);
    await j.close();
  });
});
