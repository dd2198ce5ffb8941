import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError, type ErrorCode } from '../../src/errors.js';
import {
  canonicalSemver,
  checkModuleVersion,
  compareSemver,
  isPrerelease,
  isPseudoVersion,
  isValidSemver,
  matchPathMajor,
  semverMajor,
  sortReleasedVersions,
} from '../../src/module/index.js';

describe('semver parsing', () => {
  it.each([
    ['v1.0.0', true, 'v1.0.0', 'v1'],
    ['v1.2', true, 'v1.2.0', 'v1'],
    ['v2', true, 'v2.0.0', 'v2'],
    ['v1.0.0-alpha.1', true, 'v1.0.0-alpha.1', 'v1'],
    ['v1.0.0-0.3.7', true, 'v1.0.0-0.3.7', 'v1'],
    ['v1.0.0-x-y.z--', true, 'v1.0.0-x-y.z--', 'v1'],
    ['v1.0.0+meta', true, 'v1.0.0', 'v1'],
    ['v1.0.0-rc.1+build.5', true, 'v1.0.0-rc.1', 'v1'],
    ['v2.0.0+incompatible', true, 'v2.0.0+incompatible', 'v2'],
    ['v17.0.0+incompatible', true, 'v17.0.0+incompatible', 'v17'],
    ['1.0.0', false, '', ''],
    ['v01.0.0', false, '', ''],
    ['v1.02.0', false, '', ''],
    ['v1.0.00', false, '', ''],
    ['v1.0.0-01', false, '', ''],
    ['v1.0.0-', false, '', ''],
    ['v1.0.0-a..b', false, '', ''],
    ['v1.0.0+', false, '', ''],
    ['v1.2-pre', false, '', ''],
    ['v1.0.0/../x', false, '', ''],
    ['v1.0.0\u0000', false, '', ''],
    ['v1.0.0 ', false, '', ''],
    ['V1.0.0', false, '', ''],
    ['', false, '', ''],
    // semver has no length limit (issue 17 item 15); only storing a version is bounded.
    [`v1.0.0-${'a'.repeat(300)}`, true, `v1.0.0-${'a'.repeat(300)}`, 'v1'],
  ])('%j valid=%j canonical=%j major=%j', (v, valid, canonical, major) => {
    expect(isValidSemver(v)).toBe(valid);
    expect(canonicalSemver(v)).toBe(canonical);
    expect(semverMajor(v)).toBe(major);
  });

  it('reports prereleases', () => {
    expect(isPrerelease('v1.0.0-beta')).toBe(true);
    expect(isPrerelease('v0.0.0-20191109021931-daa7c04131f5')).toBe(true);
    expect(isPrerelease('v1.0.0')).toBe(false);
    expect(isPrerelease('v1.0.0+meta-data')).toBe(false);
    expect(isPrerelease('1.0.0-beta')).toBe(false);
  });
});

describe('compareSemver', () => {
  const ordered = [
    'v0.0.0-20191109021931-daa7c04131f5',
    'v0.9.0',
    'v1.0.0-alpha',
    'v1.0.0-alpha.1',
    'v1.0.0-alpha.beta',
    'v1.0.0-beta',
    'v1.0.0-beta.2',
    'v1.0.0-beta.11',
    'v1.0.0-rc.1',
    'v1.0.0',
    'v1.0.1',
    'v1.2.0',
    'v1.9.0',
    'v1.10.0',
    'v2.0.0+incompatible',
    'v10.0.0',
  ];

  it('orders the chain strictly and antisymmetrically', () => {
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const a = ordered[i] ?? '';
        const b = ordered[j] ?? '';
        expect(compareSemver(a, b), `${a} vs ${b}`).toBe(Math.sign(i - j));
      }
    }
  });

  it.each([
    ['v1.0.0-1', 'v1.0.0-a', -1], // numeric identifiers before alphanumeric
    ['v1.0.0-2', 'v1.0.0-10', -1], // numeric identifiers compared numerically
    ['v1.0.0-a10', 'v1.0.0-a2', -1], // alphanumeric compared in ASCII order
    ['v1.0.0-B', 'v1.0.0-a', -1],
    ['v1.2', 'v1.2.0', 0],
    ['v1.0.0+a', 'v1.0.0+b', 0],
    ['garbage', 'v0.0.0', -1],
    ['v0.0.0', '1.0.0', 1],
    ['bad', 'worse', 0],
  ])('compare(%j, %j) = %j', (a, b, want) => {
    expect(compareSemver(a, b)).toBe(want);
  });
});

