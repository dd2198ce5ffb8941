import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { escapePath, escapeVersion, unescapePath, unescapeVersion } from '../../src/module/index.js';
import { errorOf } from '../helpers/errors.js';

describe('path escaping', () => {
  it.each([
    ['github.com/Azure/azure-sdk-for-go', 'github.com/!azure/azure-sdk-for-go'],
    ['github.com/GoogleCloudPlatform/cloudsql-proxy', 'github.com/!google!cloud!platform/cloudsql-proxy'],
    ['github.com/Sirupsen/logrus', 'github.com/!sirupsen/logrus'],
    ['ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789', 'ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789'],
    ['rsc.io/QUOTE/v2', 'rsc.io/!q!u!o!t!e/v2'],
  ])('%s <-> %s', (path, escaped) => {
    expect(escapePath(path)).toBe(escaped);
    expect(unescapePath(escaped)).toBe(path);
  });

  it.each(['../x', 'x.y/../z', '/abs.com/x', 'x.y/z\u0000', 'X.y/z', 'x.y/a b', 'x.y/z!', ''])(
    'escapePath rejects %j',
    (path) => {
      const e = errorOf(() => escapePath(path));
      expect(e.code).toBe(ErrorCodes.INVALID_PATH);
      expect(e.op).toBe('module.escapePath');
      expect(e.module).toBe(path);
    },
  );

  it.each([
    ['github.com/Foo', 'raw upper case'],
    ['github.com/GoogleCloudPlatform/omega', 'raw upper case'],
    ['github.com/!google!cloud!platform!/omega', 'trailing bang in element'],
    ['github.com/!0google/omega', 'bang before digit'],
    ['github.com/!_google/omega', 'bang before underscore'],
    ['github.com/!!google/omega', 'double bang'],
    ['github.com/!Azure/x', 'bang before upper case'],
    ['github.com/azure!', 'trailing bang'],
    ['github.com/!', 'lone bang'],
    ['github.com/!azure/../etc', 'valid escape, traversal result'],
    ['!github.com/x', 'upper-case host after unescape'],
    ['github.com/\u00e9', 'non-ASCII'],
    ['github.com/a\u0000', 'NUL'],
    ['', 'empty'],
  ])('unescapePath rejects %j (%s)', (escaped) => {
    const e = errorOf(() => unescapePath(escaped));
    expect(e.code).toBe(ErrorCodes.INVALID_PATH);
    expect(e.op).toBe('module.unescapePath');
    expect(e.module).toBe(escaped);
  });
});

describe('version escaping', () => {
  it.each([
    ['v1.0.0', 'v1.0.0'],
    ['v1.0.0-RC1', 'v1.0.0-!r!c1'],
    ['v2.0.0+incompatible', 'v2.0.0+incompatible'],
    ['v0.0.0-20191109021931-daa7c04131f5', 'v0.0.0-20191109021931-daa7c04131f5'],
    ['master', 'master'],
    // module.EscapeVersion accepts any valid file name element (issue 17 item 15)
    ['v1..0', 'v1..0'],
  ])('%s <-> %s', (version, escaped) => {
    expect(escapeVersion(version)).toBe(escaped);
    expect(unescapeVersion(escaped)).toBe(version);
  });

  it.each([
    'v1.0.0/../x',
    'v1.0.0\u0000',
    'v1.0.0\n',
    'v1.0.0\\x',
    '..',
    '.',
    'v1!',
    'con',
    'v1.0.0*',
    'v1.0.0:x',
    '',
    // deliberately stricter than module.EscapeVersion: a space (docs/module-rules.md)
    'v1 .0.0',
    // module.EscapeVersion refuses non-ASCII (found by the differential test)
    'v1.0.0-é',
    'v日',
    `v1.0.0-${'a'.repeat(250)}`,
    `v1.0.0-${'A'.repeat(125)}`,
  ])('escapeVersion rejects %j', (version) => {
    const e = errorOf(() => escapeVersion(version));
    expect(e.code).toBe(ErrorCodes.INVALID_VERSION);
    expect(e.op).toBe('module.escapeVersion');
    expect(e.version).toBe(version);
  });

  it.each(['v1.0.0-RC1', 'v1.0.0-!R', 'v1.0.0-!!r', 'v1.0.0!', 'v1.0.0-!1', 'v1.0.0/..', 'v1.0.0\u0000', '..'])(
    'unescapeVersion rejects %j',
    (escaped) => {
      const e = errorOf(() => unescapeVersion(escaped));
      expect(e.code).toBe(ErrorCodes.INVALID_VERSION);
      expect(e.op).toBe('module.unescapeVersion');
      expect(e.version).toBe(escaped);
    },
  );

  it('names the offending input and reason in the message', () => {
    expect(() => unescapePath('github.com/Foo')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_PATH,
        message: expect.stringMatching(/invalid escaped module path "github\.com\/Foo": bad case-encoding/),
      }),
    );
    expect(() => escapeVersion('v1.0.0/../x')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_VERSION,
        message: expect.stringMatching(/disallowed version string "v1\.0\.0\/\.\.\/x": invalid char "\/"/),
      }),
    );
  });
});
