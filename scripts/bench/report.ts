/**
 * The benchmark's figures, the ratios against the targets of issue 18 and
 * their plain-text report (pure).
 */
import { s3ShapeReport, type S3ShapeFigures } from './s3-report.js';

/** One measured leg, median round. */
export interface SideFigures {
  wallS: number;
  versionsPerS: number;
  mbPerS: number;
  cpuS: number;
  peakRssMB: number;
  /** CPU seconds nginx spent serving this leg (the harness's cost). */
  nginxCpuS: number;
  /** Requests nginx logged during this leg, per version. */
  requestsPerVersion: number;
  /** Wall time of every round. */
  wallRunsS: number[];
}

/** One corpus shape's figures. */
export interface ShapeFigures {
  shape: string;
  corpus: {
    versions: number;
    downloadMB: number;
    zipKB: { min: number; median: number; max: number };
    uncompressedMB: number;
  };
  /** H: seconds one core needs to inflate + SHA-256 the corpus's content. */
  hashS: number;
  sync: SideFigures;
  go?: SideFigures;
  raw: SideFigures;
  noop: { wallS: number; requests: number };
  /** F: the durable-publish floor (publish-floor.go), median seconds and CPU; and its median without fsyncs. */
  floor?: { durableS: number; cpuS: number; noSyncS: number };
  /** L = max(raw wall, H / cores), in seconds. */
  limitS: number;
  ratios: { syncVsGoSpeedup?: number; syncVsLimit: number };
}

/** One concurrency at a given round-trip time. */
export interface LatencyPoint {
  concurrency: number;
  versionsPerS: number;
  roundTripsPerVersion: number;
  /** concurrency / (round trips per version × RTT), versions/s. */
  boundPerS: number;
  nginxCpuS: number;
  cpuS: number;
  wallS: number;
  /** Requests in flight at nginx: mean over the run (sum of request times / wall) and peak. */
  meanInFlight: number;
  peakInFlight: number;
  /** Seconds from the start of the process to its first request, and from its last response to its exit. */
  firstRequestS: number;
  afterLastS: number;
  /** Requests by kind (see requestKinds). */
  requestKinds: Record<string, number>;
}

/** The latency mode's figures. */
export interface LatencyFigures {
  rttMs: number;
  versions: number;
  points: LatencyPoint[];
  go?: {
    versionsPerS: number;
    roundTripsPerVersion: number;
    wallS: number;
    meanInFlight: number;
    requestKinds: Record<string, number>;
  };
}

/** Everything one `npm run bench` run measured. */
export interface BenchFigures {
  machine: { cpus: number; loadavgStart: number[]; loadavgEnd: number[]; node: string };
  concurrency: number;
  rounds: number;
  shapes: ShapeFigures[];
  /** `--dest s3`: each shape into a directory and into a bucket. */
  s3?: S3ShapeFigures[];
  /**
   * entriesPerCpuS: per second of the crawl's own CPU time (what an idle core would give); peakRssMB includes the pages
   * made in advance.
   */
  crawl?: { entries: number; entriesPerS: number; entriesPerCpuS: number; peakRssMB: number };
  latency?: LatencyFigures;
}

