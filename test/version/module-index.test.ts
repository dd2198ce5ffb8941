import { describe, expect, it } from 'vitest';
import { completeVersionsIn, moduleIndex } from '../../src/version/module-index.js';

describe('moduleIndex', () => {
  it('lists released versions in semver order, one per line, and no @latest when there is one', () => {
    const idx = moduleIndex(['v1.10.0', 'v1.2.0', 'v0.0.0-20200101000000-abcdefabcdef', 'v1.2.0-rc.1']);
    expect(idx.released).toEqual(['v1.2.0-rc.1', 'v1.2.0', 'v1.10.0']);
    expect(idx.list).toBe('v1.2.0-rc.1\nv1.2.0\nv1.10.0\n');
    expect(idx.latest).toBeUndefined();
  });

  it('names the newest pseudo-version for @latest when no version is released', () => {
    const idx = moduleIndex([
      'v0.0.0-20200101000000-abcdefabcdef',
      'v0.0.0-20210101000000-123456123456',
      'v0.0.0-20190101000000-aaaaaaaaaaaa',
    ]);
    expect(idx.released).toEqual([]);
    expect(idx.list).toBe('');
    expect(idx.latest).toBe('v0.0.0-20210101000000-123456123456');
  });

  it('leaves out non-canonical versions and gives an empty index for no versions', () => {
    expect(moduleIndex(['v1.0', 'not-a-version', 'v2.0.0+incompatible']).list).toBe('v2.0.0+incompatible\n');
    expect(moduleIndex([])).toEqual({ released: [], list: '', latest: undefined });
  });
});

describe('completeVersionsIn', () => {
  it('names the versions whose .info, .mod and .zip are all present, unescaped', () => {
    const names = [
      'list',
      'v1.0.0.info',
      'v1.0.0.mod',
      'v1.0.0.zip',
      'v1.1.0.info',
      'v1.1.0.mod',
      'v1.2.0.mod',
      'v1.2.0.zip',
      'v2.0.0-!r!c1.info',
      'v2.0.0-!r!c1.mod',
      'v2.0.0-!r!c1.zip',
    ];
    expect(completeVersionsIn(names).sort()).toEqual(['v1.0.0', 'v2.0.0-RC1']);
  });

  it('ignores names that are not escaped versions', () => {
    expect(completeVersionsIn(['Bad.info', 'Bad.mod', 'Bad.zip', 'stray.txt'])).toEqual([]);
  });
});
