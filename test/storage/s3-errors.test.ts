import { NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { isS3NotFound, isTransientS3, s3ErrorFacts, s3Failure, type S3Context } from '../../src/storage/s3-errors.js';
import { withS3Retries } from '../../src/storage/s3-retry.js';

const meta = (httpStatusCode: number) => ({ httpStatusCode, attempts: 1, totalRetryDelay: 0 });

/** An error response the SDK has no class for, as its XML deserializer builds it (name and Code from the body). */
function serviceError(code: string, status: number, message = code): S3ServiceException {
  const err = new S3ServiceException({
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: meta(status),
    message,
  });
  return Object.assign(err, { Code: code });
}

/** A Node network error as the HTTP handler rejects with it. */
function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect', $metadata: {} });
}

const put: S3Context = { op: 'put', endpoint: 'http://127.0.0.1:8000', bucket: 'b', key: 'p/x.zip' };
const open: S3Context = { op: 'open', endpoint: 'http://127.0.0.1:8000', bucket: 'b' };

describe('s3Failure', () => {
  it('names operation, object, endpoint and S3 code on one line, with the detail', () => {
    const err = s3Failure(serviceError('AccessDenied', 403, 'Access Denied'), put);
    expect(err).toBeInstanceOf(GomirrorError);
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toMatch(/^s3 put s3:\/\/b\/p\/x\.zip at http:\/\/127\.0\.0\.1:8000: AccessDenied \(HTTP 403\)/);
    expect(err.message).not.toContain('\n');
    expect(err.op).toBe('s3.put');
    expect(err.detail).toEqual({
      endpoint: 'http://127.0.0.1:8000',
      bucket: 'b',
      key: 'p/x.zip',
      s3Code: 'AccessDenied',
      httpStatus: 403,
    });
    expect(err.cause).toBeInstanceOf(S3ServiceException);
  });

  it.each([
    ['InvalidAccessKeyId', 403],
    ['SignatureDoesNotMatch', 403],
    ['AccessDenied', 403],
    ['NoSuchBucket', 404],
    ['PermanentRedirect', 301],
    ['AuthorizationHeaderMalformed', 400],
    ['ExpiredToken', 400],
  ])('%s (HTTP %i) is a configuration error, never retried', (code, status) => {
    const e = serviceError(code, status);
    expect(s3Failure(e, put).code).toBe(ErrorCodes.CONFIG);
    expect(isTransientS3(e)).toBe(false);
  });

  it('the SDK classes: NoSuchKey and NotFound are NOT_FOUND on a key, NoSuchBucket is CONFIG', () => {
    const noKey = new NoSuchKey({ message: 'The specified key does not exist.', $metadata: meta(404) });
    const headMissing = new NotFound({ message: 'NotFound', $metadata: meta(404) });
    const noBucket = new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: meta(404) });
    expect(s3Failure(noKey, put).code).toBe(ErrorCodes.NOT_FOUND);
    expect(s3Failure(headMissing, put).code).toBe(ErrorCodes.NOT_FOUND);
    expect(s3Failure(noBucket, put).code).toBe(ErrorCodes.CONFIG);
    expect(s3Failure(noBucket, put).message).toContain('NoSuchBucket (HTTP 404)');
    expect([isS3NotFound(noKey), isS3NotFound(headMissing), isS3NotFound(noBucket)]).toEqual([true, true, false]);
  });

  it('a HEAD without a body (HeadBucket): 404 on the bucket is CONFIG, 403 is CONFIG', () => {
    const notFound = new NotFound({ message: 'NotFound', $metadata: meta(404) });
    const forbidden = serviceError('Forbidden', 403, 'UnknownError');
    expect(s3Failure(notFound, open).code).toBe(ErrorCodes.CONFIG);
    expect(s3Failure(notFound, open).message).toBe(
      's3 open s3://b at http://127.0.0.1:8000: NotFound (HTTP 404), the bucket does not exist',
    );
    expect(s3Failure(forbidden, open).code).toBe(ErrorCodes.CONFIG);
    // An unnamed status (the SDK names it by the number) is still classified by status.
    const unnamed = new S3ServiceException({ name: '403', $fault: 'client', $metadata: meta(403), message: '' });
    expect(s3ErrorFacts(unnamed)).toEqual({ code: 'HTTP403', httpStatus: 403 });
    expect(s3Failure(unnamed, open).code).toBe(ErrorCodes.CONFIG);
  });

  it.each([
    ['QuotaExceeded', 403],
    ['InsufficientCapacity', 507],
    ['XMinioStorageFull', 507],
  ])('%s is NO_SPACE', (code, status) => {
    const err = s3Failure(serviceError(code, status), put);
    expect(err.code).toBe(ErrorCodes.NO_SPACE);
    expect(isTransientS3(serviceError(code, status))).toBe(false);
  });

  it.each([
    ['SlowDown', 503],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['RequestTimeout', 400],
    ['UnknownError', 502],
  ])('%s (HTTP %i) is transient, then IO', (code, status) => {
    const e = serviceError(code, status);
    expect(isTransientS3(e)).toBe(true);
    expect(s3Failure(e, put).code).toBe(ErrorCodes.IO);
  });

  it.each([
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'],
    ['ECONNRESET', 'socket hang up'],
    ['ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND s3.invalid'],
  ])('network error %s is transient, then IO naming the code and the reason', (code, message) => {
    const e = networkError(code, message);
    expect(isTransientS3(e)).toBe(true);
    const err = s3Failure(e, put);
    expect(err.code).toBe(ErrorCodes.IO);
    expect(err.message).toBe(`s3 put s3://b/p/x.zip at http://127.0.0.1:8000: ${code}, ${message}`);
    expect(err.detail).toEqual({ endpoint: put.endpoint, bucket: 'b', key: 'p/x.zip', s3Code: code });
  });

  it('socket hang up without a code, AggregateError of a dual-stack connect, and the handler TimeoutError', () => {
    expect(s3ErrorFacts(new Error('socket hang up')).code).toBe('ECONNRESET');
    const both = new AggregateError([networkError('ECONNREFUSED', 'connect ECONNREFUSED ::1:1')], '');
    expect(s3ErrorFacts(both).code).toBe('ECONNREFUSED');
    expect(isTransientS3(both)).toBe(true);
    const timeout = Object.assign(new Error('Connection timed out after 100 ms'), { name: 'TimeoutError' });
    expect(isTransientS3(timeout)).toBe(true);
    expect(s3Failure(timeout, put).message).toBe(
      's3 put s3://b/p/x.zip at http://127.0.0.1:8000: TimeoutError, Connection timed out after 100 ms',
    );
    expect(s3Failure(timeout, put).code).toBe(ErrorCodes.IO);
  });

  it('missing credentials are a configuration error', () => {
    const e = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const err = s3Failure(e, open);
    expect(err.code).toBe(ErrorCodes.CONFIG);
    expect(err.message).toMatch(/CredentialsProviderError, no credentials/);
  });

  it('a long multi-line reason stays one short line; a GomirrorError passes through', () => {
    const err = s3Failure(networkError('EPIPE', `write EPIPE\n${'x'.repeat(400)}`), put);
    expect(err.message).not.toContain('\n');
    expect(err.message.length).toBeLessThan(260);
    const mine = new GomirrorError(ErrorCodes.IO, 'cannot read /tmp/x', { op: 'storage.put' });
    expect(s3Failure(mine, put)).toBe(mine);
  });
});

describe('withS3Retries', () => {
  const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

  it('retries transient failures up to the bound, then rethrows the last', async () => {
    let calls = 0;
    const err = await withS3Retries(async () => {
      calls++;
      throw serviceError('SlowDown', 503);
    }, fast).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect((err as S3ServiceException).name).toBe('SlowDown');
  });

  it('returns the first success and never retries a non-transient failure', async () => {
    let calls = 0;
    const ok = await withS3Retries(async () => {
      calls++;
      if (calls < 3) throw networkError('ECONNRESET', 'socket hang up');
      return 'done';
    }, fast);
    expect([ok, calls]).toEqual(['done', 3]);
    calls = 0;
    await expect(
      withS3Retries(async () => {
        calls++;
        throw serviceError('AccessDenied', 403);
      }, fast),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(calls).toBe(1);
  });
});
