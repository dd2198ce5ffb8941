import { describe, expect, it } from 'vitest';
import { checkConfigFile, type OptionKind } from '../../src/config/file.js';
import { ErrorCodes } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';

const kinds: Record<string, OptionKind> = {
  dest: 'string',
  concurrency: 'number',
  'dry-run': 'boolean',
  upstream: 'list',
  'max-versions': 'number',
};
const F = '/etc/gomirror.json';

function rejects(parsed: unknown, text: RegExp): void {
  const err = errorOf(() => checkConfigFile(parsed, F, kinds));
  expect(err.code).toBe(ErrorCodes.CONFIG);
  expect(err.message).toContain(`config file ${F}`);
  expect(err.message).toMatch(text);
}

describe('checkConfigFile', () => {
  it('keeps known keys of the right kind (kebab-case or camelCase)', () => {
    const r = checkConfigFile(
      { dest: '/srv', concurrency: 4, dryRun: true, upstream: ['http://a', 'http://b'], 'max-versions': '10' },
      F,
      kinds,
    );
    expect(r.values).toEqual({
      dest: '/srv',
      concurrency: 4,
      dryRun: true,
      upstream: ['http://a', 'http://b'],
      'max-versions': '10',
    });
    expect(r.unknownKeys).toEqual([]);
    expect(checkConfigFile({ upstream: 'http://a,http://b' }, F, kinds).values).toEqual({
      upstream: 'http://a,http://b',
    });
  });

  it('a number, a list, a boolean or null where a string belongs is an error naming the key', () => {
    rejects({ dest: 123 }, /"dest": expected a string, got 123/);
    rejects({ dest: ['/a', '/b'] }, /"dest": expected a string, got a list \["\/a","\/b"\]/);
    rejects({ dest: true }, /"dest": expected a string/);
    rejects({ dest: null }, /"dest": expected a string, got null/);
  });

  it('numeric options take a number or a string, not a list; booleans only true or false; lists only strings', () => {
    rejects({ concurrency: [4, 8] }, /"concurrency": expected a string or a number, got a list/);
    rejects({ 'dry-run': 'yes' }, /"dry-run": expected true or false, got "yes"/);
    rejects({ upstream: ['http://a', 7] }, /"upstream": expected a string or a list of strings/);
    rejects({ upstream: { url: 'http://a' } }, /"upstream": expected a string or a list of strings/);
  });

  it('returns unknown keys for a warning and drops them', () => {
    const r = checkConfigFile({ dest: '/srv', destination: '/x', 'log-levle': 'debug' }, F, kinds);
    expect(r.values).toEqual({ dest: '/srv' });
    expect(r.unknownKeys).toEqual(['destination', 'log-levle']);
    // Inherited names are no options.
    expect(checkConfigFile({ toString: 'x' }, F, kinds).unknownKeys).toEqual(['toString']);
  });

  it('anything but a JSON object is an error naming the file', () => {
    rejects([{ dest: '/srv' }], /must hold a JSON object, got a list/);
    rejects('dest', /must hold a JSON object, got string/);
    rejects(null, /must hold a JSON object, got null/);
  });
});
