import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import {
  checkModulePath,
  goModulePathProblem,
  importPathProblem,
  isValidModulePath,
  splitPathVersion,
} from '../../src/module/index.js';

const valid: string[] = [
  'x.y/z',
  'x.y',
  'x..y/z',
  'x.y-/z',
  'x.y/z_',
  'x.y/z~',
  'x.y/z.t',
  'x.y/x.foo',
  'x.y/prn2',
  'x.y/com',
  'x.y/calm1',
  'x.y/z/v2',
  'github.com/Azure/azure-sdk-for-go',
  'golang.org/x/text',
  'gopkg.in/yaml.v2',
  'gopkg.in/yaml.v0',
  'gopkg.in/check.v1',
  'gopkg.in/src-d/go-git.v4',
  'gopkg.in/foo.v1-unstable',
  // issue 17 item 15: Go has no rule against ".." inside an element
  'x..y/a..b',
  // a tilde is fine unless digits follow it up to the first dot
  'x.y/z~a',
  'x.y/z~1a',
  'x.y/z~',
  'x.y/a~b.c~1',
];

const invalid: Array<[string, string]> = [
  ['', 'empty'],
  ['../x', 'parent element'],
  ['./y', 'dot element'],
  ['x.y/../z', 'dot-dot element'],
  ['x.y/z/../../w', 'traversal'],
  ['x.y/./z', 'dot element'],
  ['/x.y/z', 'absolute path'],
  ['x.y//z', 'double slash'],
  ['x.y/z/', 'trailing slash'],
  ['x./z', 'trailing dot'],
  ['.x/z', 'leading dot'],
  ['-x.y/z', 'leading dash'],
  ['X.y/z', 'upper case host'],
  ['rsc io/quote', 'space in host'],
  ['x.y/z z', 'space'],
  ['x.y/z\u0000', 'NUL'],
  ['x.y/a\nb', 'newline'],
  ['x.y/a\tb', 'tab'],
  ['x.y/a\u007fb', 'DEL'],
  ['x.y/a\u0085b', 'C1 control'],
  ['x.y\\z', 'backslash'],
  ['x.y/z\\..\\w', 'backslash traversal'],
  ['x.y/z!', 'bang'],
  ['x.y/z:', 'colon'],
  ['x.y/z*', 'star'],
  ['x.y/z@', 'at'],
  ['x.y/aux.foo', 'Windows AUX with extension'],
  ['x.y/prn', 'Windows PRN'],
  ['x.y/CON', 'Windows CON upper'],
  ['x.y/con.txt', 'Windows con.txt'],
  ['x.y/com1', 'Windows COM1'],
  ['x.y/Lpt9.go', 'Windows LPT9'],
  ['x.y/z/v0', 'v0 suffix'],
  ['x.y/z/v1', 'v1 suffix'],
  // issue 17 item 14: "+" is an import-path character, not a module-path one
  ['x.y/z++', 'plus'],
  ['x.y/z+', 'plus'],
  ['x.y/a+b/c', 'plus inside'],
  // issue 17 item 14: Windows short names (tilde and digits before the first dot)
  ['x.y/z~0', 'tilde digit'],
  ['example.com/CON~1', 'short name'],
  ['x.y/PROGRA~1.d/x', 'short name with extension'],
  ['x.y/a~12', 'tilde digits'],
  ['x.y/z/v2.0', 'dotted major'],
  ['x.y/z/v02', 'leading zero major'],
  ['localhost/foo', 'no dot in host'],
  ['github.com/user/unicode/испытание', 'non-ASCII'],
  ['x☺y.com', 'non-ASCII host'],
  ['gopkg.in/yaml', 'gopkg.in without .vN'],
  ['gopkg.in/yaml.v01', 'gopkg.in leading zero'],
  [`x.y/${'a'.repeat(256)}`, 'element too long'],
  [`x.y/${'B'.repeat(200)}`, 'escaped element too long'],
  [`x.y${'/abcdefgh'.repeat(114)}`, 'path too long'],
];

