import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, type GomirrorError } from '../../src/errors.js';
import { DEFAULTS, isTargeted, parseSyncConfig, parseTarget, type RawOptions } from '../../src/config/config.js';
import { parsePlaces } from '../../src/config/places.js';
import { listOption } from '../../src/config/raw.js';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import { errorOf } from '../helpers/errors.js';

const base: RawOptions = { dest: '/srv/mirror' };

/** Asserts parseSyncConfig rejects raw with a CONFIG error naming key. */
function expectConfigError(raw: RawOptions, key: string, text?: RegExp): GomirrorError {
  const err = errorOf(() => parseSyncConfig(raw, false, {}));
  expect(err.code).toBe(ErrorCodes.CONFIG);
  expect(err.message).toContain(key);
  if (text) expect(err.message).toMatch(text);
  return err;
}

describe('parseSyncConfig defaults', () => {
  it('fills every default from just --dest', () => {
    const c = parseSyncConfig(base, false, {});
    expect(c.dest).toEqual({ kind: 'fs', dir: path.resolve('/srv/mirror') });
    expect(c.state).toEqual({ kind: 'fs', dir: path.join(path.resolve('/srv/mirror'), '.gomirror') });
    expect(c.stateDir).toBe(path.join(path.resolve('/srv/mirror'), '.gomirror'));
    expect(c.index).toBe(DEFAULTS.index);
    expect(c.index).toBe('https://index.golang.org/index');
    expect(c.upstreams).toEqual(['https://proxy.golang.org']);
    expect(c.sumdb).toEqual(parseSumdbSpec(DEFAULTS.sumdb));
    expect(c.sumdb.name).toBe('sum.golang.org');
    expect(c.sumdb.url).toBe('https://sum.golang.org');
    expect(c.concurrency).toBe(16);
    expect(c.since).toBeUndefined();
    expect(c.until).toBeUndefined();
    expect(c.maxVersions).toBeUndefined();
    expect(c.include).toEqual([]);
    expect(c.exclude).toEqual([]);
    expect(c.modules).toEqual([]);
    expect(c.fromGosum).toEqual([]);
    expect(c.fromGomod).toEqual([]);
    expect(c.dryRun).toBe(false);
    expect(c.logLevel).toBe('info');
    expect(isTargeted(c)).toBe(false);
  });

  it('log format defaults to pretty on a TTY and json otherwise', () => {
    expect(parseSyncConfig(base, true, {}).logFormat).toBe('pretty');
    expect(parseSyncConfig(base, false, {}).logFormat).toBe('json');
    expect(parseSyncConfig({ ...base, 'log-format': 'json' }, true, {}).logFormat).toBe('json');
    expect(parseSyncConfig({ ...base, 'log-format': 'pretty' }, false, {}).logFormat).toBe('pretty');
  });

  it('resolves a relative dest and honours an explicit state dir', () => {
    const c = parseSyncConfig({ dest: 'rel/tree', state: 'rel/state' }, false, {});
    expect(c.dest).toEqual({ kind: 'fs', dir: path.resolve('rel/tree') });
    expect(c.stateDir).toBe(path.resolve('rel/state'));
  });

  it('treats empty strings and null as unset', () => {
    const c = parseSyncConfig({ ...base, state: '', index: null, since: '', concurrency: '' }, false, {});
    expect(c.stateDir).toBe(path.join(path.resolve('/srv/mirror'), '.gomirror'));
    expect(c.index).toBe(DEFAULTS.index);
    expect(c.since).toBeUndefined();
    expect(c.concurrency).toBe(16);
  });
});

