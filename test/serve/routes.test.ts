import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { isAllowedMethod, normalizeRequestPath } from '../../src/serve/routes.js';
import { parseListen } from '../../src/serve/server.js';

describe('normalizeRequestPath', () => {
  it.each([
    ['/a/b/@v/list', '/a/b/@v/list'],
    ['/a//b/./@v/list', '/a/b/@v/list'],
    ['/a/x/../b/@v/list', '/a/b/@v/list'],
    ['/%21a/@v/list?x=1', '/!a/@v/list'],
    ['/a%2fb/@v/list', '/a/b/@v/list'],
    ['/a/', '/a/'],
    ['/', '/'],
  ])('%s -> %s', (input, out) => {
    expect(normalizeRequestPath(input)).toBe(out);
  });

  it.each(['/../x', '/%2e%2e/x', '/a/%2e%2e/..', '/a%00', '/%zz', 'a/b', '/a\\b'])('refuses %s', (input) => {
    expect(normalizeRequestPath(input)).toBeUndefined();
  });
});

describe('isAllowedMethod', () => {
  it('allows GET and HEAD only', () => {
    expect(['GET', 'HEAD', 'POST', 'get', undefined].map(isAllowedMethod)).toEqual([true, true, false, false, false]);
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['8080', { host: '127.0.0.1', port: 8080 }],
    [':9000', { host: '127.0.0.1', port: 9000 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
  ])('%s', (input, out) => {
    expect(parseListen(input)).toEqual(out);
  });

  it.each(['', 'host', 'a:b', '1.2.3.4:70000', '[::1]'])('refuses %j naming the key', (input) => {
    expect(() => parseListen(input)).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringMatching(/"listen"/) }),
    );
  });
});
