/**
 * Scale run (issue 18 item 3): one `gomirror sync` (built CLI, child process)
 * of a large corpus of tiny modules, written once as static files and served by
 * the bench nginx (the in-process fake upstream cost ~37 ms of CPU per version
 * at 200,000 versions and set the pace), sampling the sync process alone — its
 * RSS (/proc/PID/status) and the versions it fetched (.zip requests nginx
 * answered with 200) — every `--every` seconds.
 * Prints a line per sample, then peak RSS and the rates over the first and
 * last 10 % of the versions.
 * `--keep DIR` syncs into DIR and keeps it (e.g. for `npm run bench:verify -- --tree DIR`).
 * `--corpus DIR` builds the corpus in DIR and keeps it, or reuses the one a previous run left there.
 * Usage: npm run bench:scale -- [--scale 200000] [--concurrency 16] [--every 10] [--seed 1] [--keep DIR] [--corpus DIR]
 */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBenchNginx } from './bench/nginx-upstream.js';
import { buildCorpus } from './bench/shape.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'src', 'cli', 'main.js');

/** VmRSS and VmHWM of a live process in MB (10^6 bytes); undefined once it is gone. */
function memOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: (kb('VmRSS') * 1024) / 1e6, hwm: (kb('VmHWM') * 1024) / 1e6 };
  } catch {
    return undefined;
  }
}

/** Seconds at which `done` first reached `n` (linear between samples). Pure. */
function timeAt(samples: ReadonlyArray<{ t: number; done: number }>, n: number): number {
  let prev = { t: 0, done: 0 };
  for (const s of samples) {
    if (s.done >= n)
      return s.done === prev.done ? s.t : prev.t + ((n - prev.done) / (s.done - prev.done)) * (s.t - prev.t);
    prev = s;
  }
  return prev.t;
}

/** The corpus at `dir`: reused when a previous run wrote it (its bench-corpus.json), else built there and kept. */
async function corpusAt(dir: string, scale: number, seed: number): Promise<{ sumdbKey: string; total: number }> {
  const meta = path.join(dir, 'bench-corpus.json');
  try {
    const m = JSON.parse(await fs.readFile(meta, 'utf8')) as { sumdbKey: string; total: number; scale: number };
    if (m.scale === scale) {
      console.log(`reusing the corpus in ${dir} (${m.total} versions)`);
      return m;
    }
  } catch {
    // not written yet
  }
  const { sumdbKey, specs } = await buildCorpus('tiny', scale, seed, dir);
  await fs.writeFile(meta, JSON.stringify({ sumdbKey, total: specs.length, scale }));
  return { sumdbKey, total: specs.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '200000' },
      concurrency: { type: 'string', default: '16' },
      every: { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'string' },
      corpus: { type: 'string' },
    },
  });
  const scale = Number(values.scale);
  const everyMs = Number(values.every) * 1000;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-scale-'));
  const corpusDir = values.corpus ?? path.join(work, 'corpus');
  const { sumdbKey, total } = await corpusAt(corpusDir, scale, Number(values.seed));
  const nginx = await startBenchNginx(corpusDir);
  const dest = values.keep ?? path.join(work, 'tree');
  const args = [
    CLI,
    'sync',
    '--dest',
    dest,
    '--index',
    `${nginx.url}/index`,
    '--upstream',
    `${nginx.url}/proxy`,
    '--sumdb',
    `${sumdbKey} ${nginx.url}/sumdb`,
    '--concurrency',
    values.concurrency,
    '--log-format',
    'json',
    '--log-level',
    'warn',
    '--min-free-space',
    '0',
  ];
  console.log(`${total} versions; sync --concurrency ${values.concurrency}, sampling every ${values.every}s`);
  console.log('   t(s)   versions   rate(v/s)   RSS(MB)  peak(MB)');
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const samples: Array<{ t: number; done: number }> = [];
  let done = 0;
  let peak = 0;
  let last = { t: 0, done: 0 };
  let logOffset = 0;
  const sample = async (): Promise<void> => {
    const { next, requests } = await nginx.requestsSince(logOffset);
    logOffset = next;
    done += requests.filter((r) => r.path.endsWith('.zip') && r.status === 200).length;
    const mem = memOf(child.pid ?? -1);
    if (mem !== undefined) peak = Math.max(peak, mem.hwm);
    const t = (Date.now() - t0) / 1000;
    samples.push({ t, done });
    const rate = (done - last.done) / Math.max(t - last.t, 0.001);
    console.log(
      `${t.toFixed(0).padStart(7)} ${String(done).padStart(10)} ${rate.toFixed(0).padStart(11)} ` +
        `${(mem?.rss ?? NaN).toFixed(0).padStart(9)} ${peak.toFixed(0).padStart(9)}`,
    );
    last = { t, done };
  };
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(sample);
  }, everyMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  await sampling;
  await sample();
  try {
    // Versions fetched (a version the upstream serves without a zip request is not counted): windows over what was
    // counted.
    const tenth = Math.floor(done / 10);
    const first = tenth / timeAt(samples, tenth);
    const lastRate = tenth / (timeAt(samples, done) - timeAt(samples, done - tenth));
    console.log('');
    console.log(
      `exit ${code}; ${done}/${total} versions in ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
        `(${(done / ((Date.now() - t0) / 1000)).toFixed(0)} versions/s)`,
    );
    console.log(`peak RSS of the sync process: ${peak.toFixed(0)} MB (sampled VmHWM)`);
    console.log(
      `rate over the first 10 %: ${first.toFixed(0)} versions/s; over the last 10 %: ${lastRate.toFixed(0)} ` +
        `versions/s (last/first ${(lastRate / first).toFixed(2)})`,
    );
    if (code !== 0) console.log(stderr);
  } finally {
    await nginx.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
