/**
 * GOPROXY downloads: GET a path from the configured upstreams with retries
 * (exponential backoff, Retry-After), failover between upstreams with health
 * tracking, manual redirects, size limits, and streaming to disk while hashing.
 */
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './backoff.js';
import { DEFAULT_DEADLINE, RequestDeadline, type DeadlinePolicy } from './deadline.js';
import {
  classifyError,
  classifyStatus,
  isRedirect,
  joinUrl,
  parseContentLength,
  redirectTarget,
  type AttemptFailure,
} from './classify.js';
import type { Payload } from '../version/payload.js';
import type { MemoryBudget } from './memory-budget.js';
import { isRestOf, rangeHeaders, resumePointOf, type RangePlan, type ResumePoint } from './resume.js';
import { bufferSink, payloadSink, type Resumable, type Sink } from './sinks.js';
import { discard, drop, excerpt } from './drain.js';
import { DEFAULT_HEALTH, UpstreamPool, type UpstreamHealth } from './upstreams.js';

/** What a request is for: names it in errors, and bounds its body. */
export interface FetchContext {
  op: string;
  module?: string;
  version?: string;
  /** Largest body accepted; larger ones fail with TOO_LARGE. */
  maxBytes: number;
}

/** Information passed to `onRetry` before each backoff wait. */
export interface RetryInfo {
  url: string;
  /** The retry about to happen (1 for the first retry). */
  attempt: number;
  delayMs: number;
  reason: string;
}

/** Everything a Fetcher needs; all but `upstreams` and `agent` have defaults. */
export interface FetcherOptions {
  upstreams: string[];
  agent: Dispatcher;
  retry?: RetryPolicy;
  /** Overall deadline of each attempt, growing with the body's size (default DEFAULT_DEADLINE). */
  deadline?: DeadlinePolicy;
  health?: UpstreamHealth;
  /** Extra request headers per upstream base URL (e.g. Disable-Module-Fetch for polite bulk reads). */
  headers?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  random?: () => number;
  now?: () => number;
  /** Waits `ms`; the signal, when given, is the fetcher's own (waits are also cut short by it regardless). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
}

/** Redirect hops followed per attempt. */
export const MAX_REDIRECTS = 5;

/** A failed attempt says where its body could be resumed, if it can. */
type Attempt<T> = { ok: true; value: T } | { ok: false; failure: AttemptFailure; resume?: ResumePoint };
/** What one attempt asks for: the whole body into `sink`, or (resuming) the rest of `range.plan` into `range.sink`. */
interface Ask<T> {
  sink: Sink<T>;
  headers: Readonly<Record<string, string>>;
  range?: { plan: RangePlan; sink: Sink<T> };
}
type UpstreamOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; failure: AttemptFailure; url: string; attempts: number };
interface Tried {
  url: string;
  status: number | undefined;
  attempts: number;
  reason: string;
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal === undefined ? {} : { signal }).then(
    () => undefined,
    () => undefined, // an abort is reported by the race in Fetcher.wait
  );

/**
 * Downloads from GOPROXY upstreams with retries and failover; one instance per run, safe for concurrent calls.
 * When `signal` fires, pending calls reject at once with `signal.reason` (an AbortError by default), not a
 * GomirrorError.
 */
export class Fetcher {
  private readonly agent: Dispatcher;
  private readonly retry: RetryPolicy;
  private readonly deadline: DeadlinePolicy;
  private readonly pool: UpstreamPool;
  private readonly headers: Readonly<Record<string, Readonly<Record<string, string>>>>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly signal: AbortSignal | undefined;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;

  /** Throws CONFIG when no upstream is given. */
  constructor(opts: FetcherOptions) {
    this.agent = opts.agent;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.deadline = opts.deadline ?? DEFAULT_DEADLINE;
    this.headers = opts.headers ?? {};
    this.now = opts.now ?? Date.now;
    this.pool = new UpstreamPool(opts.upstreams, opts.health ?? DEFAULT_HEALTH, this.now);
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? defaultSleep;
    this.signal = opts.signal;
    this.onRetry = opts.onRetry;
  }

