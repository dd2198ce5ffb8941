/**
 * The one mapping of S3 failures (errors of the AWS SDK: S3 error responses,
 * network errors, timeouts, missing credentials) to gomirror errors, for
 * everything that talks to a bucket. Pure: it reads the error's fields
 * (`name`/`Code`, `$metadata.httpStatusCode`, a Node `code`) and never the
 * SDK itself.
 *
 * Classes: configuration (wrong credentials, missing bucket, access denied,
 * read-only bucket, wrong region or endpoint) → CONFIG (exit 2); transient
 * (network, timeouts, 5xx, SlowDown) → IO, retried with backoff by the
 * caller first; a full bucket or exceeded quota → NO_SPACE; a missing key →
 * NOT_FOUND; anything else → IO, not retried.
 */
import { type ErrorCode, ErrorCodes, GomirrorError } from '../errors.js';

/** What was being done, for the message and the error's detail. */
export interface S3Context {
  /** The S3 operation in words: put, get, head, list, delete, copy, open. */
  op: string;
  /** The endpoint, as the client was configured (or "AWS"). */
  endpoint: string;
  bucket: string;
  /** The full object key (with the tree prefix), or the listing prefix; undefined for the bucket itself. */
  key?: string;
}

/** What an error says about itself, whatever its kind. */
export interface S3ErrorFacts {
  /** The S3 error code (AccessDenied, NoSuchKey, …) or the network error code (ECONNREFUSED, TimeoutError, …). */
  code: string;
  /** The HTTP status of the response, when there was one. */
  httpStatus: number | undefined;
}

/** Codes that mean the credentials, the bucket, the region or the endpoint are wrong (or writing is not allowed). */
const CONFIG_CODES: ReadonlyMap<string, string> = new Map([
  ['InvalidAccessKeyId', 'the access key is not known to the endpoint (AWS_ACCESS_KEY_ID, AWS_PROFILE)'],
  ['SignatureDoesNotMatch', 'the secret key does not match the access key (AWS_SECRET_ACCESS_KEY, AWS_PROFILE)'],
  ['InvalidToken', 'the session token is not valid (AWS_SESSION_TOKEN)'],
  ['ExpiredToken', 'the session token has expired (AWS_SESSION_TOKEN)'],
  ['TokenRefreshRequired', 'the session token has expired (AWS_SESSION_TOKEN)'],
  ['CredentialsProviderError', 'no credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)'],
  ['AccessDenied', 'access denied (the credentials may not do this on the bucket: read-only?)'],
  ['AllAccessDisabled', 'all access to the bucket is disabled'],
  ['AccountProblem', 'the account cannot be used'],
  ['UserSuspended', 'the user is suspended'],
  ['Forbidden', 'access denied (the credentials may not do this on the bucket)'],
  ['NoSuchBucket', 'the bucket does not exist'],
  ['InvalidBucketName', 'the bucket name is not valid'],
  ['PermanentRedirect', 'the bucket is in another region or at another endpoint (AWS_REGION, --s3-endpoint)'],
  ['AuthorizationHeaderMalformed', 'the region does not match the endpoint (AWS_REGION)'],
  ['IllegalLocationConstraintException', 'the region does not match the bucket (AWS_REGION)'],
  ['MethodNotAllowed', 'the endpoint does not allow this request on the bucket'],
]);

/** Codes that mean the bucket (or the cluster behind it) has no room. */
const NO_SPACE_CODES = new Set(['QuotaExceeded', 'InsufficientCapacity', 'XMinioStorageFull', 'InsufficientStorage']);

/** S3 error codes worth retrying whatever their status. */
const TRANSIENT_CODES = new Set([
  'SlowDown',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Node network error codes (all transient). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The error's S3 or network code and HTTP status. */
export function s3ErrorFacts(err: unknown): S3ErrorFacts {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorShape;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const nodeCode = networkCode(e);
  if (nodeCode !== undefined) return { code: nodeCode, httpStatus: status };
  if (typeof e.Code === 'string' && e.Code !== '') return { code: e.Code, httpStatus: status };
  const name = typeof e.name === 'string' ? e.name : '';
  if (name !== '' && name !== 'Error' && name !== 'Unknown' && name !== 'UnknownError' && !/^\d+$/.test(name)) {
    return { code: name, httpStatus: status };
  }
  return { code: status !== undefined ? `HTTP${status}` : 'UnknownError', httpStatus: status };
}

/** The Node network code of e (or of the first of an AggregateError's errors), when it has one. */
function networkCode(e: ErrorShape): string | undefined {
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || /^E[A-Z0-9_]+$/.test(e.code))) return e.code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors as ErrorShape[]) {
      if (typeof inner?.code === 'string') return inner.code;
    }
  }
  if (typeof e.message === 'string' && /socket hang up/i.test(e.message)) return 'ECONNRESET';
  return undefined;
}

