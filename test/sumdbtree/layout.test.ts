import * as nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { codeOf } from '../helpers/errors.js';
import { formatLookup, lookupFile, sumdbDir, tileFile } from '../../src/sumdbtree/layout.js';

const root = '/srv/mirror';
const NAME = 'sum.golang.org';

describe('sumdbDir', () => {
  it('is <root>/sumdb/<name>', () => {
    expect(sumdbDir(root, NAME)).toBe('/srv/mirror/sumdb/sum.golang.org');
    expect(sumdbDir('/srv/mirror/', 'localhost:8080')).toBe('/srv/mirror/sumdb/localhost:8080');
  });

  it('refuses names that leave the tree', () => {
    expect(codeOf(() => sumdbDir(root, '../..'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => sumdbDir(root, '../../../etc'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => sumdbDir(root, '..'))).toBe(ErrorCodes.INVALID_PATH);
  });
});

describe('lookupFile', () => {
  it('escapes module path and version', () => {
    expect(lookupFile(root, NAME, 'golang.org/x/text', 'v0.3.0')).toBe(
      '/srv/mirror/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.3.0',
    );
    expect(lookupFile(root, NAME, 'github.com/Azure/azure-sdk-for-go', 'v1.0.0-RC1')).toBe(
      '/srv/mirror/sumdb/sum.golang.org/lookup/github.com/!azure/azure-sdk-for-go@v1.0.0-!r!c1',
    );
  });

  it('refuses invalid module paths and versions (no traversal)', () => {
    expect(codeOf(() => lookupFile(root, NAME, '../../etc/passwd', 'v1.0.0'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => lookupFile(root, NAME, 'example.com/../../x', 'v1.0.0'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => lookupFile(root, NAME, '/abs/path', 'v1.0.0'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => lookupFile(root, NAME, 'example.com/m', 'v1.0.0/../../../x'))).toBe(ErrorCodes.INVALID_VERSION);
    expect(codeOf(() => lookupFile(root, NAME, 'example.com/m', '..'))).toBe(ErrorCodes.INVALID_VERSION);
  });
});

describe('tileFile', () => {
  it('maps hash tile paths under the sumdb directory', () => {
    for (const t of ['tile/8/0/000', 'tile/8/1/000.p/17', 'tile/8/0/x001/x234/567', 'tile/8/2/x001/234.p/255']) {
      expect(tileFile(root, NAME, t)).toBe(nodePath.join('/srv/mirror/sumdb/sum.golang.org', t));
    }
  });

  it('refuses anything that is not a hash tile path', () => {
    for (const bad of [
      '',
      'latest',
      'lookup/example.com/m@v1.0.0',
      'tile/8/data/000', // data tiles are not published
      '/tile/8/0/000',
      'tile/8/0/000/',
      'tile/8/0/00',
      'tile/8/0/0000',
      'tile/8/0/x1/000',
      'tile/8/0/000.p/',
      'tile/8/0/000.p/5/x',
      'tile/8/0/../../../../etc/passwd',
      'tile/8/0/000/../../../../../x',
      '../../tile/8/0/000',
      'tile\\8\\0\\000',
    ]) {
      expect(() => tileFile(root, NAME, bad), bad).toThrow(
        expect.objectContaining({ code: ErrorCodes.MALFORMED, message: expect.stringMatching(/not a hash tile path/) }),
      );
    }
  });
});

describe('formatLookup', () => {
  it('is "<id>\\n<record>\\n<note>", byte for byte', () => {
    const record = 'golang.org/x/text v0.3.0 h1:aaa=\ngolang.org/x/text v0.3.0/go.mod h1:bbb=\n';
    const note = Buffer.from('go.sum database tree\n123\nhash=\n\n— sum.golang.org sig\n');
    const got = formatLookup(42, record, note);
    expect(got.toString('utf8')).toBe(`42\n${record}\n${note.toString('utf8')}`);
    // the record ends with a newline, so the note follows a blank line, as sum.golang.org serves it
    expect(got.toString('utf8')).toContain('go.mod h1:bbb=\n\ngo.sum database tree\n');
  });

  it('keeps non-UTF-8 note bytes intact', () => {
    const note = Buffer.from([0xff, 0x00, 0x80, 0x0a]);
    const got = formatLookup(0, 'r\n', note);
    expect(got.equals(Buffer.concat([Buffer.from('0\nr\n\n'), note]))).toBe(true);
  });
});
