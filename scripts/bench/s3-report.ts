/**
 * The bucket mode's figures (`--dest s3`) and their plain-text report (pure):
 * a sync into a local directory next to the same sync into a bucket, the
 * ratio against issue 16's target (bucket >= 50 % of local) and peak RSS
 * against 200 MB.
 */
import type { SideFigures } from './report.js';
import type { S3RequestCounts } from './s3-requests.js';

/** One leg's median round plus the CPU the gateway's daemons spent during it and the S3 requests it sent. */
export type GatewaySide = SideFigures & { gatewayCpuS: number; s3Requests: S3RequestCounts };

/** One corpus shape synced into a directory and into a bucket. */
export interface S3ShapeFigures {
  shape: string;
  corpus: { versions: number; downloadMB: number };
  local: GatewaySide;
  bucket: GatewaySide;
  /** A no-op sync of the last round's directory and bucket. */
  noop: { localS: number; bucketS: number; bucketGatewayCpuS: number; bucketS3Requests: S3RequestCounts };
  /** The last round's tree: files in the directory, keys in the bucket (state left out), a few of each side's extras. */
  objects: { local: number; bucket: number; onlyLocal: string[]; onlyBucket: string[] };
  /** Bucket versions/s over local versions/s. */
  bucketVsLocal: number;
}

/** The RSS limit of issue 16 item 6, in MB. */
export const RSS_LIMIT_MB = 200;

function f(n: number | undefined, digits = 1): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

const met = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

/** "PutObject 2164 (4.35/version, 12.3 ms avg), …", most frequent first; without `versions` no per-version figure. */
export function formatS3Requests(c: S3RequestCounts, versions?: number): string {
  const kinds = Object.entries(c).sort((a, b) => b[1].n - a[1].n);
  if (kinds.length === 0) return 'none';
  const per = (n: number): string => (versions === undefined ? '' : `${f(n / versions, 2)}/version, `);
  return kinds.map(([k, { n, ms }]) => `${k} ${n} (${per(n)}${f(ms / n)} ms avg)`).join(', ');
}

/** The report lines of one shape. */
export function s3ShapeReport(s: S3ShapeFigures): string[] {
  const widths = [26, 7, 10, 7, 7, 7, 9, 8, 8];
  const row = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out = [
    `== shape "${s.shape}" into a directory and into a bucket (Ceph RGW on this host): ${s.corpus.versions} versions, ${f(s.corpus.downloadMB)} MB to download`,
    row(['', 'wall s', 'versions/s', 'MB/s', 'CPU s', 'RSS MB', 'nginx CPU', 'RGW CPU', 'req/ver']) +
      '    rounds (wall s)',
  ];
  const legs: Array<[string, GatewaySide]> = [
    ['sync into a directory', s.local],
    ['sync into a bucket', s.bucket],
  ];
  for (const [label, l] of legs) {
    out.push(
      row([
        label,
        f(l.wallS, 2),
        f(l.versionsPerS, 0),
        f(l.mbPerS),
        f(l.cpuS, 2),
        f(l.peakRssMB, 0),
        f(l.nginxCpuS, 2),
        f(l.gatewayCpuS, 2),
        f(l.requestsPerVersion, 2),
      ]) + `    ${l.wallRunsS.map((w) => f(w, 2)).join(' ')}`,
    );
  }
  const o = s.objects;
  const same = o.onlyLocal.length === 0 && o.onlyBucket.length === 0;
  out.push(
    `objects: ${o.local} files in the directory, ${o.bucket} keys in the bucket${same ? ', the same paths' : `; only in the directory e.g. ${o.onlyLocal.join(', ') || '-'}; only in the bucket e.g. ${o.onlyBucket.join(', ') || '-'}`}`,
    `S3 requests of the bucket sync: ${formatS3Requests(s.bucket.s3Requests, s.corpus.versions)}`,
    `S3 requests of the no-op bucket sync: ${formatS3Requests(s.noop.bucketS3Requests)}`,
    `no-op sync: directory ${f(s.noop.localS, 2)} s, bucket ${f(s.noop.bucketS, 2)} s (RGW CPU ${f(s.noop.bucketGatewayCpuS, 2)} s)`,
    `bucket vs directory: ${f(s.bucketVsLocal * 100)}% of the versions/s (target >= 50%) ${met(s.bucketVsLocal >= 0.5)}`,
    `peak RSS into the bucket: ${f(s.bucket.peakRssMB, 0)} MB (target < ${RSS_LIMIT_MB} MB) ${met(s.bucket.peakRssMB < RSS_LIMIT_MB)}`,
  );
  return out;
}
