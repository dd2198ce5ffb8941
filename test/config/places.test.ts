import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commonOptions } from '../../src/cli/common-options.js';
import { optionKinds } from '../../src/cli/config-file.js';
import { parseServeCommand, parseStatusCommand } from '../../src/config/commands.js';
import { parseSyncConfig } from '../../src/config/config.js';
import { checkConfigFile } from '../../src/config/file.js';
import { defaultWorkDir, parsePlaces, parseS3Settings } from '../../src/config/places.js';
import { ErrorCodes } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';

const HOME = { HOME: '/home/op' };

function id(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

describe('parsePlaces: directories', () => {
  it('a directory dest keeps DEST/.gomirror as state, worked on in place', () => {
    const p = parsePlaces({ dest: '/srv/mirror' }, HOME);
    expect(p.dest).toEqual({ kind: 'fs', dir: '/srv/mirror' });
    expect(p.state).toEqual({ kind: 'fs', dir: '/srv/mirror/.gomirror' });
    expect(p.stateDir).toBe('/srv/mirror/.gomirror');
    expect(p.workDir).toBe(`/home/op/.cache/gomirror/${id('/srv/mirror/.gomirror')}`);
  });

  it('without HOME or XDG_CACHE_HOME a directory state works in STATE/work', () => {
    expect(parsePlaces({ dest: '/srv/mirror' }, {}).workDir).toBe('/srv/mirror/.gomirror/work');
  });
});

describe('parsePlaces: buckets', () => {
  const env = { HOME: '/home/op', AWS_ENDPOINT_URL: 'http://127.0.0.1:8000/', AWS_REGION: 'eu-1' };

  it('an s3 dest puts the state under PREFIX/.gomirror/state and works on it in the cache directory', () => {
    const p = parsePlaces({ dest: 's3://mirror/go/', 's3-path-style': true }, env);
    const s3 = { endpoint: 'http://127.0.0.1:8000', pathStyle: true, region: 'eu-1', profile: undefined };
    expect(p.dest).toEqual({ kind: 's3', bucket: 'mirror', prefix: 'go', s3 });
    expect(p.state).toEqual({ kind: 's3', bucket: 'mirror', prefix: 'go/.gomirror/state', s3 });
    const work = `/home/op/.cache/gomirror/${id('s3://mirror/go/.gomirror/state')}`;
    expect(p.workDir).toBe(work);
    expect(p.stateDir).toBe(path.join(work, 'state'));
  });

  it('at the bucket root the state is .gomirror/state', () => {
    const p = parsePlaces({ dest: 's3://mirror' }, env);
    expect(p.state).toMatchObject({ kind: 's3', bucket: 'mirror', prefix: '.gomirror/state' });
  });

  it('--state and --work-dir override the defaults; XDG_CACHE_HOME before HOME', () => {
    const p = parsePlaces({ dest: 's3://mirror/go', state: '/var/lib/gomirror', 'work-dir': 'rel/work' }, env);
    expect(p.state).toEqual({ kind: 'fs', dir: '/var/lib/gomirror' });
    expect(p.stateDir).toBe('/var/lib/gomirror');
    expect(p.workDir).toBe(path.resolve('rel/work'));
    const q = parsePlaces({ dest: '/srv/m', state: 's3://b-1/st' }, { ...env, XDG_CACHE_HOME: '/cache' });
    expect(q.state).toMatchObject({ kind: 's3', bucket: 'b-1', prefix: 'st' });
    expect(q.workDir).toBe(`/cache/gomirror/${id('s3://b-1/st')}`);
    expect(q.stateDir).toBe(`/cache/gomirror/${id('s3://b-1/st')}/state`);
  });

  it('a bucket state without HOME, XDG_CACHE_HOME or --work-dir is a CONFIG error naming work-dir', () => {
    const err = errorOf(() => parsePlaces({ dest: 's3://mirror' }, {}));
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toContain('"work-dir"');
    expect(defaultWorkDir({ kind: 'fs', dir: '/x' }, {})).toBeUndefined();
  });

  it('a bad bucket URL is a CONFIG error naming the option', () => {
    for (const [raw, key] of [
      [{ dest: 's3://A_B' }, 'dest'],
      [{ dest: '/srv', state: 's3://ok-bucket/a/../b' }, 'state'],
    ] as const) {
      const err = errorOf(() => parsePlaces(raw, HOME));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain(`"${key}"`);
    }
  });
});

describe('parseS3Settings', () => {
  it('--s3-endpoint wins over AWS_ENDPOINT_URL_S3, which wins over AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL_S3: 'http://s3only:1', AWS_ENDPOINT_URL: 'http://all:2' };
    expect(parseS3Settings({ 's3-endpoint': 'https://flag:3/' }, env).endpoint).toBe('https://flag:3');
    expect(parseS3Settings({}, env).endpoint).toBe('http://s3only:1');
    expect(parseS3Settings({}, { AWS_ENDPOINT_URL: 'http://all:2' }).endpoint).toBe('http://all:2');
    expect(parseS3Settings({}, {}).endpoint).toBeUndefined();
  });

  it('region from AWS_REGION, else AWS_DEFAULT_REGION; profile from AWS_PROFILE; path style off by default', () => {
    expect(parseS3Settings({}, { AWS_REGION: 'a', AWS_DEFAULT_REGION: 'b', AWS_PROFILE: 'p' })).toEqual({
      endpoint: undefined,
      pathStyle: false,
      region: 'a',
      profile: 'p',
    });
    expect(parseS3Settings({}, { AWS_DEFAULT_REGION: 'b' }).region).toBe('b');
    expect(parseS3Settings({ 's3-path-style': 'true' }, {}).pathStyle).toBe(true);
  });

  it('an endpoint that is not an http(s) URL is a CONFIG error naming where it came from', () => {
    const flagErr = errorOf(() => parseS3Settings({ 's3-endpoint': 'ftp://x' }, {}));
    expect(flagErr.code).toBe(ErrorCodes.CONFIG);
    expect(flagErr.message).toContain('s3-endpoint');
    const envErr = errorOf(() => parseS3Settings({}, { AWS_ENDPOINT_URL: 'not a url' }));
    expect(envErr.code).toBe(ErrorCodes.CONFIG);
    expect(envErr.message).toContain('AWS_ENDPOINT_URL');
    const typeErr = errorOf(() => parseS3Settings({ 's3-path-style': 'yes' }, {}));
    expect(typeErr.message).toContain('"s3-path-style"');
  });
});