describe('isPseudoVersion', () => {
  it.each([
    ['v0.0.0-20191109021931-daa7c04131f5', true],
    ['v1.2.4-0.20191109021931-daa7c04131f5', true],
    ['v2.0.0-pre.0.20191109021931-daa7c04131f5', true],
    ['v2.0.0-20191109021931-daa7c04131f5+incompatible', true], // vX.0.0- form with no earlier tag
    ['v2.1.0-20191109021931-daa7c04131f5', false], // vX.Y.0- with Y>0 needs the "-pre.0." / "-0." form
    ['v0.0.0-20191109021931-daa7c04131f5+incompatible', true],
    ['v1.0.0', false],
    ['v1.0.0-beta', false],
    ['v0.0.0-2019110902193-daa7c04131f5', false], // 13-digit timestamp
    ['v1.2.4-1.20191109021931-daa7c04131f5', false], // base must end in .0
    ['v0.0.0-20191109021931-daa7c04131f5/../x', false],
  ])('%j -> %j', (v, want) => {
    expect(isPseudoVersion(v)).toBe(want);
  });
});

describe('matchPathMajor', () => {
  it.each([
    ['v0.0.0', '', true],
    ['v0.0.0', '/v2', false],
    ['v0.0.0', '.v0', true],
    ['v0.0.0-20190510104115-cbcb75029529', '.v1', true],
    ['v1.0.0', '.v1-unstable', true],
    ['v2.0.0+incompatible', '', true],
    ['v2.0.0', '', false],
    ['v2.0.0', '/v2', true],
    ['v2.0.0', '.v2', true],
  ])('(%j, %j) -> %j', (v, pm, want) => {
    expect(matchPathMajor(v, pm)).toBe(want);
  });
});

const good: Array<[string, string]> = [
  ['github.com/go-yaml/yaml', 'v0.8.0'],
  ['github.com/go-yaml/yaml', 'v1.0.0'],
  ['github.com/go-yaml/yaml/v2', 'v2.0.0'],
  ['github.com/go-yaml/yaml/v2', 'v2.1.5'],
  ['github.com/go-yaml/yaml/v2', 'v2.0.0-pre.0.20191109021931-daa7c04131f5'],
  ['gopkg.in/yaml.v0', 'v0.8.0'],
  ['gopkg.in/yaml.v1', 'v1.0.0'],
  ['gopkg.in/yaml.v2', 'v2.0.0'],
  ['gopkg.in/yaml.v2', 'v2.1.5'],
  ['gopkg.in/check.v1', 'v0.0.0-20160102150405-abcdef123456'],
  ['rsc.io/quote', 'v17.0.0+incompatible'],
  ['github.com/docker/docker', 'v2.0.0+incompatible'],
  ['rsc.io/quote', 'v0.0.0-20191109021931-daa7c04131f5'],
  ['rsc.io/quote', 'v1.2.4-0.20191109021931-daa7c04131f5'],
  ['rsc.io/quote', 'v1.0.0-rc.1'],
  // module.Check accepts these (the go command's proxy client uses Check plus CanonicalVersion, issue 17 item 15).
  ['github.com/go-yaml/yaml', 'v1.0.0+incompatible'],
  ['github.com/go-yaml/yaml', 'v0.1.0+incompatible'],
  ['github.com/go-yaml/yaml/v2', 'v2.0.0+incompatible'],
  ['gopkg.in/yaml.v2', 'v2.0.0+incompatible'],
];

