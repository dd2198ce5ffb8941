/**
 * Side-by-side benchmark (issue 8): starts the fake upstream with a realistic
 * corpus and measures, on this machine,
 *   a) `gomirror sync` (built CLI, child process),
 *   b) the real `go mod download -json` of the same versions (fresh caches),
 *   c) a raw parallel download of the same .info/.mod/.zip URLs (child, undici, to disk, no verification),
 *   d) an incremental sync with nothing new,
 *   e) the index crawl alone over a synthetic 1,000,000-entry feed (child, in-process page fetcher, 1% filter),
 * then prints a table, the ratios a/b and a/c, and with `--json FILE` writes the figures.
 * a, b and c run `--repeat` rounds, interleaved (c, a, b, c, a, b, …) so a
 * shared machine's drifting load hits each side alike; the table shows each
 * side's median round and the spread. Nothing is deleted until the end: on
 * ext4, creating thousands of files right after deleting thousands costs
 * several seconds of kernel time (recently-deleted inode scans), which would
 * penalise whichever side runs next.
 * Usage: npm run bench -- [--versions 2000] [--concurrency 16] [--repeat 3] [--feed-entries 1000000] [--seed 1] [--no-go] [--json FILE]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { escapePath, escapeVersion } from '../src/module/index.js';
import { goEnv } from '../test/helpers/go.js';
import { findTool } from '../test/helpers/tools.js';
import { startUpstream, type FakeUpstream } from '../test/upstream/index.js';
import { measure, type Measured } from './bench/measure.js';
import { modulesFor, payloadSizes } from './bench/mix.js';
import { formatReport, side, type BenchFigures, type SideFigures } from './bench/report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'src', 'cli', 'main.js');
const MB = 1_000_000;

interface Opts {
  versions: number;
  concurrency: number;
  repeat: number;
  feedEntries: number;
  seed: number;
  go: boolean;
  json: string | undefined;
}

function options(): Opts {
  const { values } = parseArgs({
    options: {
      versions: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '16' },
      repeat: { type: 'string', default: '3' },
      'feed-entries': { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      'no-go': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  return {
    versions: Number(values.versions),
    concurrency: Number(values.concurrency),
    repeat: Math.max(1, Number(values.repeat)),
    feedEntries: Number(values['feed-entries']),
    seed: Number(values.seed),
    go: !values['no-go'],
    json: values.json,
  };
}

function check(m: Measured, what: string): Measured {
  if (m.code !== 0) throw new Error(`${what} exited with ${m.code}:\n${m.stderr.slice(-4000)}\n${m.stdout.slice(-4000)}`);
  return m;
}

function syncArgs(up: FakeUpstream, dest: string, concurrency: number): string[] {
  return [CLI, 'sync', '--dest', dest, '--index', up.indexUrl, '--upstream', up.proxyUrl, '--sumdb', `${up.sumdbKey} ${up.sumdbUrl}`, '--concurrency', String(concurrency), '--log-format', 'json'];
}

/** Builds every zip once (so serving is not measured) and returns per-version download bytes. */
async function warm(up: FakeUpstream): Promise<{ bytes: number; zipSizes: number[] }> {
  let bytes = 0;
  const zipSizes: number[] = [];
  for (const v of up.versions()) {
    const zip = await up.zip(v);
    zipSizes.push(zip.length);
    bytes += zip.length + v.mod.length + JSON.stringify({ Version: v.version, Time: v.time }).length;
  }
  return { bytes, zipSizes: zipSizes.sort((a, b) => a - b) };
}

function proxyUrls(up: FakeUpstream): string[] {
  return up.versions().flatMap((v) => {
    const base = `${up.proxyUrl}/${escapePath(v.path)}/@v/${escapeVersion(v.version)}`;
    return [`${base}.info`, `${base}.mod`, `${base}.zip`];
  });
}

async function runGoDownload(up: FakeUpstream, home: string): Promise<Measured> {
  const env = goEnv({ home, proxy: up.proxyUrl, sumdb: `${up.sumdbKey} ${up.sumdbUrl}` });
  const cwd = path.join(home, 'work');
  await fs.mkdir(cwd, { recursive: true });
  const specs = up.versions().map((v) => `${v.path}@${v.version}`);
  const m = check(await measure(findTool('go') ?? 'go', ['mod', 'download', '-json', ...specs], { env, cwd }), 'go mod download');
  const failed = (m.stdout.match(/"Error":/g) ?? []).length;
  if (failed > 0) throw new Error(`go mod download: ${failed} versions failed`);
  return m;
}

