/**
 * A strict JSON reader for small hostile documents (an upstream's .info):
 * exactly RFC 8259, with a nesting limit, and objects whose member names are
 * printable ASCII and unique ignoring ASCII case (Go's encoding/json matches
 * names case-insensitively, folding some non-ASCII letters too, and lets a
 * later duplicate win: such documents would mean one thing to gomirror and
 * another to the go command). Pure.
 */

/** A JSON value; objects have no prototype, so no member name is special. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [name: string]: JsonValue;
}

/** Why a document was refused (the caller wraps it in its own error). */
export class StrictJsonError extends Error {}

const NAME = /^[\x20-\x7e]*$/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Parses text as one JSON value under the rules above; throws StrictJsonError naming the first problem. */
export function parseStrictJson(text: string, maxDepth: number): JsonValue {
  const r = new Reader(text, maxDepth);
  const v = r.value(0);
  r.ws();
  if (r.pos !== text.length) r.fail('text after the JSON value');
  return v;
}

class Reader {
  pos = 0;
  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  fail(why: string): never {
    throw new StrictJsonError(`${why} at offset ${this.pos}`);
  }

  ws(): void {
    while (this.pos < this.s.length && ' \t\n\r'.includes(this.s[this.pos] as string)) this.pos++;
  }

  value(depth: number): JsonValue {
    this.ws();
    const c = this.s[this.pos];
    if (c === '{' || c === '[') {
      if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (m === null || m[0] === '') this.fail(c === undefined ? 'unexpected end' : 'unexpected character');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private object(depth: number): JsonObject {
    const out = Object.create(null) as JsonObject;
    const folded = new Set<string>();
    this.pos++;
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail('expected a member name');
      const name = this.string();
      if (!NAME.test(name)) this.fail(`member name ${JSON.stringify(name)} is not printable ASCII`);
      const key = name.toLowerCase();
      if (folded.has(key)) this.fail(`member name ${JSON.stringify(name)} appears twice (ignoring case)`);
      folded.add(key);
      this.ws();
      if (this.s[this.pos++] !== ':') this.fail('expected ":"');
      out[name] = this.value(depth);
      this.ws();
      const c = this.s[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++;
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.ws();
      const c = this.s[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    let out = '';
    this.pos++;
    for (;;) {
      const c = this.s[this.pos++];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') return out;
      if (c < ' ') this.fail('control character in a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.pos++] ?? '';
      if (e === 'u') {
        const hex = this.s.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else {
        const v = ESCAPES[e];
        if (v === undefined) this.fail('bad escape');
        out += v;
      }
    }
  }
}
