/**
 * The fake checksum database's transparency log: RFC 6962 record and node
 * hashes, stored hashes by level, hash and data tiles (height 8), tree notes
 * and Ed25519 note signing, written independently of src/sumdb.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

/** Tile height used by sum.golang.org and the go command. */
export const TILE_HEIGHT = 8;
const TILE_WIDTH = 1 << TILE_HEIGHT;

/** RFC 6962 leaf hash: SHA-256(0x00 ‖ data). */
export function recordHash(data: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(data)
    .digest();
}

/** RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();
}

/** An append-only log of records with every complete subtree hash stored by level. */
export class HashLog {
  private readonly records: Buffer[] = [];
  /** levels[h][i] = hash of the complete subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: Buffer[][] = [[]];

  /** A log holding copies of `texts` in order. */
  static of(texts: Iterable<Buffer>): HashLog {
    const log = new HashLog();
    for (const t of texts) log.append(t);
    return log;
  }

  /** Number of records (the tree size). */
  get size(): number {
    return this.records.length;
  }

  /** Appends a record and returns its id. */
  append(text: Buffer): number {
    const id = this.records.length;
    this.records.push(text);
    let h = recordHash(text);
    let level = 0;
    let index = id;
    for (;;) {
      const row = this.levels[level] ?? [];
      this.levels[level] = row;
      row[index] = h;
      if (index % 2 === 0) break;
      h = nodeHash(row[index - 1] as Buffer, h);
      level++;
      index = (index - 1) / 2;
    }
    return id;
  }

  /** The record text with the given id, or undefined. */
  record(id: number): Buffer | undefined {
    return this.records[id];
  }

  /** All record texts, in order (copies of the array, same buffers). */
  allRecords(): Buffer[] {
    return [...this.records];
  }

  /** Stored hash at (level, index), or undefined when that subtree is not complete. */
  storedHash(level: number, index: number): Buffer | undefined {
    return this.levels[level]?.[index];
  }

  /** RFC 6962 root hash of the first `n` records (default: all). */
  treeHash(n: number = this.size): Buffer {
    if (n < 0 || n > this.size) throw new RangeError(`tree size ${n} out of range 0..${this.size}`);
    if (n === 0) return createHash('sha256').digest();
    const parts: Buffer[] = [];
    let start = 0;
    for (let level = 31; level >= 0; level--) {
      const width = 2 ** level;
      if (n - start >= width) {
        parts.push(this.storedHash(level, start / width) as Buffer);
        start += width;
      }
    }
    let h = parts.pop() as Buffer;
    while (parts.length > 0) h = nodeHash(parts.pop() as Buffer, h);
    return h;
  }

  /** Hash tile (tile level L, index N, width W): W stored hashes at tree level 8L, or undefined if not complete. */
  hashTile(tileLevel: number, n: number, w: number): Buffer | undefined {
    if (w < 1 || w > TILE_WIDTH) return undefined;
    const level = tileLevel * TILE_HEIGHT;
    const out: Buffer[] = [];
    for (let i = 0; i < w; i++) {
      const h = this.storedHash(level, n * TILE_WIDTH + i);
      if (!h) return undefined;
      out.push(h);
    }
    return Buffer.concat(out);
  }

  /**
   * Data tile N of width W: the texts of records N·256 … N·256+W−1, each
   * followed by a blank line (the record id line is omitted, as sum.golang.org does).
   */
  dataTile(n: number, w: number): Buffer | undefined {
    if (w < 1 || w > TILE_WIDTH || n * TILE_WIDTH + w > this.size) return undefined;
    const parts: Buffer[] = [];
    for (let i = 0; i < w; i++) parts.push(this.records[n * TILE_WIDTH + i] as Buffer, Buffer.from('\n'));
    return Buffer.concat(parts);
  }
}

/** A parsed tile path `tile/8/L/NNN[.p/W]`; level -1 means a data tile. */
export interface TileRef {
  level: number;
  n: number;
  width: number;
}

/** Go's tile path for a tile (as tlog.Tile.Path). */
export function tilePath(t: TileRef): string {
  let nStr = String(t.n % 1000).padStart(3, '0');
  for (let n = Math.floor(t.n / 1000); n > 0; n = Math.floor(n / 1000)) {
    nStr = `x${String(n % 1000).padStart(3, '0')}/${nStr}`;
  }
  const l = t.level === -1 ? 'data' : String(t.level);
  const p = t.width === TILE_WIDTH ? '' : `.p/${t.width}`;
  return `tile/${TILE_HEIGHT}/${l}/${nStr}${p}`;
}

/** Parses `tile/8/L/x001/234[.p/W]` strictly (round-trips through tilePath); undefined when invalid. */
export function parseTilePath(path: string): TileRef | undefined {
  const parts = path.split('/');
  if (parts.length < 4 || parts[0] !== 'tile' || parts[1] !== String(TILE_HEIGHT)) return undefined;
  const l = parts[2] as string;
  const level = l === 'data' ? -1 : /^\d{1,2}$/.test(l) ? Number(l) : NaN;
  if (Number.isNaN(level)) return undefined;
  let nParts = parts.slice(3);
  let width = TILE_WIDTH;
  const last2 = nParts[nParts.length - 2];
  if (last2?.endsWith('.p')) {
    const w = nParts[nParts.length - 1] as string;
    if (!/^[1-9]\d*$/.test(w)) return undefined;
    width = Number(w);
    nParts = [...nParts.slice(0, -2), last2.slice(0, -2)];
  }
  let digits = '';
  for (let i = 0; i < nParts.length; i++) {
    const seg = nParts[i] as string;
    const ok = i < nParts.length - 1 ? /^x\d{3}$/.test(seg) : /^\d{3}$/.test(seg);
    if (!ok) return undefined;
    digits += seg.replace('x', '');
  }
  const t: TileRef = { level, n: Number(digits), width };
  return width >= 1 && width <= TILE_WIDTH && tilePath(t) === path ? t : undefined;
}

/** Go's tlog.FormatTree: the text of a tree note. */
export function formatTree(size: number, root: Buffer): string {
  return `go.sum database tree\n${size}\n${root.toString('base64')}\n`;
}

/** An Ed25519 note signer with its verifier key string `name+hash+base64(0x01‖pub)`. */
export interface NoteSigner {
  readonly name: string;
  readonly verifierKey: string;
  /** Returns the signed note: text, blank line, `— name base64(keyhash‖sig)`. */
  sign(text: string): string;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The 4-byte key hash of note.go: SHA-256(name ‖ "\n" ‖ 0x01 ‖ pub)[:4]. */
export function keyHash(name: string, pub: Buffer): Buffer {
  return createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([1]))
    .update(pub)
    .digest()
    .subarray(0, 4);
}

/** A note signer for `name` whose Ed25519 key is derived from the 32-byte `seed`. */
export function createNoteSigner(name: string, seed: Buffer): NoteSigner {
  if (seed.length !== 32) throw new Error(`ed25519 seed must be 32 bytes, got ${seed.length}`);
  const priv: KeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const pub = (createPublicKey(priv).export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32);
  const hash = keyHash(name, pub);
  const verifierKey = `${name}+${hash.toString('hex')}+${Buffer.concat([Buffer.from([1]), pub]).toString('base64')}`;
  return {
    name,
    verifierKey,
    sign(text: string): string {
      if (!text.endsWith('\n')) throw new Error('note text must end in a newline');
      const sig = sign(null, Buffer.from(text), priv);
      return `${text}\n\u2014 ${name} ${Buffer.concat([hash, sig]).toString('base64')}\n`;
    },
  };
}