describe('parsePlaces', () => {
  it('requires dest', () => {
    const err = errorOf(() => parsePlaces({}, {}));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toContain('"dest"');
    expect(err.detail).toEqual({ key: 'dest' });
  });

  it('takes the last of a scalar given more than once', () => {
    expect(parsePlaces({ dest: ['/a', '/b'] }, {}).dest).toEqual({ kind: 'fs', dir: path.resolve('/b') });
    expect(parsePlaces({ dest: '/a', state: ['/s1', '/s2'] }, {}).stateDir).toBe(path.resolve('/s2'));
    const err = errorOf(() => parsePlaces({ dest: ['/a', { b: 1 }] }, {}));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toContain('"dest"');
  });

  it('rejects a non-string dest', () => {
    const err = errorOf(() => parsePlaces({ dest: { a: 1 } }, {}));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toContain('"dest"');
  });
});

describe('scalar options', () => {
  it('concurrency: whole number 1..256', () => {
    expect(parseSyncConfig({ ...base, concurrency: 1 }, false, {}).concurrency).toBe(1);
    expect(parseSyncConfig({ ...base, concurrency: '256' }, false, {}).concurrency).toBe(256);
    expectConfigError({ ...base, concurrency: 0 }, 'concurrency', /between 1 and 256/);
    expectConfigError({ ...base, concurrency: 257 }, 'concurrency', /between 1 and 256/);
    expectConfigError({ ...base, concurrency: '4x' }, 'concurrency', /whole number/);
    expectConfigError({ ...base, concurrency: -3 }, 'concurrency', /whole number/);
    expectConfigError({ ...base, concurrency: 2.5 }, 'concurrency', /whole number/);
    expect(parseSyncConfig({ ...base, concurrency: [2, 3] }, false, {}).concurrency).toBe(3);
    expectConfigError({ ...base, concurrency: [2, 0] }, 'concurrency', /between 1 and 256/);
    expectConfigError({ ...base, concurrency: true }, 'concurrency', /expected a string/);
  });

  it('max-versions: whole number >= 1', () => {
    expect(parseSyncConfig({ ...base, 'max-versions': '100' }, false, {}).maxVersions).toBe(100);
    expectConfigError({ ...base, 'max-versions': 0 }, 'max-versions', /between 1/);
    expectConfigError({ ...base, 'max-versions': 'lots' }, 'max-versions', /whole number/);
  });

  it('dry-run: booleans and their string spellings', () => {
    for (const [v, want] of [
      [true, true],
      [false, false],
      ['true', true],
      ['1', true],
      ['false', false],
      ['0', false],
      ['', false],
    ] as const) {
      expect(parseSyncConfig({ ...base, 'dry-run': v }, false, {}).dryRun).toBe(want);
    }
    expectConfigError({ ...base, 'dry-run': 'yes' }, 'dry-run', /true or false/);
    expectConfigError({ ...base, 'dry-run': 1 }, 'dry-run', /true or false/);
  });

  it('log-level and log-format: only the listed values', () => {
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) {
      expect(parseSyncConfig({ ...base, 'log-level': level }, false, {}).logLevel).toBe(level);
    }
    expectConfigError({ ...base, 'log-level': 'verbose' }, 'log-level', /must be one of/);
    expectConfigError({ ...base, 'log-level': 'INFO' }, 'log-level', /must be one of/);
    expectConfigError({ ...base, 'log-format': 'text' }, 'log-format', /must be one of json, pretty/);
  });
});

