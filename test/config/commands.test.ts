import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  VERIFY_DEFAULT_CONCURRENCY,
  parseDaemonCommand,
  parseExportCommand,
  parseImportCommand,
  parseProbeCommand,
  parseServeCommand,
  parseStatusCommand,
  parseSyncCommand,
  parseVerifyCommand,
} from '../../src/config/commands.js';
import type { RawOptions } from '../../src/config/config.js';
import { parsePlaces } from '../../src/config/places.js';
import { flag, stringOption } from '../../src/config/raw.js';
import { ErrorCodes } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';

const base: RawOptions = { dest: '/srv/mirror' };

function expectConfigError(fn: () => unknown, key: string, text?: RegExp): void {
  const err = errorOf(fn);
  expect(err.code).toBe(ErrorCodes.CONFIG);
  expect(err.message).toContain(`"${key}"`);
  if (text) expect(err.message).toMatch(text);
}

describe('strict option types', () => {
  it('a number or a boolean where a path belongs is an error naming the key (not "./123")', () => {
    expectConfigError(() => parsePlaces({ dest: 123 }, {}), 'dest', /expected a string, got 123/);
    expectConfigError(() => parsePlaces({ dest: '/srv', state: true }, {}), 'state', /expected a string, got true/);
    expectConfigError(() => parseStatusCommand({ dest: ['/a', 7] }, {}), 'dest', /expected a string, got 7/);
  });

  it('a scalar flag given twice: the last wins', () => {
    expect(parsePlaces({ dest: ['/a', '/b'] }, {}).dest).toEqual({ kind: 'fs', dir: path.resolve('/b') });
    expect(stringOption({ sumdb: ['x', 'y'] }, 'sumdb')).toBe('y');
  });

  it('flag: booleans, and "true"/"1"/"false"/"0" from the environment; anything else is an error naming it', () => {
    expect(flag({}, 'json')).toBe(false);
    expect(flag({}, 'disk', true)).toBe(true);
    expect(flag({ json: true }, 'json')).toBe(true);
    expect(flag({ json: '1' }, 'json')).toBe(true);
    expect(flag({ disk: 'false' }, 'disk', true)).toBe(false);
    expect(flag({ json: [false, true] }, 'json')).toBe(true);
    expectConfigError(() => flag({ json: 'yes' }, 'json'), 'json', /expected true or false/);
  });
});

describe('parse functions per command', () => {
  it('sync and daemon: the run, the metrics file, the interval (default 15m)', () => {
    expect(parseSyncCommand({ ...base, 'metrics-file': '/m.prom' }, false, {})).toMatchObject({
      metricsFile: '/m.prom',
      sync: { dest: { kind: 'fs', dir: path.resolve('/srv/mirror') } },
    });
    expect(parseSyncCommand(base, false, {}).metricsFile).toBeUndefined();
    expect(parseDaemonCommand(base, false, {}).intervalMs).toBe(15 * 60_000);
    expect(parseDaemonCommand({ ...base, interval: '1h30m' }, false, {}).intervalMs).toBe(90 * 60_000);
    expectConfigError(() => parseDaemonCommand({ ...base, interval: 'soon' }, false, {}), 'interval');
  });

  it('verify: switches and a concurrency of its own default', () => {
    const v = parseVerifyCommand(base, false, {});
    expect(v).toMatchObject({ json: false, repair: false, online: false, concurrency: VERIFY_DEFAULT_CONCURRENCY });
    expect(parseVerifyCommand({ ...base, concurrency: '9', repair: true, json: 'true' }, false, {})).toMatchObject({
      concurrency: 9,
      repair: true,
      json: true,
    });
    expectConfigError(() => parseVerifyCommand({ ...base, concurrency: '0' }, false, {}), 'concurrency');
  });

  it('status: --check lag thresholds (warn defaults to half, never above max), no disk walk with --check', () => {
    expect(parseStatusCommand(base, {})).toMatchObject({
      json: false,
      disk: true,
      check: undefined,
      sumdb: { name: 'sum.golang.org' },
    });
    expect(parseStatusCommand({ ...base, check: true }, {})).toMatchObject({
      disk: false,
      check: { maxLagMs: 3_600_000, warnLagMs: 1_800_000 },
    });
    expect(parseStatusCommand({ ...base, check: true, 'max-lag': '10m', 'warn-lag': '1h' }, {}).check).toEqual({
      maxLagMs: 600_000,
      warnLagMs: 600_000,
    });
    expect(parseStatusCommand({ ...base, disk: false }, {}).disk).toBe(false);
    expectConfigError(() => parseStatusCommand({ ...base, check: true, 'max-lag': 'long' }, {}), 'max-lag');
  });

  it('export and import: their directory is required; log options are checked', () => {
    expect(parseExportCommand({ ...base, out: 'bundle', full: true }, false, {})).toMatchObject({
      out: path.resolve('bundle'),
      full: true,
      logLevel: 'info',
      logFormat: 'json',
    });
    expectConfigError(() => parseExportCommand(base, false, {}), 'out', /is required/);
    expect(parseImportCommand({ ...base, bundle: '/media/usb/b' }, true, {})).toMatchObject({
      bundle: '/media/usb/b',
      logFormat: 'pretty',
    });
    expectConfigError(() => parseImportCommand(base, false, {}), 'bundle', /is required/);
    expectConfigError(() => parseImportCommand({ ...base, bundle: '/b', 'log-level': 'loud' }, false, {}), 'log-level');
  });

  it('serve: listen address (a number from a config file too), fallback URL, connection cap', () => {
    expect(parseServeCommand(base, {})).toMatchObject({
      listen: { host: '127.0.0.1', port: 8080 },
      sumdbFallbackUrl: undefined,
      maxConnections: undefined,
    });
    const s = parseServeCommand({ ...base, listen: 9000, 'sumdb-fallback': 'on', 'max-connections': '64' }, {});
    expect(s).toMatchObject({
      listen: { host: '127.0.0.1', port: 9000 },
      sumdbFallbackUrl: 'https://sum.golang.org',
      maxConnections: 64,
    });
    expect(parseServeCommand({ ...base, listen: '[::1]:81' }, {}).listen).toEqual({ host: '::1', port: 81 });
    expectConfigError(() => parseServeCommand({ ...base, listen: 'here' }, {}), 'listen');
    expect(errorOf(() => parseServeCommand({ ...base, 'sumdb-fallback': 'ftp://x' }, {})).message).toMatch(
      /sumdb-fallback/,
    );
  });

  it('probe: defaults, and samples from 1 to 99', () => {
    const p = parseProbeCommand({});
    expect(p).toMatchObject({
      index: 'https://index.golang.org/index',
      upstreams: ['https://proxy.golang.org'],
      samples: 3,
      module: undefined,
      json: false,
    });
    expect(
      parseProbeCommand({ upstream: ['http://a/', 'http://b'], samples: 5, 'probe-module': 'x.org/m@v1.0.0' }),
    ).toMatchObject({
      upstreams: ['http://a', 'http://b'],
      samples: 5,
      module: 'x.org/m@v1.0.0',
    });
    expectConfigError(() => parseProbeCommand({ samples: '100' }), 'samples', /1 to 99/);
  });
});
