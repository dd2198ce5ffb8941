import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import {
  bodyExcerpt,
  classifyError,
  classifyStatus,
  isRedirect,
  joinUrl,
  parseContentLength,
  redirectTarget,
} from '../../src/fetch/classify.js';

describe('joinUrl', () => {
  it('joins with exactly one slash', () => {
    expect(joinUrl('https://p.example', 'a/@v/list')).toBe('https://p.example/a/@v/list');
    expect(joinUrl('https://p.example/', 'a/@v/list')).toBe('https://p.example/a/@v/list');
    expect(joinUrl('https://p.example/sub/', 'index?since=x')).toBe('https://p.example/sub/index?since=x');
  });
});

describe('classifyStatus', () => {
  it('maps statuses to retry / missing / fatal', () => {
    expect(classifyStatus(404, undefined, 0)).toMatchObject({ kind: 'missing', code: ErrorCodes.NOT_FOUND });
    expect(classifyStatus(410, undefined, 0)).toMatchObject({ kind: 'missing', code: ErrorCodes.GONE });
    expect(classifyStatus(503, undefined, 0)).toMatchObject({ kind: 'retry', code: ErrorCodes.HTTP, status: 503 });
    expect(classifyStatus(408, undefined, 0)).toMatchObject({ kind: 'retry' });
    expect(classifyStatus(403, undefined, 0)).toMatchObject({ kind: 'fatal', code: ErrorCodes.HTTP });
    expect(classifyStatus(204, undefined, 0)).toMatchObject({ kind: 'fatal', reason: 'unexpected HTTP 204' });
  });

  it('adds the first line of a 404/410 body to the reason (proxy.golang.org explains, e.g. "fetch timed out")', () => {
    expect(
      classifyStatus(410, undefined, 0, '\nnot found: example.com/m@v1.0.0: fetch timed out\nmore\n'),
    ).toMatchObject({
      kind: 'missing',
      code: ErrorCodes.GONE,
      reason: 'HTTP 410: not found: example.com/m@v1.0.0: fetch timed out',
    });
    expect(classifyStatus(404, undefined, 0, '')).toMatchObject({ reason: 'HTTP 404' });
    expect(bodyExcerpt('a\u0000b\u001b[31m')).toBe('a?b?[31m');
    expect(bodyExcerpt('x'.repeat(500))).toBe(`${'x'.repeat(200)}…`);
  });

  it('carries Retry-After of a 429', () => {
    expect(classifyStatus(429, '3', 0)).toMatchObject({ kind: 'retry', retryAfterMs: 3000 });
    expect(classifyStatus(429, undefined, 0).retryAfterMs).toBeUndefined();
  });
});

describe('classifyError', () => {
  const err = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });

  it('recognises timeouts, including a timeout cause', () => {
    expect(classifyError(err('UND_ERR_BODY_TIMEOUT'), 'body').code).toBe(ErrorCodes.TIMEOUT);
    expect(classifyError(err('UND_ERR_CONNECT_TIMEOUT'), 'headers').code).toBe(ErrorCodes.TIMEOUT);
    expect(classifyError(err('UND_ERR_SOCKET', err('ETIMEDOUT')), 'headers').code).toBe(ErrorCodes.TIMEOUT);
  });

  it('treats errors while reading the body as truncation, before it as HTTP', () => {
    expect(classifyError(err('UND_ERR_SOCKET', err('ECONNRESET')), 'body')).toMatchObject({
      kind: 'retry',
      code: ErrorCodes.TRUNCATED,
    });
    const before = classifyError(err('UND_ERR_SOCKET', err('ECONNRESET')), 'headers');
    expect(before).toMatchObject({ kind: 'retry', code: ErrorCodes.HTTP });
    expect(before.reason).toContain('ECONNRESET');
  });

  it('does not retry programming errors', () => {
    expect(classifyError(err('UND_ERR_INVALID_ARG'), 'headers').kind).toBe('fatal');
  });
});

describe('parseContentLength', () => {
  it('accepts plain decimals only', () => {
    expect(parseContentLength('42')).toBe(42);
    expect(parseContentLength(undefined)).toBeUndefined();
    expect(parseContentLength('4x')).toBeUndefined();
    expect(parseContentLength(['1', '2'])).toBeUndefined();
  });
});

describe('redirects', () => {
  it('knows redirect statuses', () => {
    expect([301, 302, 303, 307, 308].every(isRedirect)).toBe(true);
    expect(isRedirect(304)).toBe(false);
  });

  it('resolves relative Locations and refuses other schemes', () => {
    expect(redirectTarget('http://a/x/y', '../z', 302)).toBe('http://a/z');
    expect(redirectTarget('http://a/x', 'https://b/q?r=1', 301)).toBe('https://b/q?r=1');
    expect(redirectTarget('http://a/x', 'ftp://b/q', 302)).toMatchObject({ kind: 'fatal' });
    expect(redirectTarget('http://a/x', undefined, 302)).toMatchObject({ kind: 'fatal' });
  });
});