/** Leg figures from a measured round. */
export function side(
  m: { wallS: number; userS: number; sysS: number; peakRssMB: number; nginxCpuS: number; requests: unknown[] },
  versions: number,
  mb: number,
  wallRunsS: number[],
): SideFigures {
  return {
    wallS: m.wallS,
    versionsPerS: versions / m.wallS,
    mbPerS: mb / m.wallS,
    cpuS: m.userS + m.sysS,
    peakRssMB: m.peakRssMB,
    nginxCpuS: m.nginxCpuS,
    requestsPerVersion: m.requests.length / versions,
    wallRunsS,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

/** The floor figures from every round's durable and fsync-free runs (medians; pure). */
export function floorFigures(f: { durable: Array<{ seconds: number; cpuS: number }>; noSync: number[] }): {
  durableS: number;
  cpuS: number;
  noSyncS: number;
} {
  const mid = [...f.durable].sort((a, b) => a.seconds - b.seconds)[f.durable.length >> 1];
  return { durableS: mid?.seconds ?? NaN, cpuS: mid?.cpuS ?? NaN, noSyncS: median(f.noSync) };
}

/** L and the ratios of one shape (pure). */
export function ratios(
  s: { sync: SideFigures; go?: SideFigures; raw: SideFigures; hashS: number },
  cores: number,
): { limitS: number; syncVsGoSpeedup?: number; syncVsLimit: number } {
  const limitS = Math.max(s.raw.wallS, s.hashS / cores);
  return { limitS, ...(s.go && { syncVsGoSpeedup: s.go.wallS / s.sync.wallS }), syncVsLimit: limitS / s.sync.wallS };
}

function f(n: number | undefined, digits = 1): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

const met = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

function shapeReport(s: ShapeFigures, cores: number): string[] {
  const widths = [30, 7, 10, 7, 7, 8, 9, 8, 0];
  const c = s.corpus;
  const out = [
    `== shape "${s.shape}": ${c.versions} versions, ${f(c.downloadMB)} MB to download, ${f(c.uncompressedMB)} MB ` +
      `uncompressed (zips ${c.zipKB.min}..${c.zipKB.median}..${c.zipKB.max} KB min..median..max)`,
  ];
  out.push(
    row(['', 'wall s', 'versions/s', 'MB/s', 'CPU s', 'RSS MB', 'nginx CPU', 'req/ver', '  rounds (wall s)'], widths),
  );
  const legs: Array<[string, SideFigures | undefined]> = [
    ['sync (verify+publish)', s.sync],
    ['go mod download -json', s.go],
    ['raw: curl --parallel', s.raw],
  ];
  for (const [label, l] of legs) {
    const rounds = `  ${(l?.wallRunsS ?? []).map((w) => f(w, 2)).join(' ')}`;
    out.push(
      row(
        [
          label,
          f(l?.wallS, 2),
          f(l?.versionsPerS, 0),
          f(l?.mbPerS),
          f(l?.cpuS, 2),
          f(l?.peakRssMB, 0),
          f(l?.nginxCpuS, 2),
          f(l?.requestsPerVersion, 2),
          rounds,
        ],
        widths,
      ),
    );
  }
  out.push(
    `hash limit H: ${f(s.hashS, 2)} s on one core (${f(c.uncompressedMB / s.hashS, 0)} MB/s); L = max(raw ` +
      `${f(s.raw.wallS, 2)} s, H/${cores} ${f(s.hashS / cores, 2)} s) = ${f(s.limitS, 2)} s`,
  );
  if (s.floor)
    out.push(
      `durable-publish floor F (Go, no download or verification: each version's .info/.mod/.zip and a lookup ` +
        `written, fsynced, renamed; each directory fsynced once): ${f(s.floor.durableS, 2)} s ` +
        `(CPU ${f(s.floor.cpuS, 2)} s), ${f(s.floor.noSyncS, 2)} s without fsync; sync = ` +
        `${f(s.sync.wallS / s.floor.durableS, 2)} F, 2 L = ${f(2 * s.limitS, 2)} s`,
    );
  const r = s.ratios;
  out.push(
    `sync vs go mod download: ${f(r.syncVsGoSpeedup, 2)}x faster (target >= 2x) ` +
      `${r.syncVsGoSpeedup === undefined ? '' : met(r.syncVsGoSpeedup >= 2)}`,
  );
  out.push(
    `sync vs limit L: ${f(r.syncVsLimit * 100)}% (target >= 50%, sync wall <= 2 L) ${met(r.syncVsLimit >= 0.5)}`,
  );
  out.push(
    `no-op sync: ${f(s.noop.wallS, 2)} s, ${s.noop.requests} request(s) (target < 0.5 s) ${met(s.noop.wallS < 0.5)}`,
  );
  return out;
}

function latencyReport(l: LatencyFigures): string[] {
  const out = [
    `== latency: ${l.rttMs} ms added per request (nginx echo_sleep), ${l.versions} versions without payload`,
  ];
  const w = [12, 11, 9, 11, 8, 7, 7, 10, 15, 14];
  out.push(
    row(
      [
        'concurrency',
        'versions/s',
        'bound/s',
        '% of bound',
        'req/ver',
        'wall s',
        'CPU s',
        'nginx CPU',
        'in flight avg/max',
        'first/after last s',
      ],
      w,
    ),
  );
  for (const p of l.points) {
    const flight = `${f(p.meanInFlight)}/${p.peakInFlight}`;
    const edges = `${f(p.firstRequestS, 2)}/${f(p.afterLastS, 2)}`;
    out.push(
      row(
        [
          String(p.concurrency),
          f(p.versionsPerS, 0),
          f(p.boundPerS, 0),
          f((100 * p.versionsPerS) / p.boundPerS),
          f(p.roundTripsPerVersion, 2),
          f(p.wallS, 2),
          f(p.cpuS, 2),
          f(p.nginxCpuS, 2),
          flight,
          edges,
        ],
        w,
      ),
    );
  }
  const kinds = (k: Record<string, number>): string =>
    Object.entries(k)
      .sort((a, b) => b[1] - a[1])
      .map(([n, c]) => `${n} ${c}`)
      .join(', ');
  if (l.points[0])
    out.push(`sync requests at concurrency ${l.points[0].concurrency}: ${kinds(l.points[0].requestKinds)}`);
  if (l.go) out.push(`go requests: ${kinds(l.go.requestKinds)}`);
  if (l.go)
    out.push(
      `go mod download at the same RTT: ${f(l.go.versionsPerS, 1)} versions/s, ${f(l.go.roundTripsPerVersion, 2)} ` +
        `requests/version, ${f(l.go.meanInFlight)} in flight on average, ${f(l.go.wallS, 2)} s`,
    );
  const p64 = l.points.find((p) => p.concurrency === 64);
  if (p64)
    out.push(
      `concurrency 64: ${f((100 * p64.versionsPerS) / p64.boundPerS)}% of the bound (target >= 70% at 50 ms) ` +
        `${met(p64.versionsPerS >= 0.7 * p64.boundPerS)}`,
    );
  return out;
}

/** The human-readable report. */
export function formatReport(b: BenchFigures): string {
  const m = b.machine;
  const out = [
    `machine: ${m.cpus} CPUs, load ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')} at start, ` +
      `${m.loadavgEnd.map((x) => x.toFixed(2)).join(' ')} at end, node ${m.node}`,
  ];
  out.push(`concurrency ${b.concurrency}, median of ${b.rounds} interleaved round(s) per leg`);
  for (const s of b.shapes) out.push('', ...shapeReport(s, m.cpus));
  for (const s of b.s3 ?? []) out.push('', ...s3ShapeReport(s));
  if (b.crawl)
    out.push(
      '',
      `crawl: ${b.crawl.entries} entries, ${f(b.crawl.entriesPerS, 0)} entries/s (${f(b.crawl.entriesPerCpuS, 0)} ` +
        `per CPU second), ${f(b.crawl.peakRssMB, 0)} MB with the pages made in advance (target >= 500000/s) ` +
        `${met(b.crawl.entriesPerS >= 500_000)}`,
    );
  if (b.latency) out.push('', ...latencyReport(b.latency));
  return out.join('\n');
}
