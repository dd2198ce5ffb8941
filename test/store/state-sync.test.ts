import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError, isGomirrorError } from '../../src/errors.js';
import type { ListOptions, ObjectStat, PutOptions, PutSource } from '../../src/storage/storage.js';
import { BucketStateSync, isSharedStatePath } from '../../src/store/state-sync.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { MemoryTreeStorage } from '../storage/memory.js';

/** Records the order of puts and removals. */
class RecordingStorage extends MemoryTreeStorage {
  readonly ops: string[] = [];
  override async put(key: string, source: PutSource, opts?: PutOptions): Promise<void> {
    this.ops.push(`put ${key}`);
    await super.put(key, source, opts);
  }
  override async remove(key: string): Promise<boolean> {
    this.ops.push(`remove ${key}`);
    return super.remove(key);
  }
}

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('gomirror-statesync-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

async function write(rel: string, text: string): Promise<void> {
  const p = nodePath.join(dir, rel);
  await fs.mkdir(nodePath.dirname(p), { recursive: true });
  await fs.writeFile(p, text);
}
const text = (s: MemoryTreeStorage, key: string): string | undefined => s.objects.get(key)?.data.toString('utf8');

describe('isSharedStatePath', () => {
  it.each([
    ['cursor.json', true],
    ['retry/0a.json', true],
    ['sumdb/sum.golang.org/latest', true],
    ['sumdb/sum.golang.org/pending.jsonl', true],
    ['export/exported.txt', true],
    ['tmp/x.123.tmp', false],
    ['lock', false],
    ['lock.123.abc.new', false],
    ['reserve', false],
    ['sumdb/sum.golang.org/tile/8/0/000', false],
    ['settings.json.tmp', false],
    ['.hidden', false],
    ['a//b', false],
  ])('%s → %s', (rel, shared) => {
    expect(isSharedStatePath(rel)).toBe(shared);
  });
});

describe('BucketStateSync', () => {
  it('pushes shared files only, everything else before the cursor, removals after it', async () => {
    const remote = new RecordingStorage();
    const sync = new BucketStateSync(dir, remote);
    await write('cursor.json', '{"c":1}');
    await write('retry/a.json', 'A');
    await write('sumdb/s/latest', 'head');
    await write('tmp/x.tmp', 'temp');
    await write('lock', 'me');
    await write('reserve', 'r');
    await write('sumdb/s/tile/8/0/000', 'tile');
    await sync.push();
    expect([...remote.objects.keys()].sort()).toEqual(['cursor.json', 'retry/a.json', 'sumdb/s/latest']);
    expect(remote.ops.at(-1)).toBe('put cursor.json');

    remote.ops.length = 0;
    await sync.push();
    expect(remote.ops).toEqual([]); // nothing changed

    await fs.rm(nodePath.join(dir, 'retry/a.json'));
    await write('retry/b.json', 'B');
    await write('cursor.json', '{"c":2}');
    await sync.push();
    expect(remote.ops).toEqual(['put retry/b.json', 'put cursor.json', 'remove retry/a.json']);
    expect(text(remote, 'cursor.json')).toBe('{"c":2}');
    expect(remote.objects.has('retry/a.json')).toBe(false);
  });

  it('pushes a file changed by an atomic replacement of the same size', async () => {
    const remote = new RecordingStorage();
    const sync = new BucketStateSync(dir, remote);
    await write('summary.json', 'one');
    await sync.push();
    await write('summary.json.new', 'two');
    await fs.rename(nodePath.join(dir, 'summary.json.new'), nodePath.join(dir, 'summary.json'));
    await sync.push();
    expect(text(remote, 'summary.json')).toBe('two');
  });

  it('pulls the bucket state as authoritative and keeps local-only files', async () => {
    const remote = new MemoryTreeStorage();
    await remote.put('cursor.json', { kind: 'bytes', data: Buffer.from('{"remote":1}') });
    await remote.put('retry/r.json', { kind: 'bytes', data: Buffer.from('R') });
    await write('cursor.json', '{"local":1}');
    await write('retry/stale.json', 'S');
    await write('sumdb/s/tile/8/0/000', 'tile');
    await write('lock', 'me');
    const sync = new BucketStateSync(dir, remote);
    expect(await sync.pull()).toEqual({ files: 2, bytes: 13 });
    expect(await fs.readFile(nodePath.join(dir, 'cursor.json'), 'utf8')).toBe('{"remote":1}');
    expect(await fs.readFile(nodePath.join(dir, 'retry/r.json'), 'utf8')).toBe('R');
    await expect(fs.access(nodePath.join(dir, 'retry/stale.json'))).rejects.toThrow();
    expect(await fs.readFile(nodePath.join(dir, 'sumdb/s/tile/8/0/000'), 'utf8')).toBe('tile');
    expect(await fs.readFile(nodePath.join(dir, 'lock'), 'utf8')).toBe('me');
    const recorder = new RecordingStorage();
    for (const [k, v] of remote.objects) recorder.objects.set(k, v);
    const again = new BucketStateSync(dir, recorder);
    await again.pull();
    await again.push();
    expect(recorder.ops).toEqual([]); // what was pulled is not pushed back
  });

  it('refuses an oversized state object', async () => {
    class Huge extends MemoryTreeStorage {
      override async *list(_prefix: string, _opts?: ListOptions): AsyncGenerator<ObjectStat[]> {
        yield [{ key: 'cursor.json', size: 3 * 1024 ** 3, mtime: new Date() }];
      }
    }
    const err = await new BucketStateSync(dir, new Huge()).pull().catch((e: unknown) => e);
    expect(isGomirrorError(err, ErrorCodes.TOO_LARGE)).toBe(true);
    expect((err as Error).message).toContain('cursor.json');
  });

  it('pushes nothing once the fence says the lock is lost, and never the cursor', async () => {
    const remote = new RecordingStorage();
    let held = true;
    const sync = new BucketStateSync(dir, remote, {
      fence: () => {
        if (!held) throw new GomirrorError(ErrorCodes.ABORTED, 'lost', { op: 'test' });
      },
    });
    await write('cursor.json', '1');
    await sync.push();
    held = false;
    await write('cursor.json', '2');
    await expect(sync.push()).rejects.toThrow('lost');
    expect(text(remote, 'cursor.json')).toBe('1');
  });

  it('pushes a large file through a temporary copy', async () => {
    const remote = new MemoryTreeStorage();
    const big = Buffer.alloc(9 * 1024 * 1024, 7);
    await write('skipped.jsonl', '');
    await fs.writeFile(nodePath.join(dir, 'skipped.jsonl'), big);
    await new BucketStateSync(dir, remote).push();
    expect(remote.objects.get('skipped.jsonl')?.data.equals(big)).toBe(true);
    expect(await fs.readdir(nodePath.join(dir, 'tmp'))).toEqual([]);
  });
});
