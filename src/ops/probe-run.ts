/**
 * The I/O of `gomirror probe`: a few GETs per endpoint through one undici
 * agent with short timeouts, bodies capped at 64 KiB. Never retries: a probe
 * reports what it saw.
 */
import { request, type Dispatcher } from 'undici';
import type { SumdbSpec } from '../config/sumdb-spec.js';
import { createAgent, DEFAULT_HTTP } from '../fetch/agent.js';
import { escapePath, escapeVersion } from '../module/escape.js';
import { checkHead, endpointReport, type HttpAnswer, type ProbeReport, type UpstreamReport } from './probe.js';

/** What to probe. */
export interface ProbeConfig {
  index: string;
  upstreams: string[];
  sumdb: SumdbSpec;
  /** PATH@VERSION whose .info each upstream must serve; default: the first entry of the index. */
  module?: string;
  /** Requests per endpoint for the median latency (default 3). */
  samples?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

const MAX_BODY = 64 * 1024;

/** One GET; never throws. */
export async function httpGet(agent: Dispatcher, url: string, timeoutMs: number): Promise<HttpAnswer> {
  const sentAt = Date.now();
  const t0 = performance.now();
  try {
    const res = await request(url, {
      dispatcher: agent,
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_BODY) {
        res.body.destroy();
        break;
      }
      chunks.push(b);
    }
    const date = res.headers['date'];
    return {
      status: res.statusCode,
      ms: performance.now() - t0,
      date: typeof date === 'string' ? date : undefined,
      body: Buffer.concat(chunks),
      sentAt,
    };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return {
      error: e.code ? `${e.code}${e.message ? ` ${e.message}` : ''}` : String(e.message ?? err),
      ms: performance.now() - t0,
    };
  }
}

async function samples(agent: Dispatcher, url: string, n: number, timeoutMs: number): Promise<HttpAnswer[]> {
  const out: HttpAnswer[] = [];
  for (let i = 0; i < n; i++) {
    const a = await httpGet(agent, url, timeoutMs);
    out.push(a);
    if ('error' in a) break; // a dead endpoint is not asked again
  }
  return out;
}

function bodyOf(answers: HttpAnswer[]): { status: number; body: Buffer } | undefined {
  const last = answers[answers.length - 1];
  return last !== undefined && 'status' in last ? last : undefined;
}

/** The first module@version the index lists, from its answer. */
function firstIndexEntry(body: Buffer): string | undefined {
  const line = body.toString('utf8').split('\n')[0] ?? '';
  try {
    const e = JSON.parse(line) as { Path?: unknown; Version?: unknown };
    return typeof e.Path === 'string' && typeof e.Version === 'string' ? `${e.Path}@${e.Version}` : undefined;
  } catch {
    return undefined;
  }
}

function infoPath(spec: string): string | undefined {
  const at = spec.lastIndexOf('@');
  try {
    return `${escapePath(spec.slice(0, at))}/@v/${escapeVersion(spec.slice(at + 1))}.info`;
  } catch {
    return undefined;
  }
}

async function probeUpstream(
  agent: Dispatcher,
  url: string,
  cfg: ProbeConfig,
  module: string | undefined,
  n: number,
  timeoutMs: number,
): Promise<UpstreamReport> {
  const info = module !== undefined ? infoPath(module) : undefined;
  const answers = await samples(agent, info !== undefined ? `${url}/${info}` : `${url}/`, n, timeoutMs);
  const last = bodyOf(answers);
  let usable = false;
  if (info !== undefined && last?.status === 200) {
    try {
      usable = typeof (JSON.parse(last.body.toString('utf8')) as { Version?: unknown }).Version === 'string';
    } catch {
      usable = false;
    }
  }
  const report: UpstreamReport = { ...endpointReport(url, answers), usable, sumdbSupported: false };
  if ('error' in (answers[answers.length - 1] ?? { error: '' })) return report;
  const supported = await httpGet(agent, `${url}/sumdb/${cfg.sumdb.name}/supported`, timeoutMs);
  report.sumdbSupported = 'status' in supported && supported.status === 200;
  if (report.sumdbSupported) {
    const latest = await httpGet(agent, `${url}/sumdb/${cfg.sumdb.name}/latest`, timeoutMs);
    report.sumdbHead =
      'status' in latest && latest.status === 200
        ? checkHead(latest.body, cfg.sumdb.key)
        : { verified: false, error: `latest: ${'status' in latest ? latest.status : latest.error}` };
  }
  return report;
}

/**
 * Probes the index, the checksum database and every upstream (one after the other, so latencies do not disturb each
 * other).
 */
export async function runProbe(cfg: ProbeConfig): Promise<ProbeReport> {
  const n = cfg.samples ?? 3;
  const timeoutMs = cfg.timeoutMs ?? 10_000;
  const agent = createAgent({
    ...DEFAULT_HTTP,
    connectTimeoutMs: timeoutMs,
    headersTimeoutMs: timeoutMs,
    bodyTimeoutMs: timeoutMs,
  });
  try {
    const indexAnswers = await samples(agent, `${cfg.index}?limit=1`, n, timeoutMs);
    const indexBody = bodyOf(indexAnswers);
    const module = cfg.module ?? (indexBody?.status === 200 ? firstIndexEntry(indexBody.body) : undefined);
    const sumdbAnswers = await samples(agent, `${cfg.sumdb.url}/latest`, n, timeoutMs);
    const latest = bodyOf(sumdbAnswers);
    const head =
      latest?.status === 200
        ? checkHead(latest.body, cfg.sumdb.key)
        : { verified: false, error: latest ? `latest: HTTP ${latest.status}` : 'no answer' };
    const upstreams: UpstreamReport[] = [];
    for (const url of cfg.upstreams) upstreams.push(await probeUpstream(agent, url, cfg, module, n, timeoutMs));
    return {
      ...(module !== undefined && { module }),
      index: endpointReport(cfg.index, indexAnswers),
      sumdb: { ...endpointReport(cfg.sumdb.url, sumdbAnswers), name: cfg.sumdb.name, head },
      upstreams,
    };
  } finally {
    await agent.close().catch(() => undefined);
  }
}
