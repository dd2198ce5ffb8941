import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { hash1, hashGoMod } from '../../src/zip/h1.js';
import { referenceH1 } from './fixtures.js';

const sum = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

describe('hash1', () => {
  it('matches the dirhash definition (Go TestHash1 vector)', () => {
    const got = hash1([
      { name: 'xyz', sha256: sum('data for xyz') },
      { name: 'abc', sha256: sum('data for abc') },
    ]);
    const summary = `${sum('data for abc').toString('hex')}  abc\n${sum('data for xyz').toString('hex')}  xyz\n`;
    expect(got).toBe('h1:' + createHash('sha256').update(summary).digest('base64'));
    expect(got).toBe(
      referenceH1([
        ['abc', 'data for abc'],
        ['xyz', 'data for xyz'],
      ]),
    );
  });

  it('does not depend on input order', () => {
    const files = ['m@v1.0.0/b.go', 'm@v1.0.0/a/z.go', 'm@v1.0.0/a.go', 'm@v1.0.0/go.mod'].map((name) => ({
      name,
      sha256: sum(name),
    }));
    const a = hash1(files);
    const b = hash1([...files].reverse());
    const c = hash1([files[2]!, files[0]!, files[3]!, files[1]!]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    // and the content matters
    expect(hash1([{ ...files[0]!, sha256: sum('other') }, ...files.slice(1)])).not.toBe(a);
  });

  it('sorts by UTF-8 bytes like Go, not by UTF-16 code units', () => {
    // U+FF21 (fullwidth A) is EF BC A1 in UTF-8; U+1F600 is F0 9F 98 80.
    // Byte order puts U+FF21 first; JS string order puts the emoji first.
    const fw = 'm@v1/\uFF21';
    const emoji = 'm@v1/\u{1F600}';
    const got = hash1([
      { name: emoji, sha256: sum('e') },
      { name: fw, sha256: sum('f') },
    ]);
    const summary = `${sum('f').toString('hex')}  ${fw}\n${sum('e').toString('hex')}  ${emoji}\n`;
    expect(got).toBe('h1:' + createHash('sha256').update(summary, 'utf8').digest('base64'));
  });

  it('of the empty set is the hash of the empty summary', () => {
    expect(hash1([])).toBe('h1:' + createHash('sha256').digest('base64'));
  });

  it('rejects a name with a newline (MALFORMED)', () => {
    let caught: unknown;
    try {
      hash1([
        { name: 'xyz', sha256: sum('') },
        { name: 'a\nbc', sha256: sum('') },
      ]);
    } catch (e) {
      caught = e;
    }
    expect(isGomirrorError(caught, ErrorCodes.MALFORMED)).toBe(true);
  });

  it('rejects a digest that is not 32 bytes', () => {
    expect(() => hash1([{ name: 'a', sha256: Buffer.alloc(31) }])).toThrow(
      expect.objectContaining({ code: ErrorCodes.MALFORMED, message: expect.stringMatching(/32/) }),
    );
  });
});

describe('hashGoMod', () => {
  it('matches the real checksum database record for github.com/pkg/errors v0.9.1/go.mod', () => {
    // The proxy synthesises this go.mod; go.sum everywhere records this hash.
    expect(hashGoMod(Buffer.from('module github.com/pkg/errors\n'))).toBe(
      'h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=',
    );
  });

  it('is Hash1 over a single file named go.mod', () => {
    const content = Buffer.from('module example.com/m\n\ngo 1.21\n');
    expect(hashGoMod(content)).toBe(referenceH1([['go.mod', content]]));
    expect(hashGoMod(content)).not.toBe(referenceH1([['example.com/m@v1.0.0/go.mod', content]]));
  });
});
