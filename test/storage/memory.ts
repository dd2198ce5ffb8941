/**
 * A TreeStorage held in a Map, for tests: a second backend that proves the
 * conformance suite is backend-neutral and that callers (the writer, the
 * publisher) reach the tree only through the interface. Like an object store
 * it has no directories, lists in sorted key order and records put metadata.
 */
import { readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { checkKey, checkPrefix } from '../../src/storage/keys.js';
import type {
  ListOptions,
  ObjectStat,
  ObjectStream,
  PutOptions,
  PutSource,
  StagedPut,
  TreeStorage,
} from '../../src/storage/storage.js';

interface MemObject {
  data: Buffer;
  mtime: Date;
  sha256: string;
  md5: string;
}

interface MemStaged extends StagedPut {
  readonly data: Buffer;
  readonly file?: string;
}

export class MemoryTreeStorage implements TreeStorage {
  readonly location = 'memory:';
  /** Like a bucket: a listing reports every stat, with the MD5 an ETag would carry. */
  readonly statsWithKeys = true;
  readonly objects = new Map<string, MemObject>();
  /** Quarantined bytes by `<area>/<key>`. */
  readonly quarantined = new Map<string, Buffer>();
  barriers = 0;

  async put(key: string, source: PutSource, opts?: PutOptions): Promise<void> {
    await this.commit([await this.stage(key, source, opts)]);
  }

  async stage(key: string, source: PutSource, _opts?: PutOptions): Promise<StagedPut> {
    checkKey(key);
    const data = source.kind === 'bytes' ? Buffer.from(source.data) : await readFile(source.path);
    const staged: MemStaged = { key, data, ...(source.kind === 'file' && { file: source.path }) };
    return staged;
  }

  async commit(staged: readonly StagedPut[]): Promise<void> {
    for (const s of staged as readonly MemStaged[]) {
      this.objects.set(s.key, {
        data: s.data,
        mtime: new Date(),
        sha256: createHash('sha256').update(s.data).digest('hex'),
        md5: createHash('md5').update(s.data).digest('hex'),
      });
      if (s.file !== undefined) await rm(s.file, { force: true });
    }
  }

  async discard(): Promise<void> {}

  async barrier(): Promise<void> {
    this.barriers++;
  }

  private object(key: string): MemObject {
    const o = this.objects.get(checkKey(key));
    if (o === undefined)
      throw new GomirrorError(ErrorCodes.NOT_FOUND, `no object ${key}`, { op: 'storage.get', detail: { key } });
    return o;
  }

  async get(key: string): Promise<Buffer> {
    return Buffer.from(this.object(key).data);
  }

  async stream(key: string): Promise<ObjectStream> {
    const o = this.object(key);
    return { key, size: o.data.length, mtime: o.mtime, sha256: o.sha256, body: Readable.from([o.data]) };
  }

  async stat(key: string): Promise<ObjectStat | undefined> {
    const o = this.objects.get(checkKey(key));
    return o && { key, size: o.data.length, mtime: o.mtime, sha256: o.sha256 };
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(checkKey(key));
  }

  async *list(prefix: string, opts: ListOptions = {}): AsyncGenerator<ObjectStat[]> {
    checkPrefix(prefix);
    const size = opts.pageSize ?? 1000;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (let i = 0; i < keys.length; i += size) {
      const page = keys
        .slice(i, i + size)
        .map((k) => this.objects.get(k))
        .map((o, j) => ({ key: keys[i + j] as string, size: o!.data.length, mtime: o!.mtime, md5: o!.md5 }));
      yield page;
    }
  }

  async *listKeys(prefix: string, opts?: ListOptions): AsyncGenerator<string[]> {
    for await (const page of this.list(prefix, opts)) yield page.map((s) => s.key);
  }

  async remove(key: string): Promise<boolean> {
    return this.objects.delete(checkKey(key));
  }

  async quarantine(key: string, area: string): Promise<boolean> {
    const o = this.objects.get(checkKey(key));
    if (o === undefined) return false;
    this.quarantined.set(`${area}/${key}`, o.data);
    this.objects.delete(key);
    return true;
  }
}
