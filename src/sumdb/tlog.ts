/**
 * Tamper-evident log maths (RFC 6962 Merkle trees) as used by the Go checksum
 * database: record and node hashes, the dense "stored hash index" ordering,
 * tree hashes, and record (inclusion) and tree (consistency) proofs.
 *
 * Pure: no fs or network. All sizes and indexes are JavaScript numbers, so no
 * bitwise operators are used on them (they would truncate at 2^31); values
 * stay exact up to 2^53.
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, GomirrorError } from '../errors.js';

/** Size in bytes of every hash in the log. */
export const HASH_SIZE = 32;

/** Reads stored hashes by their stored hash index (see storedHashIndex). */
export interface HashReader {
  /** Returns exactly one hash per index, in the order asked, or throws. */
  readHashes(indexes: number[]): Promise<Buffer[]>;
}

/** The hash of the tree of size zero: 32 zero bytes. */
export function emptyTreeHash(): Buffer {
  return Buffer.alloc(HASH_SIZE);
}

/** SHA-256(0x00 ‖ data): the leaf hash of one log record. */
export function recordHash(data: Buffer): Buffer {
  return createHash('sha256').update(Buffer.of(0)).update(data).digest();
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** n / 2^k rounded down, exact for n < 2^53. */
export function shr(n: number, k: number): number {
  return Math.floor(n / 2 ** k);
}

/** n * 2^k. */
export function shl(n: number, k: number): number {
  return n * 2 ** k;
}

function trailingZeros(n: number): number {
  if (n === 0) return 64;
  let z = 0;
  while (n % 2 === 0) {
    n /= 2;
    z++;
  }
  return z;
}

/** k = the largest power of two smaller than n (n > 1), and l = log2 k. */
function maxpow2(n: number): { k: number; l: number } {
  let l = 0;
  while (2 ** (l + 1) < n) l++;
  return { k: 2 ** l, l };
}

function bug(what: string): never {
  throw new Error(`sumdb/tlog: internal error: ${what}`);
}

function proofError(message: string, detail?: Record<string, unknown>): GomirrorError {
  return new GomirrorError(ErrorCodes.BAD_PROOF, message, { op: 'sumdb.tlog', detail });
}

/** Maps tree coordinates (level, n) to the dense linear stored hash index. */
export function storedHashIndex(level: number, n: number): number {
  for (let l = level; l > 0; l--) n = 2 * n + 1;
  let i = 0;
  for (; n > 0; n = shr(n, 1)) i += n;
  return i + level;
}

/** Inverse of storedHashIndex. */
export function splitStoredHashIndex(index: number): { level: number; n: number } {
  let n = Math.floor(index / 2);
  let indexN = storedHashIndex(0, n);
  if (indexN > index) bug('splitStoredHashIndex');
  for (;;) {
    const x = indexN + 1 + trailingZeros(n + 1);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return { level, n: shr(n, level) };
}

/** Number of stored hashes a tree with n records has. */
export function storedHashCount(n: number): number {
  if (n === 0) return 0;
  let count = storedHashIndex(0, n - 1) + 1;
  for (let i = n - 1; i % 2 === 1; i = shr(i, 1)) count++;
  return count;
}

async function readExactly(r: HashReader, indexes: number[]): Promise<Buffer[]> {
  const hashes = await r.readHashes(indexes);
  if (hashes.length !== indexes.length) {
    throw proofError(`hash reader returned ${hashes.length} hashes for ${indexes.length} indexes`);
  }
  return hashes;
}

/** The hashes to store (from storedHashIndex(0, n) on) when appending record n with hash h. */
export async function storedHashesForRecordHash(n: number, h: Buffer, r: HashReader): Promise<Buffer[]> {
  const hashes = [h];
  const m = trailingZeros(n + 1);
  const indexes = new Array<number>(m);
  for (let i = 0; i < m; i++) indexes[m - 1 - i] = storedHashIndex(i, shr(n, i) - 1);
  const old = m === 0 ? [] : await readExactly(r, indexes);
  let cur = h;
  for (let i = 0; i < m; i++) {
    cur = nodeHash(old[m - 1 - i] as Buffer, cur);
    hashes.push(cur);
  }
  return hashes;
}

/** The hashes to store when appending record n with the given data (as tlog.StoredHashes). */
export function storedHashes(n: number, data: Buffer, reader: HashReader): Promise<Buffer[]> {
  return storedHashesForRecordHash(n, recordHash(data), reader);
}

/** Stored indexes needed to compute the hash of the subtree of records [lo, hi). */
export function subTreeIndex(lo: number, hi: number, need: number[] = []): number[] {
  while (lo < hi) {
    const { k, l } = maxpow2(hi - lo + 1);
    if (lo % k !== 0) bug('subTreeIndex');
    need.push(storedHashIndex(l, shr(lo, l)));
    lo += k;
  }
  return need;
}

/** Hash of subtree [lo, hi) from hashes listed by subTreeIndex; returns the leftover hashes. */
function subTreeHash(lo: number, hi: number, hashes: Buffer[]): [Buffer, Buffer[]] {
  let numTree = 0;
  while (lo < hi) {
    const { k } = maxpow2(hi - lo + 1);
    if (lo % k !== 0) bug('subTreeHash');
    numTree++;
    lo += k;
  }
  if (numTree === 0 || hashes.length < numTree) bug('subTreeHash count');
  let h = hashes[numTree - 1] as Buffer;
  for (let i = numTree - 2; i >= 0; i--) h = nodeHash(hashes[i] as Buffer, h);
  return [h, hashes.slice(numTree)];
}

/** Root hash of the tree with n records (all zeros for n = 0), with one readHashes call. */
export async function treeHash(n: number, r: HashReader): Promise<Buffer> {
  if (n === 0) return emptyTreeHash();
  const indexes = subTreeIndex(0, n);
  const hashes = await readExactly(r, indexes);
  const [h, rest] = subTreeHash(0, n, hashes);
  if (rest.length !== 0) bug('treeHash');
  return h;
}

function leafProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (!(lo <= n && n < hi)) bug('leafProofIndex');
  if (lo + 1 === hi) return need;
  const { k } = maxpow2(hi - lo);
  if (n < lo + k) {
    leafProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    leafProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function leafProof(lo: number, hi: number, n: number, hashes: Buffer[]): [Buffer[], Buffer[]] {
  if (!(lo <= n && n < hi)) bug('leafProof');
  if (lo + 1 === hi) return [[], hashes];
  let p: Buffer[];
  let th: Buffer;
  const { k } = maxpow2(hi - lo);
  if (n < lo + k) {
    [p, hashes] = leafProof(lo, lo + k, n, hashes);
    [th, hashes] = subTreeHash(lo + k, hi, hashes);
  } else {
    [th, hashes] = subTreeHash(lo, lo + k, hashes);
    [p, hashes] = leafProof(lo + k, hi, n, hashes);
  }
  p.push(th);
  return [p, hashes];
}

function checkSizes(what: string, ok: boolean, t: number, n: number): void {
  if (!ok || !Number.isSafeInteger(t) || !Number.isSafeInteger(n)) {
    throw proofError(`invalid inputs to ${what}: tree size ${t}, index ${n}`, { t, n });
  }
}

/** The inclusion proof that the tree of size t contains record n. */
export async function proveRecord(t: number, n: number, r: HashReader): Promise<Buffer[]> {
  checkSizes('proveRecord', t >= 0 && n >= 0 && n < t, t, n);
  const indexes = leafProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readExactly(r, indexes);
  const [p, rest] = leafProof(0, t, n, hashes);
  if (rest.length !== 0) bug('proveRecord');
  return p;
}

function runRecordProof(p: Buffer[], lo: number, hi: number, n: number, leaf: Buffer): Buffer | undefined {
  if (lo + 1 === hi) return p.length === 0 ? leaf : undefined;
  if (p.length === 0) return undefined;
  const last = p[p.length - 1] as Buffer;
  const rest = p.slice(0, -1);
  const { k } = maxpow2(hi - lo);
  if (n < lo + k) {
    const th = runRecordProof(rest, lo, lo + k, n, leaf);
    return th && nodeHash(th, last);
  }
  const th = runRecordProof(rest, lo + k, hi, n, leaf);
  return th && nodeHash(last, th);
}

/** Checks that proof shows the tree of size t with hash th has record n with hash h; throws BAD_PROOF. */
export function checkRecord(proof: Buffer[], t: number, th: Buffer, n: number, h: Buffer): void {
  checkSizes('checkRecord', t >= 0 && n >= 0 && n < t, t, n);
  const got = runRecordProof(proof, 0, t, n, h);
  if (got === undefined || !got.equals(th)) {
    throw proofError(`record ${n} is not proven included in tree of size ${t}`, { t, n });
  }
}

function treeProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (!(lo < n && n <= hi)) bug('treeProofIndex');
  if (n === hi) return lo === 0 ? need : subTreeIndex(lo, hi, need);
  const { k } = maxpow2(hi - lo);
  if (n <= lo + k) {
    treeProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    treeProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function treeProof(lo: number, hi: number, n: number, hashes: Buffer[]): [Buffer[], Buffer[]] {
  if (!(lo < n && n <= hi)) bug('treeProof');
  if (n === hi) {
    if (lo === 0) return [[], hashes];
    const [th, rest] = subTreeHash(lo, hi, hashes);
    return [[th], rest];
  }
  let p: Buffer[];
  let th: Buffer;
  const { k } = maxpow2(hi - lo);
  if (n <= lo + k) {
    [p, hashes] = treeProof(lo, lo + k, n, hashes);
    [th, hashes] = subTreeHash(lo + k, hi, hashes);
  } else {
    [th, hashes] = subTreeHash(lo, lo + k, hashes);
    [p, hashes] = treeProof(lo + k, hi, n, hashes);
  }
  p.push(th);
  return [p, hashes];
}

/** The consistency proof that the tree of size t extends the tree of size n. */
export async function proveTree(t: number, n: number, r: HashReader): Promise<Buffer[]> {
  checkSizes('proveTree', t >= 1 && n >= 1 && n <= t, t, n);
  const indexes = treeProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readExactly(r, indexes);
  const [p, rest] = treeProof(0, t, n, hashes);
  if (rest.length !== 0) bug('proveTree');
  return p;
}

/** Runs a consistency proof, returning the implied [old hash, new hash] of [lo, hi). */
function runTreeProof(p: Buffer[], lo: number, hi: number, n: number, old: Buffer): [Buffer, Buffer] | undefined {
  if (n === hi) {
    if (lo === 0) return p.length === 0 ? [old, old] : undefined;
    return p.length === 1 ? [p[0] as Buffer, p[0] as Buffer] : undefined;
  }
  if (p.length === 0) return undefined;
  const last = p[p.length - 1] as Buffer;
  const rest = p.slice(0, -1);
  const { k } = maxpow2(hi - lo);
  if (n <= lo + k) {
    const r = runTreeProof(rest, lo, lo + k, n, old);
    return r && [r[0], nodeHash(r[1], last)];
  }
  const r = runTreeProof(rest, lo + k, hi, n, old);
  return r && [nodeHash(last, r[0]), nodeHash(last, r[1])];
}

/**
 * Checks that proof shows the tree of size t with hash th contains as a prefix
 * the tree of size n with hash h. Throws LOG_FORK when the proof is valid for
 * the new tree but implies a different old hash (or equal sizes, different
 * hashes), BAD_PROOF otherwise (which may also hide a fork the proof cannot
 * tell apart from a bad proof).
 */
export function checkTree(proof: Buffer[], t: number, th: Buffer, n: number, h: Buffer): void {
  checkSizes('checkTree', t >= 1 && n >= 1 && n <= t, t, n);
  if (n === t && proof.length === 0 && !h.equals(th)) throw forkError(t, n, h, th);
  const got = runTreeProof(proof, 0, t, n, h);
  if (got === undefined || !got[1].equals(th)) {
    throw proofError(`tree of size ${t} is not proven to extend tree of size ${n}`, { t, n });
  }
  if (!got[0].equals(h)) throw forkError(t, n, h, got[0]);
}

function forkError(t: number, n: number, expected: Buffer, proven: Buffer): GomirrorError {
  return new GomirrorError(
    ErrorCodes.LOG_FORK,
    `tree of size ${t} does not contain the tree of size ${n}: the log forked`,
    { op: 'sumdb.tlog', detail: { t, n, expected: expected.toString('base64'), proven: proven.toString('base64') } },
  );
}
