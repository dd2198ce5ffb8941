import { describe, expect, it } from 'vitest';
import { checkFilePath, classifyEntryName, createCollisionChecker, foldName } from '../../src/zip/names.js';

describe('checkFilePath', () => {
  it.each([
    'a.go',
    'dir/sub/file.txt',
    '.gitignore',
    'a b/c (1).go',
    'héllo/日本.go',
    'x@y/!#$%&()+,-.=@[]^_{}~',
    'x..y/z.go',
    'go...mod',
    'a/b..c/d',
    'z~0/CON~1.go',
  ])('accepts %j', (p) => {
    expect(checkFilePath(p)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['../x', /invalid path element/],
    ['a/../b', /invalid path element/],
    ['..', /invalid path element/],
    ['/abs', /empty path element/],
    ['a//b', /double slash/],
    ['a/', /trailing slash/],
    ['./a', /invalid path element/],
    ['a/.', /invalid path element/],
    ['a.', /trailing dot/],
    ['a\\b', /invalid char/],
    ['a:b', /invalid char/],
    ['a\u0000b', /invalid char/],
    ['a\tb', /invalid char/],
    ['a*b', /invalid char/],
    ["it's", /invalid char/],
    ['x/CON', /Windows/],
    ['nul.txt', /Windows/],
    ['Com1.go', /Windows/],
  ])('rejects %j', (p, reason) => {
    expect(checkFilePath(p)).toMatch(reason);
  });
});

describe('foldName', () => {
  it('folds ASCII and common Unicode case pairs together', () => {
    expect(foldName('a/FILE.go')).toBe(foldName('a/file.go'));
    expect(foldName('\u212A')).toBe(foldName('k')); // Kelvin sign
    expect(foldName('\u017F')).toBe(foldName('S')); // long s
    expect(foldName('Straße')).toBe(foldName('STRAẞE'));
    expect(foldName('a.go')).not.toBe(foldName('b.go'));
  });
});

describe('createCollisionChecker', () => {
  it('finds case-fold duplicates', () => {
    const c = createCollisionChecker();
    expect(c.check('a/FILE.go', false)).toBeUndefined();
    expect(c.check('a/file.go', false)).toMatch(/case-insensitive/);
  });

  it('finds a path used as both file and directory', () => {
    const c = createCollisionChecker();
    expect(c.check('a/b', false)).toBeUndefined();
    expect(c.check('a/b/c', false)).toMatch(/both a file and a directory/);
    const d = createCollisionChecker();
    expect(d.check('x/y/z', false)).toBeUndefined();
    expect(d.check('x/y', false)).toMatch(/both a file and a directory/);
  });

  it('finds exact duplicates but allows shared parent directories', () => {
    const c = createCollisionChecker();
    expect(c.check('d/a', false)).toBeUndefined();
    expect(c.check('d/b', false)).toBeUndefined();
    expect(c.check('d', true)).toBeUndefined();
    expect(c.check('d/a', false)).toMatch(/multiple entries/);
    expect(c.check('D/c', false)).toMatch(/case-insensitive/);
  });
});

describe('classifyEntryName', () => {
  const prefix = 'example.com/m@v1.0.0/';
  it('classifies root, directories and files', () => {
    expect(classifyEntryName(prefix, prefix)).toEqual({ kind: 'root' });
    expect(classifyEntryName(prefix + 'sub/', prefix)).toEqual({ kind: 'dir', path: 'sub' });
    expect(classifyEntryName(prefix + 'sub/a.go', prefix)).toEqual({ kind: 'file', path: 'sub/a.go' });
    expect(classifyEntryName(prefix + 'go.mod', prefix)).toEqual({ kind: 'file', path: 'go.mod' });
  });

  it('rejects names outside the prefix, including a different version or case', () => {
    expect(classifyEntryName('example.com/m@v1.0.1/a.go', prefix)).toHaveProperty(
      'reason',
      expect.stringMatching(/prefix/),
    );
    expect(classifyEntryName('example.com/M@v1.0.0/a.go', prefix)).toHaveProperty(
      'reason',
      expect.stringMatching(/prefix/),
    );
    expect(classifyEntryName('a.go', prefix)).toHaveProperty('reason', expect.stringMatching(/prefix/));
  });

  it('applies the go.mod placement and spelling rules', () => {
    expect(classifyEntryName(prefix + 'sub/go.mod', prefix)).toHaveProperty(
      'reason',
      expect.stringMatching(/not in module root/),
    );
    expect(classifyEntryName(prefix + 'GO.MOD', prefix)).toHaveProperty('reason', expect.stringMatching(/lowercase/));
  });

  it('rejects bad relative paths and backslashes', () => {
    expect(classifyEntryName(prefix + '../x.go', prefix)).toHaveProperty(
      'reason',
      expect.stringMatching(/invalid path element/),
    );
    expect(classifyEntryName(prefix + 'a\\b.go', prefix)).toHaveProperty('reason', expect.stringMatching(/backslash/));
    expect(classifyEntryName(prefix + '/x.go', prefix)).toHaveProperty(
      'reason',
      expect.stringMatching(/empty path element/),
    );
    // issue 17 item 15: ".." inside an element is a real file name, not a parent directory
    expect(classifyEntryName(prefix + 'x..y/z.go', prefix)).toEqual({ kind: 'file', path: 'x..y/z.go' });
    expect(classifyEntryName(prefix + 'go...mod', prefix)).toEqual({ kind: 'file', path: 'go...mod' });
  });
});