/** Removes a go home's read-only module cache the way go does. */
async function cleanGoHome(up: FakeUpstream, home: string): Promise<void> {
  const env = goEnv({ home, proxy: up.proxyUrl, sumdb: `${up.sumdbKey} ${up.sumdbUrl}` });
  await measure(findTool('go') ?? 'go', ['clean', '-modcache'], { env, cwd: path.join(home, 'work') });
}

/** The round with the median wall time, and every round's wall time. */
function median(runs: Measured[]): { m: Measured; walls: number[] } {
  const sorted = [...runs].sort((x, y) => x.wallS - y.wallS);
  return { m: sorted[(sorted.length - 1) >> 1] as Measured, walls: runs.map((r) => r.wallS) };
}

async function main(): Promise<void> {
  const o = options();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-bench-'));
  const sizes = payloadSizes(o.versions + 200, o.seed);
  const modules = modulesFor(o.versions);
  console.log(`building a corpus of ~${o.versions} versions (${modules} modules) ...`);
  const up = await startUpstream({ seed: o.seed, modules, clusterEvery: 0, payloadBytes: (id) => sizes[id] ?? 0 });
  try {
    const versions = up.versions().length;
    const { bytes, zipSizes } = await warm(up);
    const mb = bytes / MB;
    const kb = (i: number): number => Math.round((zipSizes[i] ?? 0) / 1000);
    const sideOf = (m: Measured): SideFigures => side(m, versions, mb);

    const listFile = path.join(work, 'urls.txt');
    await fs.writeFile(listFile, `${proxyUrls(up).join('\n')}\n`);
    const rawScript = path.join(here, 'bench', 'raw-download.js');
    const runs: { raw: Measured[]; sync: Measured[]; go: Measured[] } = { raw: [], sync: [], go: [] };
    let dest = '';
    for (let i = 1; i <= o.repeat; i++) {
      console.log(`round ${i}/${o.repeat}: c) raw download ...`);
      runs.raw.push(check(await measure(process.execPath, [rawScript, listFile, String(o.concurrency), path.join(work, `raw${i}`)]), 'raw download'));
      console.log(`round ${i}/${o.repeat}: a) gomirror sync ...`);
      dest = path.join(work, `tree${i}`);
      runs.sync.push(check(await measure(process.execPath, syncArgs(up, dest, o.concurrency)), 'gomirror sync'));
      if (o.go) {
        console.log(`round ${i}/${o.repeat}: b) go mod download -json ...`);
        runs.go.push(await runGoDownload(up, path.join(work, `go${i}`)));
      }
    }

    console.log('d) no-op incremental sync ...');
    up.resetRequests();
    const noop = check(await measure(process.execPath, syncArgs(up, dest, o.concurrency)), 'gomirror sync (no-op)');
    const noopReqs = [...up.requests];
    const sync = median(runs.sync);
    const raw = median(runs.raw);
    const go = runs.go.length > 0 ? median(runs.go) : undefined;

    console.log('e) crawl ...');
    const crawl = check(await measure(process.execPath, [path.join(here, 'bench', 'crawl.js'), String(o.feedEntries)]), 'crawl');
    const cr = JSON.parse(crawl.stdout.trim()) as { entries: number; accepted: number; seconds: number };

    const syncFig = { ...sideOf(sync.m), wallRunsS: sync.walls };
    const rawFig = { ...sideOf(raw.m), wallRunsS: raw.walls };
    const goFig = go && { ...sideOf(go.m), wallRunsS: go.walls };
    const figures: BenchFigures = {
      machine: { cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version },
      corpus: { versions, modules, downloadMB: mb, zipKB: { min: kb(0), median: kb(zipSizes.length >> 1), max: kb(zipSizes.length - 1) } },
      concurrency: o.concurrency,
      rounds: o.repeat,
      sync: syncFig,
      ...(goFig && { go: goFig }),
      raw: rawFig,
      noop: { wallS: noop.wallS, feedRequests: noopReqs.filter((r) => r.path.startsWith('/index')).length, requests: noopReqs.length },
      crawl: { entries: cr.entries, accepted: cr.accepted, entriesPerS: cr.entries / cr.seconds, peakRssMB: crawl.peakRssMB, wallS: cr.seconds },
      ratios: { ...(goFig && { syncVsGoSpeedup: goFig.wallS / syncFig.wallS }), syncVsRawThroughput: syncFig.mbPerS / rawFig.mbPerS },
    };
    console.log('');
    console.log(formatReport(figures));
    if (o.json !== undefined) await fs.writeFile(o.json, `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    if (o.go) for (let i = 1; i <= o.repeat; i++) await cleanGoHome(up, path.join(work, `go${i}`)).catch(() => undefined);
    await up.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
