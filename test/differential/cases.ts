/**
 * Inputs of the differential test: a table (every string literal of x/mod's
 * own module and semver tests, plus ours) and seeded random mutations of it.
 * Deterministic for a given seed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMOD_DIR } from './oracle.js';

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hand-picked cases: the issue 17 disagreements and the edges around them. */
export const TABLE: readonly string[] = [
  'x.y/z',
  'x.y/z++',
  'x.y/z+',
  'x.y/a+b',
  'x.y/z~0',
  'x.y/z~',
  'x.y/z~a',
  'x.y/z~1a',
  'example.com/CON~1',
  'x.y/PROGRA~1.d',
  'x..y/z.go',
  'go...mod',
  'x.y/a..b',
  'a/b..c/d',
  'z~0/CON~1.go',
  '..',
  '.',
  '../x',
  'a/../b',
  '/abs',
  'a//b',
  'a/',
  '-x.y/z',
  'rsc.io/',
  'corp.example.com/',
  'rsc.io//',
  '/',
  'rsc.io/quote',
  'rsc.io/quote/v3',
  'gopkg.in/yaml.v2',
  'gopkg.in/yaml.v1-unstable',
  'github.com/Azure/azure-sdk-for-go',
  'github.com/!azure/go',
  'x.y/z/v2',
  'x.y/z/v1',
  'x.y/z/v02',
  'x.y/z/v2.0',
  'v1.0.0',
  'v1.0',
  'v1',
  'v1.0.0+meta',
  'v1.0.0+incompatible',
  'v2.0.0+incompatible',
  'v1.0.0-rc.1',
  'v1.0.0-01',
  'v1..0',
  'v1 .0.0',
  'v0.0.0-20191109021931-daa7c04131f5',
  'v1.2.4-0.20191109021931-daa7c04131f5',
  'v2.0.0-20191109021931-daa7c04131f5+incompatible',
  `v1.0.0-${'a'.repeat(300)}`,
  `x.y/${'a'.repeat(300)}`,
  'héllo/日本.go',
  'a b/c (1).go',
  "it's",
  'a:b',
  'a\\b',
  'nul.txt',
  'Com1.go',
  '*.corp.example.com,rsc.io/private',
  '*/quote',
  'example.com/[a-c]*',
  'example.com/\\*',
  'example.com/[',
  '[]',
  '[^]',
  'a\\',
];

/** Every double-quoted string literal of x/mod's module and semver tests that JSON can also read. */
export function xmodTestStrings(): string[] {
  const out = new Set<string>();
  for (const file of ['module/module_test.go', 'semver/semver_test.go', 'zip/zip_test.go']) {
    let text: string;
    try {
      text = readFileSync(path.join(XMOD_DIR, file), 'utf8');
    } catch {
      continue; // a Debian build without this test file: the rest of the table still runs
    }
    for (const m of text.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)) {
      try {
        const s = JSON.parse(`"${m[1] ?? ''}"`) as unknown;
        if (typeof s === 'string' && s.length <= 400 && !hasLoneSurrogate(s)) out.add(s);
      } catch {
        // a Go-only escape such as \x: skip
      }
    }
  }
  return [...out];
}

function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Pieces inserted by mutations: the characters and fragments the rules treat specially. */
const TOKENS = [
  'a',
  'Z',
  'q',
  '0',
  '1',
  '9',
  '.',
  '..',
  '/',
  '//',
  '-',
  '_',
  '~',
  '~1',
  '+',
  '!',
  '@',
  ' ',
  '\\',
  ':',
  '*',
  '?',
  '[',
  ']',
  '^',
  ',',
  'é',
  '\u212a',
  '\u017f',
  'ß',
  '日',
  '\u0000',
  '\t',
  'v',
  'v2',
  '/v2',
  '.v1',
  '-unstable',
  '+incompatible',
  '-pre.0',
  '.0',
  '-0.20191109021931-daa7c04131f5',
  'CON',
  'com1',
  'go.mod',
  'gopkg.in/',
  'example.com/',
  '.git',
];

/** One random edit of s: insert a token, delete or duplicate a span, or splice another corpus string in. */
export function mutate(s: string, corpus: readonly string[], rand: () => number): string {
  const chars = [...s];
  const at = Math.floor(rand() * (chars.length + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  switch (Math.floor(rand() * 5)) {
    case 0:
      chars.splice(at, 0, pick(TOKENS));
      break;
    case 1:
      chars.splice(at, 1 + Math.floor(rand() * 3));
      break;
    case 2:
      chars.splice(at, 1, pick(TOKENS));
      break;
    case 3:
      chars.splice(at, 0, ...chars.slice(at, at + 1 + Math.floor(rand() * 4)));
      break;
    default:
      return `${s}${pick(['/', '', '.', '-', '+', ','])}${pick(corpus)}`;
  }
  return chars.join('');
}

/** The table, x/mod's test strings, and `n` seeded mutations (up to three edits each) of them. */
export function generateStrings(seed: number, n: number): string[] {
  const base = [...new Set([...TABLE, ...xmodTestStrings()])];
  const rand = prng(seed);
  const out = [...base];
  for (let i = 0; i < n; i++) {
    let s = base[Math.floor(rand() * base.length)] ?? '';
    const edits = 1 + Math.floor(rand() * 3);
    for (let j = 0; j < edits; j++) s = mutate(s, base, rand);
    out.push(s);
  }
  return out;
}
