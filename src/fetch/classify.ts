/**
 * Pure classification of HTTP outcomes: which statuses and errors are worth
 * a retry on the same upstream, which mean "try the next upstream", and what
 * error code they end up as.
 */
import { ErrorCodes, type ErrorCode } from '../errors.js';
import { parseRetryAfter } from './backoff.js';

/**
 * What went wrong with one attempt.
 * - `retry`: transient (5xx, 429, network, timeout, truncation): back off and retry the same upstream.
 * - `missing`: 404/410: the next upstream may have it (GOPROXY fallback).
 * - `fatal`: retrying this upstream will not help (other 4xx, bad redirect): next upstream.
 */
export interface AttemptFailure {
  kind: 'retry' | 'missing' | 'fatal';
  code: ErrorCode;
  /** HTTP status when a response was received. */
  status?: number;
  /** Short human-readable reason, e.g. "HTTP 503" or "UND_ERR_SOCKET: other side closed". */
  reason: string;
  /** Wait asked for by the server (429 + Retry-After), in ms. */
  retryAfterMs?: number;
}

/**
 * The first line of an error body, printable and at most 200 characters, for
 * messages: proxy.golang.org explains its 404/410 there (e.g. "not found:
 * …: fetch timed out", which is worth another try later).
 */
export function bodyExcerpt(text: string): string {
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  const printable = line.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 200 ? `${printable.slice(0, 200)}…` : printable;
}

/**
 * Classifies a non-200, non-redirect response status (`retryAfter` is the raw
 * header, `body` the start of the response body). 404 and 410 are "missing"
 * (the next upstream may have it); their body's first line joins the reason.
 */
export function classifyStatus(
  status: number,
  retryAfter: string | undefined,
  nowMs: number,
  body = '',
): AttemptFailure {
  const reason = `HTTP ${status}`;
  const said = bodyExcerpt(body);
  const missingReason = said === '' ? reason : `${reason}: ${said}`;
  if (status === 404) return { kind: 'missing', code: ErrorCodes.NOT_FOUND, status, reason: missingReason };
  if (status === 410) return { kind: 'missing', code: ErrorCodes.GONE, status, reason: missingReason };
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
    return retryAfterMs === undefined
      ? { kind: 'retry', code: ErrorCodes.HTTP, status, reason }
      : {
          kind: 'retry',
          code: ErrorCodes.HTTP,
          status,
          reason: `${reason} (Retry-After ${retryAfterMs} ms)`,
          retryAfterMs,
        };
  }
  if (status >= 500 || status === 408) return { kind: 'retry', code: ErrorCodes.HTTP, status, reason };
  if (status >= 400) return { kind: 'fatal', code: ErrorCodes.HTTP, status, reason };
  return { kind: 'fatal', code: ErrorCodes.HTTP, status, reason: `unexpected ${reason}` };
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const FATAL_CODES = new Set(['UND_ERR_INVALID_ARG', 'ERR_INVALID_URL', 'UND_ERR_NOT_SUPPORTED']);

function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** "CODE: message" of an error, with its cause's code when it has one (e.g. ECONNRESET under UND_ERR_SOCKET). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = errorCodeOf(err);
  const cause = errorCodeOf(err.cause);
  const head = code === undefined ? err.message : `${code}: ${err.message}`;
  return cause === undefined || cause === code ? head : `${head} (${cause})`;
}

/**
 * Classifies an error thrown by the HTTP client: `phase` says whether the
 * response headers had been received ("body") or not ("headers").
 */
export function classifyError(err: unknown, phase: 'headers' | 'body'): AttemptFailure {
  const reason = describeError(err);
  const code = errorCodeOf(err);
  const causeCode = err instanceof Error ? errorCodeOf(err.cause) : undefined;
  if (code !== undefined && FATAL_CODES.has(code)) return { kind: 'fatal', code: ErrorCodes.HTTP, reason };
  if ((code !== undefined && TIMEOUT_CODES.has(code)) || (causeCode !== undefined && TIMEOUT_CODES.has(causeCode))) {
    return { kind: 'retry', code: ErrorCodes.TIMEOUT, reason };
  }
  if (phase === 'body' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return { kind: 'retry', code: ErrorCodes.TRUNCATED, reason: `body cut short: ${reason}` };
  }
  return { kind: 'retry', code: ErrorCodes.HTTP, reason };
}

/** The numeric Content-Length of a response, or undefined when absent or not a plain decimal. */
export function parseContentLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `base` joined with `relPath` by exactly one "/" (relPath never starts with "/"). */
export function joinUrl(base: string, relPath: string): string {
  return base.endsWith('/') ? base + relPath : `${base}/${relPath}`;
}

/** True for the statuses whose Location the fetcher follows. */
export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The absolute http(s) URL a redirect points to, or a fatal failure when it is missing or another scheme. */
export function redirectTarget(
  from: string,
  location: string | string[] | undefined,
  status: number,
): string | AttemptFailure {
  const bad = (why: string): AttemptFailure => ({
    kind: 'fatal',
    code: ErrorCodes.HTTP,
    status,
    reason: `HTTP ${status} ${why}`,
  });
  if (typeof location !== 'string' || location === '') return bad('without a Location header');
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return bad(`to an invalid Location ${JSON.stringify(location)}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return bad(`to a non-http(s) URL ${JSON.stringify(target.href)}`);
  }
  return target.href;
}
