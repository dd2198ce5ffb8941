import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { parseGoModModule, parseGoModRequires, parseGoSum } from '../../src/sync/targets.js';
import { errorOf } from '../helpers/errors.js';

const H = (c: string): string => `h1:${c.repeat(43)}=`;
const HA = H('A');
const HB = H('b');
const HC = H('0');

describe('parseGoSum', () => {
  it('merges the zip and /go.mod lines of one version', () => {
    const text = [`golang.org/x/text v0.3.0 ${HA}`, `golang.org/x/text v0.3.0/go.mod ${HB}`, ''].join('\n');
    expect(parseGoSum(text)).toEqual([
      { module: 'golang.org/x/text', version: 'v0.3.0', withZip: true, expect: { zipHash: HA, modHash: HB } },
    ]);
  });

  it('merges regardless of line order', () => {
    const text = `rsc.io/quote v1.5.2/go.mod ${HB}\nrsc.io/quote v1.5.2 ${HA}\n`;
    expect(parseGoSum(text)).toEqual([
      { module: 'rsc.io/quote', version: 'v1.5.2', withZip: true, expect: { modHash: HB, zipHash: HA } },
    ]);
  });

  it('a /go.mod-only line yields withZip false', () => {
    const text = `rsc.io/sampler v1.3.0/go.mod ${HC}\nrsc.io/quote v1.5.2 ${HA}\nrsc.io/quote v1.5.2/go.mod ${HB}\n`;
    const got = parseGoSum(text);
    expect(got).toHaveLength(2);
    expect(got[0]).toEqual({ module: 'rsc.io/sampler', version: 'v1.3.0', withZip: false, expect: { modHash: HC } });
    expect(got[1]).toMatchObject({ module: 'rsc.io/quote', version: 'v1.5.2', withZip: true });
  });

  it('keeps versions and modules apart, skips blank lines, tolerates CRLF and extra spaces', () => {
    const text = `\r\na.example/m v1.0.0 ${HA}\r\n\n  a.example/m   v1.1.0   ${HB}  \r\nb.example/m v1.0.0 ${HC}`;
    expect(parseGoSum(text).map((t) => `${t.module}@${t.version}`)).toEqual([
      'a.example/m@v1.0.0',
      'a.example/m@v1.1.0',
      'b.example/m@v1.0.0',
    ]);
  });

  it('returns nothing for empty input', () => {
    expect(parseGoSum('')).toEqual([]);
    expect(parseGoSum('\n\n  \n')).toEqual([]);
  });

  it('names file:line for a line with the wrong number of fields', () => {
    const text = `a.example/m v1.0.0 ${HA}\n\na.example/m v1.1.0\n`;
    const err = errorOf(() => parseGoSum(text, 'proj/go.sum'));
    expect(err.code).toBe(ErrorCodes.MALFORMED);
    expect(err.message).toMatch(/^proj\/go\.sum:3: expected "MODULE VERSION\[\/go\.mod\] h1:HASH"/);
    expect(err.detail).toEqual({ file: 'proj/go.sum', line: 3 });
    expect(errorOf(() => parseGoSum(`a.example/m v1.0.0 ${HA} extra`)).message).toMatch(/^go\.sum:1: /);
  });

  it('rejects hashes that are not h1', () => {
    for (const bad of [
      'h2:' + 'A'.repeat(43) + '=',
      'h1:' + 'A'.repeat(42) + '=',
      'h1:' + 'A'.repeat(44),
      'h1:' + '!'.repeat(43) + '=',
      'deadbeef',
    ]) {
      const err = errorOf(() => parseGoSum(`ok.example/m v1.0.0 ${HA}\nx.example/m v1.0.0 ${bad}\n`, 'go.sum'));
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.message).toContain('go.sum:2: not an h1: hash');
      expect(err.message).toContain(bad);
    }
  });
});

describe('parseGoModRequires', () => {
  it('reads single-line requires', () => {
    const text =
      'module example.com/app\n\ngo 1.21\n\nrequire rsc.io/quote v1.5.2\nrequire golang.org/x/text v0.3.0 // ' +
      'indirect\n';
    expect(parseGoModRequires(text)).toEqual([
      { module: 'rsc.io/quote', version: 'v1.5.2' },
      { module: 'golang.org/x/text', version: 'v0.3.0' },
    ]);
  });

  it('reads blocks with comments, // indirect and blank lines', () => {
    const text = [
      'module example.com/app',
      'require (',
      '\t// direct deps',
      '\trsc.io/quote v1.5.2',
      '',
      '\tgolang.org/x/text v0.3.0 // indirect',
      ')',
      'require (',
      '\trsc.io/sampler v1.3.0',
      ') // trailing comment',
      'replace rsc.io/quote => ../quote',
      'exclude rsc.io/quote v1.5.1',
      'retract v1.0.0',
    ].join('\n');
    expect(parseGoModRequires(text)).toEqual([
      { module: 'rsc.io/quote', version: 'v1.5.2' },
      { module: 'golang.org/x/text', version: 'v0.3.0' },
      { module: 'rsc.io/sampler', version: 'v1.3.0' },
    ]);
  });

  it('unquotes quoted and back-quoted paths and versions', () => {
    const text = 'require "example.com/quoted" v1.0.0\nrequire (\n\t`example.com/raw` "v2.0.0+incompatible"\n)\n';
    expect(parseGoModRequires(text)).toEqual([
      { module: 'example.com/quoted', version: 'v1.0.0' },
      { module: 'example.com/raw', version: 'v2.0.0+incompatible' },
    ]);
  });

  it('ignores other directives and words that merely start with require', () => {
    expect(parseGoModRequires('module m\nrequires x v1\ntoolchain go1.22.0\n')).toEqual([]);
  });

  it('names file:line for a malformed require', () => {
    const err = errorOf(() => parseGoModRequires('module m\n\nrequire (\n\trsc.io/quote\n)\n', 'app/go.mod'));
    expect(err.code).toBe(ErrorCodes.MALFORMED);
    expect(err.message).toMatch(/^app\/go\.mod:4: malformed require/);
    expect(err.detail).toEqual({ file: 'app/go.mod', line: 4 });
    expect(errorOf(() => parseGoModRequires('require a.example/m v1.0.0 extra')).message).toMatch(
      /^go\.mod:1: malformed require/,
    );
    expect(errorOf(() => parseGoModRequires('require')).message).toMatch(/^go\.mod:1: malformed require/);
  });

  it('rejects an unterminated block', () => {
    const err = errorOf(() => parseGoModRequires('module m\nrequire (\n\trsc.io/quote v1.5.2\n', 'x/go.mod'));
    expect(err.code).toBe(ErrorCodes.MALFORMED);
    expect(err.message).toContain('x/go.mod');
    expect(err.message).toContain('unterminated require block');
  });
});

describe('parseGoModModule', () => {
  it('returns the declared module path', () => {
    expect(parseGoModModule('// a comment\nmodule example.com/app // the app\n\ngo 1.21\n')).toBe('example.com/app');
    expect(parseGoModModule('module "example.com/quoted"\n')).toBe('example.com/quoted');
    expect(parseGoModModule('  module   example.com/indented\r\n')).toBe('example.com/indented');
  });

  it('returns undefined without a module directive', () => {
    expect(parseGoModModule('go 1.21\nrequire rsc.io/quote v1.5.2\n')).toBeUndefined();
    expect(parseGoModModule('')).toBeUndefined();
    expect(parseGoModModule('// module example.com/commented\n')).toBeUndefined();
  });
});
