/**
 * The benchmark's figures and their side-by-side table (pure formatting).
 */

/** One measured download side (a, b or c). */
export interface SideFigures {
  wallS: number;
  versionsPerS: number;
  mbPerS: number;
  cpuS: number;
  peakRssMB: number;
  /** Wall time of every round (the other figures are the median round's). */
  wallRunsS?: number[];
}

/** Everything one `npm run bench` run measured. */
export interface BenchFigures {
  machine: { cpus: number; loadavg: number[]; node: string };
  corpus: { versions: number; modules: number; downloadMB: number; zipKB: { min: number; median: number; max: number } };
  concurrency: number;
  rounds: number;
  sync: SideFigures;
  go?: SideFigures;
  raw: SideFigures;
  noop: { wallS: number; feedRequests: number; requests: number };
  crawl: { entries: number; accepted: number; entriesPerS: number; peakRssMB: number; wallS: number };
  ratios: { syncVsGoSpeedup?: number; syncVsRawThroughput: number };
}

/** Side figures from a measured wall/cpu/rss and the corpus size. */
export function side(m: { wallS: number; userS: number; sysS: number; peakRssMB: number }, versions: number, mb: number): SideFigures {
  return { wallS: m.wallS, versionsPerS: versions / m.wallS, mbPerS: mb / m.wallS, cpuS: m.userS + m.sysS, peakRssMB: m.peakRssMB };
}

function f(n: number | undefined, digits = 1): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

/** The human-readable report: corpus, the a/b/c table, d, e, ratios and targets. */
export function formatReport(b: BenchFigures): string {
  const widths = [34, 9, 11, 9, 10, 12, 0];
  const out: string[] = [];
  const c = b.corpus;
  out.push(`corpus: ${c.versions} versions in ${c.modules} modules, ${f(c.downloadMB)} MB to download (zips ${c.zipKB.min}..${c.zipKB.median}..${c.zipKB.max} KB min..median..max), concurrency ${b.concurrency}`);
  out.push(`machine: ${b.machine.cpus} CPUs, load ${b.machine.loadavg.map((l) => l.toFixed(2)).join(' ')}, node ${b.machine.node}`);
  out.push('');
  out.push(`median of ${b.rounds} interleaved round(s) per side; every round's wall time on the right`);
  out.push(row(['', 'wall s', 'versions/s', 'MB/s', 'CPU s', 'peak RSS MB', '  rounds (wall s)'], widths));
  const sides: Array<[string, SideFigures | undefined]> = [
    ['a) gomirror sync (verify+publish)', b.sync],
    ['b) go mod download -json', b.go],
    ['c) raw download, no verification', b.raw],
  ];
  for (const [label, s] of sides) {
    const rounds = `  ${(s?.wallRunsS ?? []).map((w) => f(w, 2)).join(' ')}`;
    out.push(row([label, f(s?.wallS, 2), f(s?.versionsPerS, 0), f(s?.mbPerS), f(s?.cpuS), f(s?.peakRssMB, 0), rounds], widths));
  }
  out.push('');
  out.push(`d) no-op incremental sync: ${f(b.noop.wallS, 2)} s, ${b.noop.feedRequests} feed request(s), ${b.noop.requests} request(s) in all`);
  out.push(`e) crawl of ${b.crawl.entries} feed entries (in-process page fetcher, 1% filter → ${b.crawl.accepted}): ${f(b.crawl.entriesPerS, 0)} entries/s, peak RSS ${f(b.crawl.peakRssMB, 0)} MB`);
  out.push('');
  const r = b.ratios;
  out.push(`a/b: gomirror is ${f(r.syncVsGoSpeedup, 2)}x faster than go mod download   (target >= 3x)`);
  out.push(`a/c: gomirror reaches ${f(r.syncVsRawThroughput * 100)}% of raw-download throughput   (target >= 70%)`);
  out.push(`peak RSS: sync ${f(b.sync.peakRssMB, 0)} MB, crawl ${f(b.crawl.peakRssMB, 0)} MB   (target < 200 MB)`);
  out.push(`no-op run: ${f(b.noop.wallS, 2)} s   (target < 1 s + one feed request); crawl ${f(b.crawl.entriesPerS, 0)} entries/s (target >= 100000)`);
  return out.join('\n');
}