describe('since / until', () => {
  it('accepts RFC 3339 times with Z, offsets and fractions', () => {
    const c = parseSyncConfig(
      { ...base, since: '2019-04-10T19:08:52.997264Z', until: '2020-01-01T00:00:00+02:00' },
      false,
      {},
    );
    expect(c.since).toBe('2019-04-10T19:08:52.997264Z');
    expect(c.until).toBe('2020-01-01T00:00:00+02:00');
    expect(parseSyncConfig({ ...base, since: '2019-04-10T19:08:52.123456789-07:00' }, false, {}).since).toBe(
      '2019-04-10T19:08:52.123456789-07:00',
    );
  });

  it('rejects other time spellings, naming the key', () => {
    for (const bad of [
      '2019-04-10',
      '2019-04-10 19:08:52Z',
      '2019-04-10T19:08:52',
      '2019-04-10T19:08:52z',
      'yesterday',
      '2019-13-45T99:99:99Z',
      '1554923332',
    ]) {
      expectConfigError({ ...base, since: bad }, 'since', /RFC 3339/);
      expectConfigError({ ...base, until: bad }, 'until', /RFC 3339/);
    }
  });

  it('rejects until before since, and allows until == since', () => {
    const err = expectConfigError(
      { ...base, since: '2020-01-02T00:00:00Z', until: '2020-01-01T00:00:00Z' },
      'until',
      /before/,
    );
    expect(err.detail).toEqual({ key: 'until' });
    // compared as instants, not strings
    expectConfigError(
      { ...base, since: '2020-01-01T01:00:00Z', until: '2020-01-01T02:00:00+02:00' },
      'until',
      /before/,
    );
    const same = parseSyncConfig(
      { ...base, since: '2020-01-01T00:00:00Z', until: '2020-01-01T02:00:00+02:00' },
      false,
      {},
    );
    expect(same.until).toBe('2020-01-01T02:00:00+02:00');
  });
});

describe('list options', () => {
  it('listOption: absent, single, repeated, comma lists, arrays', () => {
    expect(listOption({}, 'include')).toEqual([]);
    expect(listOption({ include: '' }, 'include')).toEqual([]);
    expect(listOption({ include: null }, 'include')).toEqual([]);
    expect(listOption({ include: 'a' }, 'include')).toEqual(['a']);
    expect(listOption({ include: 'a, b,,c ' }, 'include')).toEqual(['a', 'b', 'c']);
    expect(listOption({ include: ['a', 'b,c'] }, 'include')).toEqual(['a', 'b', 'c']);
    const err = errorOf(() => listOption({ include: ['a', 3] }, 'include'));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toMatch(/"include".*expected a string, got 3/);
  });

  it('include / exclude / upstream / module / from-gosum / from-gomod take lists', () => {
    const c = parseSyncConfig(
      {
        ...base,
        include: ['github.com/a/*', 'golang.org/x/*,rsc.io/*'],
        exclude: 'bad.example/*',
        upstream: 'https://a.example, http://b.example:8080/proxy/',
        module: ['rsc.io/quote@v1.5.2', 'golang.org/x/text@v0.3.0,example.com/m/v2@v2.0.0'],
        'from-gosum': ['a/go.sum', 'b/go.sum'],
        'from-gomod': 'c/go.mod',
      },
      false,
      {},
    );
    expect(c.include).toEqual(['github.com/a/*', 'golang.org/x/*', 'rsc.io/*']);
    expect(c.exclude).toEqual(['bad.example/*']);
    expect(c.upstreams).toEqual(['https://a.example', 'http://b.example:8080/proxy']);
    expect(c.modules).toEqual([
      { module: 'rsc.io/quote', version: 'v1.5.2' },
      { module: 'golang.org/x/text', version: 'v0.3.0' },
      { module: 'example.com/m/v2', version: 'v2.0.0' },
    ]);
    expect(c.fromGosum).toEqual([path.resolve('a/go.sum'), path.resolve('b/go.sum')]);
    expect(c.fromGomod).toEqual([path.resolve('c/go.mod')]);
    expect(isTargeted(c)).toBe(true);
  });

  it('isTargeted is true for any one targeted input', () => {
    expect(isTargeted(parseSyncConfig({ ...base, module: 'a.example/m@v1.0.0' }, false, {}))).toBe(true);
    expect(isTargeted(parseSyncConfig({ ...base, 'from-gosum': 'go.sum' }, false, {}))).toBe(true);
    expect(isTargeted(parseSyncConfig({ ...base, 'from-gomod': 'go.mod' }, false, {}))).toBe(true);
    expect(isTargeted(parseSyncConfig({ ...base, include: 'a.example/*' }, false, {}))).toBe(false);
  });
});

