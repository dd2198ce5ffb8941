/**
 * An in-memory checksum database for tests: appends go.sum records, signs tree
 * notes with a fresh Ed25519 key, and serves latest / lookup / tiles through an
 * in-memory SumdbTransport whose answers tests can tamper with.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { ed25519VerifierKey, formatTreeNote, keyHash, type Signer, signNote } from '../../src/sumdb/note.js';
import { formatDataTile } from '../../src/sumdb/record.js';
import { parseTilePath, readTileData } from '../../src/sumdb/tiles.js';
import { type HashReader, shl, shr, storedHashes, treeHash } from '../../src/sumdb/tlog.js';
import type { SumdbTransport } from '../../src/sumdb/tilefetch.js';

/** A fresh Ed25519 signer and its verifier key string. */
export function newKey(name: string): { signer: Signer; vkey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const vkey = ed25519VerifierKey(name, raw);
  const kh = keyHash(name, Buffer.concat([Buffer.of(1), raw]));
  return { signer: { name, keyHash: kh, sign: (msg) => sign(null, msg, privateKey) }, vkey };
}

function h1(s: string): string {
  return `h1:${createHash('sha256').update(s).digest('base64')}`;
}

/** The go.sum record text a fake log stores for module@version (salt varies the hashes). */
export function recordText(module: string, version: string, salt = ''): Buffer {
  return Buffer.from(
    `${module} ${version} ${h1(`zip ${module} ${version}${salt}`)}\n${module} ${version}/go.mod ` +
      `${h1(`mod ${module} ${version}${salt}`)}\n`,
  );
}

export interface TransportOptions {
  /** Serve this tree size as "latest" and in lookups (default: current size); tiles always follow the whole log. */
  size?: number;
  /** Answer these paths with this body (or a 404 for null). */
  overrides?: Map<string, Buffer | null>;
  /**
   * Answer partial tiles ("….p/W") with 404 once their full tile exists, like a server that drops completed partials.
   */
  noPartialTiles?: boolean;
  /** Write "<id>\n" before each record in data tiles (golang.org/x/mod reference server framing). */
  idFraming?: boolean;
}

export class FakeLog {
  readonly records: Buffer[] = [];
  readonly hashes: Buffer[] = [];
  readonly ids = new Map<string, number>();
  readonly requests: string[] = [];

  constructor(readonly signer: Signer) {}

  get size(): number {
    return this.records.length;
  }

  readonly reader: HashReader = {
    readHashes: async (indexes) =>
      indexes.map((i) => {
        const h = this.hashes[i];
        if (!h) throw new Error(`fake log: no hash ${i}`);
        return h;
      }),
  };

  /** Appends one record (raw text) and returns its id. */
  async addText(text: Buffer, key?: string): Promise<number> {
    const id = this.records.length;
    this.hashes.push(...(await storedHashes(id, text, this.reader)));
    this.records.push(text);
    if (key) this.ids.set(key, id);
    return id;
  }

  /** Appends records for module@v0.0.i for i in [0, n). */
  async addMany(n: number, module = 'example.com/m', salt = ''): Promise<void> {
    for (let i = 0; i < n; i++) {
      const v = `v0.0.${this.size}`;
      await this.addText(recordText(module, v, salt), `${module}@${v}`);
    }
  }

  async treeHash(size = this.size): Promise<Buffer> {
    return treeHash(size, this.reader);
  }

  /** The signed tree note for the first `size` records. */
  async note(size = this.size): Promise<Buffer> {
    return signNote(formatTreeNote({ size, hash: await this.treeHash(size) }), this.signer);
  }

  /** An in-memory transport serving this log. */
  transport(opts: TransportOptions = {}): SumdbTransport {
    return { get: (path) => this.serve(path, opts) };
  }

  private async serve(path: string, opts: TransportOptions): Promise<Buffer> {
    this.requests.push(path);
    const override = opts.overrides?.get(path);
    if (override === null) throw notFound(path);
    if (override) return override;
    const size = opts.size ?? this.size;
    if (path === 'latest') return this.note(size);
    if (path.startsWith('lookup/')) return this.lookup(path.slice('lookup/'.length), size);
    const t = parseTilePath(path);
    const entries = t.l === -1 ? this.size : shr(this.size, t.h * t.l);
    if (opts.noPartialTiles && t.w < 2 ** t.h && shl(t.n + 1, t.h) <= entries) throw notFound(path);
    if (shl(t.n, t.h) + t.w > entries) throw notFound(path);
    if (t.l === -1) {
      const recs = this.records.slice(shl(t.n, t.h), shl(t.n, t.h) + t.w);
      if (!opts.idFraming) return formatDataTile(recs);
      return Buffer.concat(
        recs.map((r, i) => Buffer.concat([Buffer.from(`${shl(t.n, t.h) + i}\n`), r, Buffer.from('\n')])),
      );
    }
    return readTileData(t, this.reader);
  }

  private async lookup(key: string, size: number): Promise<Buffer> {
    const unescaped = key.replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
    const id = this.ids.get(unescaped);
    if (id === undefined || id >= size) throw notFound(`lookup/${key}`);
    return Buffer.concat([
      Buffer.from(`${id}\n`),
      this.records[id] as Buffer,
      Buffer.from('\n'),
      await this.note(size),
    ]);
  }
}

export function notFound(path: string): GomirrorError {
  return new GomirrorError(ErrorCodes.NOT_FOUND, `not found: ${path}`, { op: 'test.sumdb' });
}

/** An in-memory TrustedHeadStore. */
export function memoryStore(initial?: Buffer): {
  load(): Promise<Buffer | undefined>;
  save(n: Buffer): Promise<void>;
  saved: Buffer[];
} {
  let cur = initial;
  const saved: Buffer[] = [];
  return {
    saved,
    load: async () => cur,
    save: async (n) => {
      cur = n;
      saved.push(n);
    },
  };
}
