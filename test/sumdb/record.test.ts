import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { formatDataTile, parseLookup, parseRecord, splitDataTile } from '../../src/sumdb/record.js';
import { recordText } from './fakelog.js';

const M = 'golang.org/x/text';
const V = 'v0.3.0';
const rec = recordText(M, V);
const note = Buffer.from('go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— x abc\n');
const body = (id: string, r: Buffer = rec, n: Buffer = note): Buffer =>
  Buffer.concat([Buffer.from(`${id}\n`), r, Buffer.from('\n'), n]);
const code = (c: string) => expect.objectContaining({ code: c });

describe('parseRecord', () => {
  it('parses the two go.sum lines', () => {
    const r = parseRecord(rec);
    expect(r.module).toBe(M);
    expect(r.version).toBe(V);
    expect(r.zipHash).toMatch(/^h1:/);
    expect(r.modHash).toMatch(/^h1:/);
    expect(r.zipHash).not.toBe(r.modHash);
  });

  it('accepts a go.mod-only record', () => {
    const only = Buffer.from(rec.toString().split('\n')[1] + '\n');
    expect(parseRecord(only)).toEqual({ module: M, version: V, modHash: expect.stringMatching(/^h1:/) });
  });

  it.each([
    ['mixed modules', Buffer.from(rec.toString().replace(`${M} ${V}/go.mod`, `${M}x ${V}/go.mod`))],
    ['repeated hash', Buffer.from(rec.toString().split('\n')[0] + '\n' + rec.toString().split('\n')[0] + '\n')],
    ['no final newline', rec.subarray(0, -1)],
    ['extra field', Buffer.from(rec.toString().replace(' h1:', ' x h1:'))],
    ['not h1', Buffer.from(rec.toString().replace(' h1:', ' h2:'))],
    ['empty line', Buffer.concat([rec, Buffer.from('\n')])],
    ['control character', Buffer.from(rec.toString().replace(' ', '\t'))],
    ['empty', Buffer.alloc(0)],
  ])('rejects %s', (_, text) => {
    expect(() => parseRecord(text)).toThrow(code(ErrorCodes.MALFORMED));
  });
});

describe('parseLookup', () => {
  it('splits id, record and note', () => {
    const r = parseLookup(body('12345'), M, V);
    expect(r.id).toBe(12345);
    expect(r.recordText.equals(rec)).toBe(true);
    expect(r.note.equals(note)).toBe(true);
    expect(r.zipHash).toBe(parseRecord(rec).zipHash);
  });

  it('rejects a record for a different module or version', () => {
    expect(() => parseLookup(body('1'), 'golang.org/x/tools', V)).toThrow(code(ErrorCodes.BAD_PROOF));
    expect(() => parseLookup(body('1'), M, 'v0.3.1')).toThrow(code(ErrorCodes.BAD_PROOF));
    try {
      parseLookup(body('1'), 'golang.org/x/tools', V);
    } catch (err) {
      expect((err as Error).message).toContain('golang.org/x/tools@v0.3.0');
    }
  });

  it.each([
    ['no id', Buffer.from('no newline at all')],
    ['hex id', body('0x12')],
    ['signed id', body('+12')],
    ['leading zero id', body('012')],
    ['huge id', body('99999999999999999999')],
    ['no blank line', Buffer.concat([Buffer.from('1\n'), rec])],
    ['no note', body('1', rec, Buffer.alloc(0))],
    ['go.mod line only', body('1', Buffer.from(rec.toString().split('\n')[1] + '\n'))],
    ['oversized', body('1', rec, Buffer.alloc(40 * 1024, 0x61))],
  ])('rejects a malformed lookup: %s', (_, b) => {
    expect(() => parseLookup(b, M, V)).toThrow(code(ErrorCodes.MALFORMED));
  });
});

describe('data tiles', () => {
  const recs = [
    recordText('a.example/x', 'v1.0.0'),
    recordText('b.example/y', 'v0.1.0'),
    recordText('c.example/z', 'v2.0.0+incompatible'),
  ];

  it('round-trips records separated by blank lines', () => {
    const tile = formatDataTile(recs);
    const got = splitDataTile(tile);
    expect(got).toHaveLength(3);
    got.forEach((g, i) => expect(g.equals(recs[i] as Buffer)).toBe(true));
  });

  it('drops id lines of the reference server framing', () => {
    const tile = Buffer.concat(recs.map((r, i) => Buffer.concat([Buffer.from(`${100 + i}\n`), r, Buffer.from('\n')])));
    const got = splitDataTile(tile);
    got.forEach((g, i) => expect(g.equals(recs[i] as Buffer)).toBe(true));
  });

  it('rejects truncated tiles and empty records', () => {
    expect(() => splitDataTile(formatDataTile(recs).subarray(0, -1))).toThrow(code(ErrorCodes.MALFORMED));
    expect(() => splitDataTile(Buffer.from('\n\n'))).toThrow(code(ErrorCodes.MALFORMED));
    expect(() => splitDataTile(Buffer.from('12\n\n'))).toThrow(code(ErrorCodes.MALFORMED));
    expect(splitDataTile(Buffer.alloc(0))).toEqual([]);
  });
});
