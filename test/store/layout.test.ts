import * as nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { codeOf } from '../helpers/errors.js';
import { assertInside, latestFile, listFile, moduleDir, versionFile } from '../../src/store/layout.js';

const root = '/srv/mirror';

describe('layout', () => {
  it('case-encodes module paths and versions', () => {
    expect(versionFile(root, 'github.com/Azure/azure-sdk-for-go', 'v1.0.0-RC1', 'zip')).toBe(
      '/srv/mirror/github.com/!azure/azure-sdk-for-go/@v/v1.0.0-!r!c1.zip',
    );
    expect(versionFile(root, 'golang.org/x/text', 'v0.3.0', 'info')).toBe(
      '/srv/mirror/golang.org/x/text/@v/v0.3.0.info',
    );
    expect(versionFile(root, 'golang.org/x/text', 'v0.3.0', 'mod')).toBe('/srv/mirror/golang.org/x/text/@v/v0.3.0.mod');
    expect(listFile(root, 'github.com/BurntSushi/toml')).toBe('/srv/mirror/github.com/!burnt!sushi/toml/@v/list');
    expect(latestFile(root, 'github.com/BurntSushi/toml')).toBe('/srv/mirror/github.com/!burnt!sushi/toml/@latest');
    expect(moduleDir(root, 'example.com/m/v2')).toBe('/srv/mirror/example.com/m/v2');
  });

  it('resolves a relative root', () => {
    expect(listFile('tree', 'example.com/m')).toBe(nodePath.resolve('tree', 'example.com/m/@v/list'));
  });

  it('refuses module paths and versions that would leave their place in the tree', () => {
    expect(codeOf(() => versionFile(root, '../etc', 'v1.0.0', 'zip'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => versionFile(root, 'example.com/../../etc', 'v1.0.0', 'zip'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => listFile(root, '/etc/passwd'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => latestFile(root, 'example.com/a\\..\\..\\b'))).toBe(ErrorCodes.INVALID_PATH);
    expect(codeOf(() => moduleDir(root, ''))).toBe(ErrorCodes.INVALID_PATH);
    for (const v of ['../../../x', 'v1.0.0/../../list', '..', 'v1!0', '']) {
      expect(codeOf(() => versionFile(root, 'example.com/m', v, 'zip'))).toBe(ErrorCodes.INVALID_VERSION);
    }
  });

  it('names the module and version in a refused version', () => {
    try {
      versionFile(root, 'example.com/m', '../x', 'mod');
      throw new Error('not refused');
    } catch (err) {
      expect((err as Error).message).toMatch(/example\.com\/m@\.\.\/x/);
    }
  });

  it('assertInside accepts paths strictly inside and refuses the root itself, parents and siblings', () => {
    expect(() => assertInside(root, '/srv/mirror/a/b')).not.toThrow();
    expect(() => assertInside(root, 'a/../b')).not.toThrow();
    for (const p of [
      '/srv/mirror',
      '/srv/mirror/..',
      '/srv/mirror/../etc',
      '/srv/mirror-evil/x',
      '/etc/passwd',
      '../x',
      'a/../../x',
    ]) {
      expect(codeOf(() => assertInside(root, p))).toBe(ErrorCodes.INVALID_PATH);
    }
  });
});
