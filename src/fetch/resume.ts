/**
 * Resuming an interrupted download with HTTP Range (pure): when a response
 * can be continued, how to ask for the rest, and whether a 206 is the rest.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseContentLength } from './classify.js';

/** What a cut-short response allows: continuing the same entity (validator) of `total` bytes. */
export interface ResumePoint {
  /** A strong ETag, or else Last-Modified, sent back as If-Range. */
  validator: string;
  total: number;
}

/** A resumed request: the bytes kept and the entity they belong to. */
export interface RangePlan extends ResumePoint {
  offset: number;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** The If-Range validator of a response: a strong ETag (weak ones may not be used), else Last-Modified. */
export function validatorOf(headers: IncomingHttpHeaders): string | undefined {
  const etag = header(headers, 'etag');
  if (etag !== undefined && /^"[^"]*"$/.test(etag)) return etag;
  return header(headers, 'last-modified');
}

/**
 * Where a response that broke off may be resumed: a 200 that said
 * `Accept-Ranges: bytes` with a validator and a Content-Length, or a 206 of
 * `plan` (which proved range support). Undefined when it cannot be.
 */
export function resumePointOf(
  status: number,
  headers: IncomingHttpHeaders,
  plan: RangePlan | undefined,
): ResumePoint | undefined {
  if (status === 206 && plan !== undefined) {
    const validator = validatorOf(headers) ?? plan.validator;
    return validator === plan.validator ? { validator, total: plan.total } : undefined;
  }
  if (status !== 200) return undefined;
  const ranges = (header(headers, 'accept-ranges') ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim());
  const validator = validatorOf(headers);
  const total = parseContentLength(headers['content-length']);
  if (!ranges.includes('bytes') || validator === undefined || total === undefined || total === 0) return undefined;
  return { validator, total };
}

/** The request headers that ask for the rest of `plan`'s entity, or the whole of a changed one. */
export function rangeHeaders(plan: RangePlan): Record<string, string> {
  return { range: `bytes=${plan.offset}-`, 'if-range': plan.validator };
}

/**
 * True when a 206 carries exactly the rest of `plan`: Content-Range `bytes OFFSET-(TOTAL-1)/TOTAL` and a matching
 * Content-Length, if any.
 */
export function isRestOf(headers: IncomingHttpHeaders, plan: RangePlan): boolean {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(headers, 'content-range') ?? '');
  if (m === null) return false;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (start !== plan.offset || end !== plan.total - 1 || total !== plan.total) return false;
  const length = parseContentLength(headers['content-length']);
  return length === undefined || length === plan.total - plan.offset;
}