describe('parseTarget (--module PATH@VERSION)', () => {
  it('splits at the last @', () => {
    expect(parseTarget('rsc.io/quote@v1.5.2')).toEqual({ module: 'rsc.io/quote', version: 'v1.5.2' });
    expect(parseTarget('example.com/a@b@v1.0.0')).toEqual({ module: 'example.com/a@b', version: 'v1.0.0' });
  });

  it('rejects specs without a path or version', () => {
    for (const bad of ['rsc.io/quote', '@v1.0.0', 'rsc.io/quote@', '@', '']) {
      const err = errorOf(() => parseTarget(bad));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain('"module"');
      expect(err.message).toContain('PATH@VERSION');
    }
    expectConfigError({ ...base, module: 'rsc.io/quote' }, 'module', /PATH@VERSION/);
  });
});

describe('URL options', () => {
  it('index and upstream must be http(s) without query or fragment', () => {
    expect(parseSyncConfig({ ...base, index: 'http://127.0.0.1:9/index/' }, false, {}).index).toBe(
      'http://127.0.0.1:9/index',
    );
    for (const [key, bad, re] of [
      ['index', 'ftp://index.example/index', /http or https/],
      ['index', 'not a url', /not a URL/],
      ['index', 'https://index.example/index?since=x', /query or fragment/],
      ['upstream', 'file:///srv/proxy', /http or https/],
      ['upstream', 'https://proxy.example/#frag', /query or fragment/],
      ['upstream', 'proxy.example', /not a URL/],
    ] as const) {
      const err = errorOf(() => parseSyncConfig({ ...base, [key]: bad }, false, {}));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain(`--${key}`);
      expect(err.message).toMatch(re);
    }
  });

  it('checks every upstream of a list', () => {
    const err = errorOf(() =>
      parseSyncConfig({ ...base, upstream: ['https://ok.example', 'gopher://bad.example'] }, false, {}),
    );
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toContain('gopher://bad.example');
  });

  it('sumdb goes through the GOSUMDB parser', () => {
    const c = parseSyncConfig({ ...base, sumdb: 'sum.example+0123abcd+AQID http://127.0.0.1:8/sumdb/' }, false, {});
    expect(c.sumdb).toEqual({ name: 'sum.example', key: 'sum.example+0123abcd+AQID', url: 'http://127.0.0.1:8/sumdb' });
    const err = errorOf(() => parseSyncConfig({ ...base, sumdb: 'nonsense' }, false, {}));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toContain('--sumdb');
  });
});

describe('since / until calendar checks', () => {
  // Date.parse in V8 rolls impossible days over (Feb 30 → Mar 2) and accepts hour 24,
  // while Go's time.Parse(time.RFC3339) (and so the index server) rejects them.
  it('rejects impossible calendar dates and times', () => {
    for (const bad of ['2019-02-30T00:00:00Z', '2019-04-31T00:00:00Z', '2019-01-01T24:00:00Z']) {
      expectConfigError({ ...base, since: bad }, 'since', /RFC 3339/);
    }
  });
});

describe('--max-clock-skew', () => {
  it('defaults to 10 minutes and takes s, m and h up to 24h; anything else is a CONFIG error naming the key', () => {
    expect(parseSyncConfig(base, false, {}).maxClockSkewMs).toBe(600_000);
    expect(parseSyncConfig({ ...base, 'max-clock-skew': '30s' }, false, {}).maxClockSkewMs).toBe(30_000);
    expect(parseSyncConfig({ ...base, 'max-clock-skew': '1h' }, false, {}).maxClockSkewMs).toBe(3_600_000);
    expect(parseSyncConfig({ ...base, 'max-clock-skew': '0s' }, false, {}).maxClockSkewMs).toBe(0);
    for (const bad of ['soon', '25h', '-1m', '10']) {
      const err = errorOf(() => parseSyncConfig({ ...base, 'max-clock-skew': bad }, false, {}));
      expect(err.code, bad).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain('max-clock-skew');
    }
  });
});
