/**
 * Small self-contained Go-module primitives for the fake upstream: a seeded
 * PRNG, module path/version case-escaping, dirhash h1, semver ordering and
 * nanosecond RFC 3339 times. Deliberately independent of src/ so the fixture
 * is an independent ground truth.
 */
import { createCipheriv, createHash } from 'node:crypto';

/** A deterministic pseudo-random generator (mulberry32) seeded by a number. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** Next float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `n` lower-case hex digits. */
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.int(16).toString(16);
    return s;
  }
}

/** `size` deterministic incompressible bytes derived from `label` (AES-CTR keystream). */
export function randomBytesFrom(label: string, size: number): Buffer {
  const key = createHash('sha256').update(label).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** Go's module.EscapePath / EscapeVersion: each upper-case letter becomes `!` + lower case. */
export function escapeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** Inverse of escapeCase; undefined when `s` is not a valid escaped string. */
export function unescapeCase(s: string): string | undefined {
  if (/[A-Z]/.test(s)) return undefined;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '!') {
      out += c;
      continue;
    }
    const next = s[i + 1];
    if (next === undefined || !/[a-z]/.test(next)) return undefined;
    out += next.toUpperCase();
    i++;
  }
  return out;
}

/** Go's dirhash.Hash1 over named file contents (names sorted bytewise). */
export function hash1(files: ReadonlyArray<{ name: string; data: Buffer }>): string {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const summary = createHash('sha256');
  for (const f of sorted) {
    if (f.name.includes('\n')) throw new Error(`hash1: file name with newline: ${JSON.stringify(f.name)}`);
    const h = createHash('sha256').update(f.data).digest('hex');
    summary.update(`${h}  ${f.name}\n`);
  }
  return `h1:${summary.digest('base64')}`;
}

/** The go.sum hash of a go.mod file: Hash1 over the single file "go.mod". */
export function modHash1(mod: Buffer): string {
  return hash1([{ name: 'go.mod', data: mod }]);
}

interface Semver {
  nums: [number, number, number];
  pre: string[];
}

function parseSemver(v: string): Semver | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+incompatible)?$/.exec(v);
  if (!m) return undefined;
  return { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

function comparePre(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return b.length - a.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Semver ordering of two Go versions (negative, zero, positive); invalid sorts first. */
export function compareVersions(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] as number) - (y.nums[i] as number);
    if (d !== 0) return d;
  }
  return comparePre(x.pre, y.pre);
}

/** True for Go pseudo-versions (vX.Y.Z-[pre.|0.]yyyymmddhhmmss-abcdefabcdef). */
export function isPseudoVersion(v: string): boolean {
  return /^v\d+\.\d+\.\d+-(?:[0-9A-Za-z.-]*\.)?\d{14}-[0-9a-f]{12}(?:\+incompatible)?$/.test(v);
}

/** True for pre-release versions (anything with a `-` part, pseudo-versions included). */
export function isPrerelease(v: string): boolean {
  const s = parseSemver(v);
  return s !== undefined && s.pre.length > 0;
}

/** Nanoseconds since the Unix epoch. */
export type Nanos = bigint;

const NS_PER_SEC = 1_000_000_000n;

/** Go's time.RFC3339Nano formatting in UTC (fraction with trailing zeros trimmed). */
export function formatRfc3339Nano(ns: Nanos): string {
  const sec = ns / NS_PER_SEC;
  const frac = ns % NS_PER_SEC;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  if (frac === 0n) return `${base}Z`;
  return `${base}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** Whole-second RFC 3339 UTC time. */
export function formatRfc3339Seconds(ns: Nanos): string {
  return formatRfc3339Nano(ns - (ns % NS_PER_SEC));
}

/** Parses RFC 3339 with any fraction length and a Z or ±hh:mm offset; undefined when invalid. */
export function parseRfc3339(s: string): Nanos | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(
    s,
  );
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return undefined;
  let ns = BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  if (!m[8]) {
    const off = (Number(m[10]) * 60 + Number(m[11])) * 60;
    ns -= BigInt(m[9] === '-' ? -off : off) * NS_PER_SEC;
  }
  return ns;
}

/** The yyyymmddhhmmss stamp Go puts in pseudo-versions, for the given time. */
export function pseudoStamp(ns: Nanos): string {
  return formatRfc3339Seconds(ns).replace(/[-:TZ]/g, '');
}

/** Parses a pseudo-version's 14-digit stamp into an RFC 3339 time. */
export function pseudoTime(version: string): string | undefined {
  const m = /(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-[0-9a-f]{12}(?:\+incompatible)?$/.exec(version);
  if (!m) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}