/** True for a failure worth retrying: network, timeout, 5xx, throttling. */
export function isTransientS3(err: unknown): boolean {
  const { code, httpStatus } = s3ErrorFacts(err);
  if (NETWORK_CODES.has(code) || TRANSIENT_CODES.has(code)) return true;
  if (NO_SPACE_CODES.has(code) || CONFIG_CODES.has(code)) return false;
  return httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429) && httpStatus !== 501;
}

/** True when the error says there is no such key (404 NoSuchKey / NotFound, not a missing bucket). */
export function isS3NotFound(err: unknown): boolean {
  const { code, httpStatus } = s3ErrorFacts(err);
  return code === 'NoSuchKey' || code === 'NotFound' || (httpStatus === 404 && code !== 'NoSuchBucket');
}

/** The gomirror code for an error met while doing ctx (keyless contexts take a 404 for a missing bucket). */
function classify(facts: S3ErrorFacts, ctx: S3Context, transient: boolean): ErrorCode {
  if (NO_SPACE_CODES.has(facts.code) || facts.httpStatus === 507) return ErrorCodes.NO_SPACE;
  if (CONFIG_CODES.has(facts.code)) return ErrorCodes.CONFIG;
  if (facts.httpStatus === 404) return ctx.key === undefined ? ErrorCodes.CONFIG : ErrorCodes.NOT_FOUND;
  if (facts.code === 'NoSuchKey' || facts.code === 'NotFound') return ErrorCodes.NOT_FOUND;
  if (!transient && (facts.httpStatus === 403 || facts.httpStatus === 301 || facts.httpStatus === 401)) {
    return ErrorCodes.CONFIG;
  }
  return ErrorCodes.IO;
}

/** `s3://bucket/key` (or `s3://bucket` for the bucket itself). */
export function s3Url(bucket: string, key?: string): string {
  return key === undefined || key === '' ? `s3://${bucket}` : `s3://${bucket}/${key}`;
}

/**
 * What the error says beyond its code, on one line and short (network and timeout errors only: S3's own messages repeat
 * the code).
 */
function reason(err: unknown, facts: S3ErrorFacts, code: ErrorCode): string | undefined {
  if (code === ErrorCodes.CONFIG) {
    const hint = CONFIG_CODES.get(facts.code);
    if (hint !== undefined) return hint;
    if (facts.httpStatus === 404) return 'the bucket does not exist';
  }
  if (code === ErrorCodes.NO_SPACE) return 'the bucket is full or its quota is exceeded';
  if (facts.httpStatus !== undefined) return undefined;
  const message = err instanceof Error ? err.message : String(err);
  const line = message.replace(/\s+/g, ' ').trim();
  if (line === '' || line === facts.code) return undefined;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/**
 * The GomirrorError for an S3 failure met while doing ctx: one line naming
 * the operation, `s3://bucket/key`, the endpoint and the S3 (or network)
 * error code, e.g. `s3 put s3://b/p/x.zip at http://127.0.0.1:8000:
 * AccessDenied (HTTP 403), access denied (…)`. A GomirrorError is returned
 * as it is.
 */
export function s3Failure(err: unknown, ctx: S3Context): GomirrorError {
  if (err instanceof GomirrorError) return err;
  const facts = s3ErrorFacts(err);
  const code = classify(facts, ctx, isTransientS3(err));
  const status = facts.httpStatus !== undefined ? ` (HTTP ${facts.httpStatus})` : '';
  const why = reason(err, facts, code);
  const message =
    `s3 ${ctx.op} ${s3Url(ctx.bucket, ctx.key)} at ${ctx.endpoint}: ` +
    `${facts.code}${status}${why !== undefined ? `, ${why}` : ''}`;
  return new GomirrorError(code, message, {
    op: `s3.${ctx.op}`,
    detail: {
      endpoint: ctx.endpoint,
      bucket: ctx.bucket,
      ...(ctx.key !== undefined && { key: ctx.key }),
      s3Code: facts.code,
      ...(facts.httpStatus !== undefined && { httpStatus: facts.httpStatus }),
    },
    cause: err,
  });
}