describe('every command takes bucket locations', () => {
  it('sync, status and serve see the same places', () => {
    const raw = { dest: 's3://mirror/go', 's3-endpoint': 'http://rgw:8000', 's3-path-style': true };
    const sync = parseSyncConfig(raw, false, HOME);
    expect(sync.dest).toMatchObject({ kind: 's3', bucket: 'mirror', prefix: 'go' });
    expect(sync.state).toMatchObject({ kind: 's3', prefix: 'go/.gomirror/state' });
    expect(parseStatusCommand(raw, HOME).dest).toEqual(sync.dest);
    expect(parseServeCommand(raw, HOME).dest).toEqual(sync.dest);
  });

  it('config files take the new keys with strict types', () => {
    const kinds = optionKinds(commonOptions);
    const ok = checkConfigFile(
      { dest: 's3://b/p', s3Endpoint: 'http://rgw:8000', 's3-path-style': true, 'work-dir': '/w' },
      '/etc/g.json',
      kinds,
    );
    expect(ok.unknownKeys).toEqual([]);
    for (const bad of [{ 's3-path-style': 'yes' }, { 's3-endpoint': 8000 }, { 'work-dir': ['/a'] }]) {
      const err = errorOf(() => checkConfigFile(bad, '/etc/g.json', kinds));
      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain(Object.keys(bad)[0]);
    }
  });
});