const bad: Array<[string, string, ErrorCode]> = [
  ['rsc.io/quote', '0.1.0', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', '1.0.0', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v1.0', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v1', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v01.0.0', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v1.0.0+meta', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v1.0.0/../x', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v1.0.0\u0000', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v1.0.0 ', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v1.0.0\\x', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', '', ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', `v1.0.0-${'a'.repeat(260)}`, ErrorCodes.INVALID_VERSION],
  ['rsc.io/quote', 'v17.0.0', ErrorCodes.INVALID_VERSION],
  ['github.com/go-yaml/yaml', 'v2.0.0', ErrorCodes.INVALID_VERSION],
  ['github.com/go-yaml/yaml/v2', 'v1.0.0', ErrorCodes.INVALID_VERSION],
  ['github.com/go-yaml/yaml/v2', 'v3.0.0', ErrorCodes.INVALID_VERSION],
  ['github.com/go-yaml/yaml/v2', 'v0.0.0-20191109021931-daa7c04131f5', ErrorCodes.INVALID_VERSION],
  ['gopkg.in/yaml.v2', 'v3.0.0', ErrorCodes.INVALID_VERSION],
  ['gopkg.in/yaml.v2', 'v1.0.0', ErrorCodes.INVALID_VERSION],
  ['gopkg.in/yaml.v1', 'v0.8.0', ErrorCodes.INVALID_VERSION],
  ['gopkg.in/check.v1', 'v0.0.0', ErrorCodes.INVALID_VERSION],
  ['../etc/passwd', 'v1.0.0', ErrorCodes.INVALID_PATH],
  ['rsc io/quote', 'v1.0.0', ErrorCodes.INVALID_PATH],
];

describe('checkModuleVersion', () => {
  it.each(good)('accepts %s@%s', (path, version) => {
    expect(() => checkModuleVersion(path, version)).not.toThrow();
  });

  it.each(bad)('rejects %j@%j', (path, version, code) => {
    let caught: unknown;
    try {
      checkModuleVersion(path, version);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GomirrorError);
    const e = caught as GomirrorError;
    expect(e.code).toBe(code);
    expect(e.module).toBe(path);
    if (code === ErrorCodes.INVALID_VERSION) {
      expect(e.op).toBe('module.checkVersion');
      expect(e.version).toBe(version);
    } else {
      expect(e.op).toBe('module.checkPath');
    }
  });

  it('explains the reason in the message', () => {
    expect(() => checkModuleVersion('rsc.io/quote', 'v1.0')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_VERSION,
        message: expect.stringMatching(/non-canonical version \(canonical form v1\.0\.0\)/),
      }),
    );
    expect(() => checkModuleVersion('gopkg.in/yaml.v2', 'v3.0.0')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_VERSION,
        message: expect.stringMatching(/mismatched module path and version \(should be v2, not v3\)/),
      }),
    );
    expect(() => checkModuleVersion('x.y/z', 'v1.0.0/../x')).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_VERSION, message: expect.stringMatching(/path separator/) }),
    );
    expect(() => checkModuleVersion('x.y/z', `v1.0.0-${'a'.repeat(300)}`)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_VERSION,
        message: expect.stringMatching(/longer than 256 bytes/),
      }),
    );
  });
});

describe('sortReleasedVersions', () => {
  it('drops pseudo, invalid and non-canonical versions, dedupes and sorts', () => {
    const input = [
      'v1.10.0',
      'v1.0.0',
      'v0.0.0-20191109021931-daa7c04131f5',
      'v1.2.4-0.20191109021931-daa7c04131f5',
      'v1.0.0-beta',
      'v1.0.1',
      'v1.0.0',
      'v1.0',
      'v1.0.0+meta',
      'latest',
      '',
      'v1.9.0',
      'v1.0.0-alpha.1',
      'v1.0.0-alpha',
      'v1.0.0/../x',
      'v2.0.0+incompatible',
    ];
    expect(sortReleasedVersions(input)).toEqual([
      'v1.0.0-alpha',
      'v1.0.0-alpha.1',
      'v1.0.0-beta',
      'v1.0.0',
      'v1.0.1',
      'v1.9.0',
      'v1.10.0',
      'v2.0.0+incompatible',
    ]);
  });

  it('accepts any iterable and returns an empty list for nothing released', () => {
    expect(sortReleasedVersions(new Set(['v0.0.0-20191109021931-daa7c04131f5']))).toEqual([]);
    expect(sortReleasedVersions([])).toEqual([]);
  });

  it('keeps semver-equal distinct strings in a stable string order', () => {
    expect(sortReleasedVersions(['v2.0.0+incompatible', 'v2.0.0'])).toEqual(['v2.0.0', 'v2.0.0+incompatible']);
  });
});