  /**
   * GET relPath (e.g. "github.com/!foo/bar/@v/v1.0.0.mod" or "index?since=…") from the upstreams with retries and
   * failover; returns the whole body, refusing bodies > ctx.maxBytes (TOO_LARGE).
   */
  async getBytes(relPath: string, ctx: FetchContext): Promise<Buffer> {
    const { value } = await this.run(relPath, ctx, bufferSink);
    return value;
  }

  /**
   * GET relPath into a Payload: in memory when the response's Content-Length
   * fits in `memory` (the caller gives the bytes back once done with the
   * payload), else streamed to spoolPath (created or truncated on each
   * attempt, never buffered whole, removed on failure). Limits and retries
   * are those of getBytes; a body shorter than its Content-Length is retried
   * and finally TRUNCATED. A file body cut short is resumed with `Range` and
   * `If-Range` when the upstream answered `Accept-Ranges: bytes` with a strong
   * ETag or a Last-Modified (a 200 instead of a 206 restarts from byte 0).
   */
  async fetchPayload(
    relPath: string,
    spoolPath: string,
    memory: MemoryBudget,
    ctx: FetchContext,
  ): Promise<{ payload: Payload; bytes: number }> {
    try {
      const { sink, resume } = payloadSink(spoolPath, ctx, memory);
      const { value, bytes } = await this.run(relPath, ctx, sink, resume);
      return { payload: value, bytes };
    } catch (err) {
      await rm(spoolPath, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** The health of every upstream with its last success and failure times, in configured order. */
  activity(): ReturnType<UpstreamPool['activity']> {
    return this.pool.activity();
  }

  /** The health of every upstream, in configured order. */
  health(): ReturnType<UpstreamPool['snapshot']> {
    return this.pool.snapshot();
  }

  /** Tries each upstream in health order until one serves `relPath`. */
  private async run<T>(
    relPath: string,
    ctx: FetchContext,
    sink: Sink<T>,
    resumable?: Resumable<T>,
  ): Promise<{ value: T; bytes: number; upstream: string }> {
    this.throwIfAborted();
    const tried: Tried[] = [];
    let lastFailure: AttemptFailure | undefined;
    for (const base of this.pool.order()) {
      const out = await this.fromUpstream(joinUrl(base, relPath), ctx, sink, this.headers[base] ?? {}, resumable);
      if (out.ok) {
        this.pool.reportSuccess(base);
        return { ...out.value, upstream: base };
      }
      const f = out.failure;
      tried.push({ url: out.url, status: f.status, attempts: out.attempts, reason: f.reason });
      if (f.kind === 'missing')
        this.pool.reportSuccess(base); // it answered: healthy
      else if (f.kind === 'retry') this.pool.reportFailure(base); // retries exhausted
      if (f.kind !== 'missing') lastFailure = f;
    }
    throw this.finalError(relPath, ctx, tried, lastFailure);
  }

  /** Attempts one upstream URL, retrying transient failures with backoff. */
  private async fromUpstream<T>(
    url: string,
    ctx: FetchContext,
    sink: Sink<T>,
    headers: Readonly<Record<string, string>>,
    resumable: Resumable<T> | undefined,
  ): Promise<UpstreamOutcome<{ value: T; bytes: number }>> {
    let resume: ResumePoint | undefined;
    for (let attempt = 1; ; attempt++) {
      const out = await this.attempt(url, ctx, await ask(sink, headers, resume, resumable));
      if (out.ok) return out;
      resume = out.resume;
      const f = out.failure;
      if (f.kind !== 'retry' || attempt > this.retry.retries) {
        return { ok: false, failure: f, url, attempts: attempt };
      }
      const delayMs = f.retryAfterMs ?? backoffDelay(attempt, this.retry, this.random);
      this.onRetry?.({ url, attempt, delayMs, reason: f.reason });
      await this.wait(delayMs);
    }
  }

  /**
   * One GET of `url`, following redirects, within the deadline for its size
   * (a passed deadline is a TIMEOUT, retried like any); every response body is consumed or destroyed.
   */
  private async attempt<T>(
    url: string,
    ctx: FetchContext,
    want: Ask<T>,
  ): Promise<Attempt<{ value: T; bytes: number }>> {
    const deadline = new RequestDeadline(this.deadline, this.now, this.signal);
    const signal = deadline.signal;
    try {
      return await this.follow(url, ctx, want, { deadline, signal });
    } finally {
      deadline.dispose();
    }
  }

  /** The request loop of `attempt`: GET, follow redirects, classify, consume. */
  private async follow<T>(
    url: string,
    ctx: FetchContext,
    want: Ask<T>,
    { deadline, signal }: { deadline: RequestDeadline; signal: AbortSignal },
  ): Promise<Attempt<{ value: T; bytes: number }>> {
    const timedOut = (): Attempt<never> => ({
      ok: false,
      failure: { kind: 'retry', code: ErrorCodes.TIMEOUT, reason: deadline.describe() },
    });
    let current = url;
    for (let hop = 0; ; hop++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(current, { dispatcher: this.agent, method: 'GET', headers: { ...want.headers }, signal });
      } catch (err) {
        this.throwIfAborted();
        if (deadline.expired) return timedOut();
        return { ok: false, failure: classifyError(err, 'headers') };
      }
      const { statusCode: status, headers, body } = res;
      const range = want.range;
      if (status === 206 && range !== undefined && isRestOf(headers, range.plan)) {
        const out = await this.consume(current, res, ctx, range.sink, deadline, range.plan);
        return !out.ok && deadline.expired ? { ...timedOut(), ...(out.resume && { resume: out.resume }) } : out;
      }
      if (range !== undefined && (status === 206 || status === 416)) {
        await discard(body);
        this.throwIfAborted();
        const reason =
          `HTTP ${status} is not the rest asked for (bytes ` +
          `${range.plan.offset}-${range.plan.total - 1}): restarting from byte 0`;
        return { ok: false, failure: { kind: 'retry', code: ErrorCodes.HTTP, status, reason } };
      }
      if (status !== 200) {
        const said = status === 404 || status === 410 ? await excerpt(body) : await discard(body);
        this.throwIfAborted();
        if (deadline.expired) return timedOut();
        if (!isRedirect(status)) {
          const retryAfter = typeof headers['retry-after'] === 'string' ? headers['retry-after'] : undefined;
          return { ok: false, failure: classifyStatus(status, retryAfter, this.now(), said) };
        }
        const next = redirectTarget(current, headers.location, status);
        if (typeof next !== 'string') return { ok: false, failure: next };
        if (hop >= MAX_REDIRECTS) {
          const reason = `more than ${MAX_REDIRECTS} redirects (last to ${next})`;
          return { ok: false, failure: { kind: 'fatal', code: ErrorCodes.HTTP, status, reason } };
        }
        current = next;
        continue;
      }
      const out = await this.consume(current, res, ctx, want.sink, deadline);
      return !out.ok && deadline.expired ? { ...timedOut(), ...(out.resume && { resume: out.resume }) } : out;
    }
  }

  /**
   * Reads a 200 response (or the 206 rest of `plan`, whose sink counts the
   * kept bytes too) into `sink`, enforcing the size limit and Content-Length;
   * a body cut short says where it could be resumed.
   */
  private async consume<T>(
    url: string,
    res: Dispatcher.ResponseData,
    ctx: FetchContext,
    sink: Sink<T>,
    deadline: RequestDeadline,
    plan?: RangePlan,
  ): Promise<Attempt<{ value: T; bytes: number }>> {
    const declared = plan === undefined ? parseContentLength(res.headers['content-length']) : plan.total;
    const resume = (): { resume?: ResumePoint } => {
      const at = resumePointOf(res.statusCode, res.headers, plan);
      return at === undefined ? {} : { resume: at };
    };
    // The deadline follows the declared size, else the bytes so far (counted beside the sink, which attaches in this
    // same tick).
    if (declared !== undefined) deadline.expect(declared - (plan?.offset ?? 0));
    else res.body.on('data', (chunk: Buffer) => deadline.received(chunk.length));
    const tooLarge = (): GomirrorError =>
      new GomirrorError(
        ErrorCodes.TOO_LARGE,
        `response from ${url} is larger than the ${ctx.maxBytes}-byte limit` +
          (declared === undefined ? '' : ` (Content-Length ${declared})`),
        { ...this.where(ctx), detail: { url, status: 200, maxBytes: ctx.maxBytes, contentLength: declared } },
      );
    if (declared !== undefined && declared > ctx.maxBytes) {
      drop(res.body);
      throw tooLarge();
    }
    let got: { value: T; bytes: number };
    try {
      got = await sink(res.body, ctx.maxBytes, tooLarge, declared);
    } catch (err) {
      drop(res.body);
      this.throwIfAborted();
      if (err instanceof GomirrorError) throw err; // size limit or local I/O: no retry helps
      return { ok: false, failure: classifyError(err, 'body'), ...resume() };
    }
    if (declared !== undefined && got.bytes !== declared) {
      const reason = `body cut short: got ${got.bytes} of ${declared} bytes (Content-Length)`;
      return {
        ok: false,
        failure: { kind: 'retry', code: ErrorCodes.TRUNCATED, status: res.statusCode, reason },
        ...resume(),
      };
    }
    return { ok: true, value: got };
  }

  /** The error thrown when no upstream served the file. */
  private finalError(
    relPath: string,
    ctx: FetchContext,
    tried: Tried[],
    last: AttemptFailure | undefined,
  ): GomirrorError {
    const lastTried = tried[tried.length - 1];
    const detail = {
      url: lastTried?.url,
      status: lastTried?.status,
      attempts: lastTried?.attempts ?? 0,
      upstreams: tried,
    };
    if (last === undefined) {
      const gone = tried.some((t) => t.status === 410);
      const what = gone ? 'gone (410) from' : 'not found (404) on';
      const said = tried.map((t) => t.reason).filter((r) => !/^HTTP \d+$/.test(r));
      const why = said.length === 0 ? '' : ` (${said.join('; ')})`;
      return new GomirrorError(
        gone ? ErrorCodes.GONE : ErrorCodes.NOT_FOUND,
        `${relPath} is ${what} every upstream${why}`,
        {
          ...this.where(ctx),
          detail,
        },
      );
    }
    const failed = tried.filter((t) => t.status !== 404 && t.status !== 410).pop() ?? lastTried;
    const summary = tried.map((t) => `${t.url}: ${t.reason} after ${t.attempts} attempt(s)`).join('; ');
    return new GomirrorError(last.code, `GET ${relPath} failed on every upstream: ${summary}`, {
      ...this.where(ctx),
      detail: { ...detail, url: failed?.url, status: last.status, attempts: failed?.attempts ?? 0 },
    });
  }

  private where(ctx: FetchContext): { op: string; module?: string; version?: string } {
    return { op: ctx.op, module: ctx.module, version: ctx.version };
  }

  private throwIfAborted(): void {
    this.signal?.throwIfAborted();
  }

  /** Sleeps `ms`, but rejects with the abort reason as soon as the signal fires. */
  private async wait(ms: number): Promise<void> {
    const signal = this.signal;
    if (signal === undefined) return this.sleep(ms);
    signal.throwIfAborted();
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.sleep(ms, signal), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * What the next attempt asks for: the rest of the body when the last attempt
 * broke off at a resume point and left bytes on disk, else the whole body.
 */
async function ask<T>(
  sink: Sink<T>,
  headers: Readonly<Record<string, string>>,
  resume: ResumePoint | undefined,
  resumable: Resumable<T> | undefined,
): Promise<Ask<T>> {
  if (resume === undefined || resumable === undefined) return { sink, headers };
  const offset = await resumable.kept();
  if (offset <= 0 || offset >= resume.total) return { sink, headers };
  const plan = { ...resume, offset };
  return { sink, headers: { ...headers, ...rangeHeaders(plan) }, range: { plan, sink: resumable.append(offset) } };
}
