/**
 * `gomirror probe`: the health of every configured upstream, the index and
 * the checksum database. This module is the pure part: what is measured
 * (ProbeReport), how answers become findings (median latency, clock skew,
 * signed-head check), the verdict and the table. probe-run.ts does the I/O.
 */
import { openTreeNote, parseVerifierKey } from '../sumdb/note.js';

/** One HTTP answer (or the failure to get one) and how long it took. */
export type HttpAnswer =
  | { status: number; ms: number; date: string | undefined; body: Buffer; sentAt: number }
  | { error: string; ms: number };

/** Status, median latency and clock skew of one endpoint. */
export interface EndpointReport {
  url: string;
  status?: number;
  error?: string;
  /** Median of the samples that got an answer. */
  latencyMs?: number;
  /** Remote Date header minus local time, in whole seconds (Date has one-second resolution). */
  skewSeconds?: number;
}

/** Whether a signed tree head verified with the configured key. */
export interface HeadCheck {
  verified: boolean;
  treeSize?: number;
  error?: string;
}

/** One GOPROXY upstream. */
export interface UpstreamReport extends EndpointReport {
  /** The known module's .info answered 200 with a JSON Version: the upstream can serve the mirror. */
  usable: boolean;
  /** `<upstream>/sumdb/<name>/supported` answered 200 (the upstream proxies the checksum database). */
  sumdbSupported: boolean;
  /** The head the upstream serves for the checksum database, when it proxies it. */
  sumdbHead?: HeadCheck;
}

/** Everything `gomirror probe` reports (the --json shape). */
export interface ProbeReport {
  /** The module@version whose .info each upstream was asked for. */
  module?: string;
  index: EndpointReport;
  sumdb: EndpointReport & { name: string; head: HeadCheck };
  upstreams: UpstreamReport[];
}

/**
 * The overall verdict: ok; no upstream usable (or index/sumdb unreachable); or a head that does not verify with the
 * key.
 */
export type ProbeVerdict = 'ok' | 'unusable' | 'security';

/** The median of the numbers (the mean of the middle two for an even count); undefined for none. Pure. */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Remote clock minus local clock in whole seconds, from a Date header and the local send/receive times; undefined
 * without a valid header. Pure.
 */
export function clockSkew(date: string | undefined, sentAt: number, receivedAt: number): number | undefined {
  if (date === undefined) return undefined;
  const remote = Date.parse(date);
  if (Number.isNaN(remote)) return undefined;
  // Date is truncated to the second: compare with the middle of the exchange, rounded to whole seconds.
  return Math.round((remote + 500 - (sentAt + receivedAt) / 2) / 1000);
}

/** Checks a signed tree head with the GOSUMDB-style verifier key. Pure. */
export function checkHead(body: Buffer, verifierKey: string): HeadCheck {
  try {
    const head = openTreeNote(body, parseVerifierKey(verifierKey));
    return { verified: true, treeSize: head.tree.size };
  } catch (err) {
    return { verified: false, error: (err as Error).message };
  }
}

/** Summarises the samples of one endpoint: the last status (or error), median latency and skew. Pure. */
export function endpointReport(url: string, answers: readonly HttpAnswer[]): EndpointReport {
  const r: EndpointReport = { url };
  const ok = answers.filter((a): a is Extract<HttpAnswer, { status: number }> => 'status' in a);
  const last = answers[answers.length - 1];
  if (last !== undefined && 'error' in last) r.error = last.error;
  const lastOk = ok[ok.length - 1];
  if (lastOk !== undefined) {
    r.status = lastOk.status;
    const skew = clockSkew(lastOk.date, lastOk.sentAt, lastOk.sentAt + lastOk.ms);
    if (skew !== undefined) r.skewSeconds = skew;
  }
  const lat = median(ok.map((a) => a.ms));
  if (lat !== undefined) r.latencyMs = Math.round(lat * 10) / 10;
  return r;
}

/** The verdict of a report. Pure. */
export function probeVerdict(r: ProbeReport): ProbeVerdict {
  const badHead = (h: HeadCheck | undefined): boolean =>
    h !== undefined && !h.verified && h.error !== undefined && /signature/i.test(h.error);
  if (badHead(r.sumdb.head) || r.upstreams.some((u) => badHead(u.sumdbHead))) return 'security';
  if (!r.upstreams.some((u) => u.usable) || r.index.status !== 200 || !r.sumdb.head.verified) return 'unusable';
  return 'ok';
}

function statusText(e: EndpointReport): string {
  return e.status !== undefined ? String(e.status) : `error: ${e.error ?? 'no answer'}`;
}

function timing(e: EndpointReport): [string, string] {
  return [
    e.latencyMs !== undefined ? `${e.latencyMs} ms` : '-',
    e.skewSeconds !== undefined ? `${e.skewSeconds > 0 ? '+' : ''}${e.skewSeconds}s` : '-',
  ];
}

function headText(h: HeadCheck): string {
  return h.verified ? `verified, tree size ${h.treeSize}` : `NOT VERIFIED: ${h.error ?? 'unknown'}`;
}

/** Renders the report as a table for a terminal, with the verdict last. Pure. */
export function formatProbe(r: ProbeReport): string {
  const rows: string[][] = [['WHAT', 'URL', 'STATUS', 'LATENCY', 'SKEW', 'NOTES']];
  rows.push(['index', r.index.url, statusText(r.index), ...timing(r.index), '']);
  rows.push([
    'checksum db',
    r.sumdb.url,
    statusText(r.sumdb),
    ...timing(r.sumdb),
    `${r.sumdb.name}: head ${headText(r.sumdb.head)}`,
  ]);
  for (const u of r.upstreams) {
    const notes = [
      u.usable ? `usable (${r.module ?? 'module'} .info ok)` : 'NOT USABLE',
      u.sumdbSupported ? `sumdb proxied${u.sumdbHead ? `, head ${headText(u.sumdbHead)}` : ''}` : 'sumdb not proxied',
    ];
    rows.push(['upstream', u.url, statusText(u), ...timing(u), notes.join('; ')]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const lines = rows.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  const verdict = probeVerdict(r);
  const usable = r.upstreams.filter((u) => u.usable).length;
  const words = {
    ok: `OK: ${usable} of ${r.upstreams.length} upstreams usable, checksum database verified`,
    unusable:
      `PROBLEM: ${usable} of ${r.upstreams.length} upstreams usable` +
      (r.sumdb.head.verified ? '' : ', checksum database head not verified') +
      (r.index.status === 200 ? '' : ', index not answering'),
    security: 'SECURITY: a signed tree head does not verify with the configured checksum database key',
  };
  return `${lines.join('\n')}\n${words[verdict]}\n`;
}