describe('checkModulePath', () => {
  it.each(valid)('accepts %j', (p) => {
    expect(() => checkModulePath(p)).not.toThrow();
    expect(isValidModulePath(p)).toBe(true);
  });

  it.each(invalid)('rejects %j (%s)', (p) => {
    expect(isValidModulePath(p)).toBe(false);
    let caught: unknown;
    try {
      checkModulePath(p);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GomirrorError);
    const e = caught as GomirrorError;
    expect(e.code).toBe(ErrorCodes.INVALID_PATH);
    expect(e.op).toBe('module.checkPath');
    expect(e.module).toBe(p);
  });

  it('accepts a path of exactly the maximum length', () => {
    const p = `x.y${'/abcdefgh'.repeat(113)}`;
    expect(p.length).toBeLessThanOrEqual(1024);
    expect(isValidModulePath(p)).toBe(true);
  });

  it('names the reason and quotes control characters in the message', () => {
    expect(() => checkModulePath('x.y/a\nb')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_PATH,
        message: expect.stringMatching(/malformed module path "x\.y\/a\\nb": invalid char "\\n"/),
      }),
    );
    expect(() => checkModulePath('x.y/z/v1')).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_PATH, message: expect.stringMatching(/invalid version/) }),
    );
    let message = '';
    try {
      checkModulePath('x.y/a\u0085b\u2028');
    } catch (err) {
      message = (err as Error).message.split(' (')[0] ?? '';
    }
    expect(message).toContain('\\u0085');
    expect(message).not.toMatch(/[\u0085\u2028]/);
    expect(() => checkModulePath('localhost/foo')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_PATH,
        message: expect.stringMatching(/missing dot in first path element/),
      }),
    );
  });
});

describe('Go-exact path checks', () => {
  it('import paths allow "+" but not Windows short names (module.CheckImportPath)', () => {
    expect(importPathProblem('x.y/z++')).toBeUndefined();
    expect(importPathProblem('localhost/c++')).toBeUndefined();
    expect(importPathProblem('x.y/z~1')).toMatch(/trailing tilde and digits/);
    expect(importPathProblem('-x/y')).toMatch(/leading dash/);
  });

  it('module.CheckPath has no length limit; gomirror stores at most 255 bytes per element', () => {
    const long = `x.y/${'a'.repeat(300)}`;
    expect(goModulePathProblem(long)).toBeUndefined();
    expect(isValidModulePath(long)).toBe(false);
  });
});

describe('splitPathVersion', () => {
  it.each([
    ['x.y/z', 'x.y/z', '', true],
    ['x.y/z/v2', 'x.y/z', '/v2', true],
    ['x.y/z/v3', 'x.y/z', '/v3', true],
    ['x.y/v', 'x.y/v', '', true],
    ['a/b/v2', 'a/b', '/v2', true],
    ['x.y/z/v1', 'x.y/z/v1', '', false],
    ['x.y/z/v0', 'x.y/z/v0', '', false],
    ['x.y/z/v2.1', 'x.y/z/v2.1', '', false],
    ['gopkg.in/yaml.v0', 'gopkg.in/yaml', '.v0', true],
    ['gopkg.in/yaml.v1', 'gopkg.in/yaml', '.v1', true],
    ['gopkg.in/yaml.v2', 'gopkg.in/yaml', '.v2', true],
    ['gopkg.in/foo.v1-unstable', 'gopkg.in/foo', '.v1-unstable', true],
    ['gopkg.in/yaml', 'gopkg.in/yaml', '', false],
    ['gopkg.in/yaml.v02', 'gopkg.in/yaml.v02', '', false],
  ])('%s -> %j %j %j', (path, prefix, pathMajor, ok) => {
    expect(splitPathVersion(path)).toEqual({ prefix, pathMajor, ok });
  });
});
