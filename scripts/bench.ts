/**
 * The benchmark (issue 18): the fake upstream's corpus is written once as
 * static files and served by the real nginx on 127.0.0.1, so the upstream
 * costs almost nothing. For each corpus shape ("small": many small modules,
 * a few 1–20 MB zips; "big": every tenth version carries a 1–4 MB
 * incompressible file) it measures, in interleaved rounds (raw, sync, go, …),
 *   - `gomirror sync` of the whole corpus (built CLI),
 *   - `go mod download -json` of the same versions, fresh module cache,
 *   - the raw download of the same .info/.mod/.zip files by `curl --parallel`,
 * then a no-op sync and the hash limit H (inflate + SHA-256 of the content on
 * one core), and prints medians, nginx's CPU per leg and the target ratios.
 * Then the crawl over a synthetic feed, and with `--rtt MS` the latency mode.
 * With `--dest s3` (issue 16) it instead measures, per shape, a sync into a
 * local directory against the same sync into a fresh bucket of a throwaway
 * Ceph RGW, in interleaved rounds (see bench/s3-dest.ts).
 * Nothing is deleted until the end (on ext4, creating files right after
 * deleting thousands costs seconds of kernel time).
 * Usage: npm run bench -- [--shape small|big|both] [--versions 2000] [--big-versions 400]
 *   [--concurrency 16] [--repeat 3] [--feed-entries 1000000] [--no-go] [--rtt 50]
 *   [--rtt-only] [--rtt-versions 400] [--rtt-concurrency 16,64,256] [--json FILE]
 *   [--dest local|s3]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure } from './bench/measure.js';
import { formatReport, type BenchFigures } from './bench/report.js';
import { runLatency } from './bench/latency.js';
import { runS3Shape } from './bench/s3-dest.js';
import { runShape, type ShapeName } from './bench/shape.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The bench's options, checked. */
export interface Opts {
  shapes: ShapeName[];
  versions: number;
  bigVersions: number;
  concurrency: number;
  repeat: number;
  feedEntries: number;
  seed: number;
  go: boolean;
  rttMs: number;
  rttOnly: boolean;
  rttVersions: number;
  rttConcurrency: number[];
  json: string | undefined;
  /** 'local': the legs above; 's3': a directory against a bucket. */
  dest: 'local' | 's3';
}

function options(): Opts {
  const { values } = parseArgs({
    options: {
      shape: { type: 'string', default: 'both' },
      versions: { type: 'string', default: '2000' },
      'big-versions': { type: 'string', default: '400' },
      concurrency: { type: 'string', default: '16' },
      repeat: { type: 'string', default: '3' },
      'feed-entries': { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      'no-go': { type: 'boolean', default: false },
      rtt: { type: 'string', default: '0' },
      'rtt-only': { type: 'boolean', default: false },
      'rtt-versions': { type: 'string', default: '400' },
      'rtt-concurrency': { type: 'string', default: '16,64,256' },
      json: { type: 'string' },
      dest: { type: 'string', default: 'local' },
    },
  });
  const shape = values.shape;
  if (shape !== 'small' && shape !== 'big' && shape !== 'both')
    throw new Error(`--shape must be small, big or both, got ${shape}`);
  const dest = values.dest;
  if (dest !== 'local' && dest !== 's3') throw new Error(`--dest must be local or s3, got ${dest}`);
  const rttMs = Number(String(values.rtt).replace(/ms$/, ''));
  if (!(rttMs >= 0)) throw new Error(`--rtt must be a number of milliseconds, got ${values.rtt}`);
  return {
    shapes: shape === 'both' ? ['small', 'big'] : [shape],
    versions: Number(values.versions),
    bigVersions: Number(values['big-versions']),
    concurrency: Number(values.concurrency),
    repeat: Math.max(1, Number(values.repeat)),
    feedEntries: Number(values['feed-entries']),
    seed: Number(values.seed),
    go: !values['no-go'],
    rttMs,
    rttOnly: values['rtt-only'],
    rttVersions: Number(values['rtt-versions']),
    rttConcurrency: values['rtt-concurrency'].split(',').map(Number),
    json: values.json,
    dest,
  };
}

async function crawlFigures(entries: number): Promise<NonNullable<BenchFigures['crawl']>> {
  const m = await measure(process.execPath, [path.join(here, 'bench', 'crawl.js'), String(entries)]);
  if (m.code !== 0) throw new Error(`crawl exited with ${m.code}: ${m.stderr.slice(-2000)}`);
  const cr = JSON.parse(m.stdout.trim()) as { entries: number; seconds: number };
  return { entries: cr.entries, entriesPerS: cr.entries / cr.seconds, peakRssMB: m.peakRssMB };
}

async function main(): Promise<void> {
  const o = options();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-bench-'));
  const loadavgStart = os.loadavg();
  try {
    const shapes = [];
    const s3 = [];
    if (o.dest === 's3') {
      for (const shape of o.shapes) s3.push(await runS3Shape(shape, o, path.join(work, shape)));
    } else if (!o.rttOnly) {
      for (const shape of o.shapes) shapes.push(await runShape(shape, o, path.join(work, shape)));
    }
    const crawl =
      o.rttOnly || o.dest === 's3' ? undefined : (console.log('crawl ...'), await crawlFigures(o.feedEntries));
    const latency = o.rttMs > 0 && o.dest === 'local' ? await runLatency(o, path.join(work, 'rtt')) : undefined;
    const figures: BenchFigures = {
      machine: { cpus: os.cpus().length, loadavgStart, loadavgEnd: os.loadavg(), node: process.version },
      concurrency: o.concurrency,
      rounds: o.repeat,
      shapes,
      ...(s3.length > 0 && { s3 }),
      ...(crawl && { crawl }),
      ...(latency && { latency }),
    };
    console.log('');
    console.log(formatReport(figures));
    if (o.json !== undefined) await fs.writeFile(o.json, `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
