/**
 * Verify speed (issue 18 item 5): `gomirror verify` (built CLI, child
 * process, peak RSS by GNU time) over a synced tree, next to H: inflate +
 * SHA-256 of the tree's uncompressed zip content and its .mod files on one
 * core (files read from the page cache, entries located beforehand, so H is
 * the hashing limit alone). Prints MB/s of uncompressed content and
 * versions/s for verify, and verify / H.
 * The tree is built by a sync of the bench's corpus mix (or, with --small, of
 * tiny modules) served as static files by the bench nginx, or reused with --tree.
 * Usage: npm run bench:verify -- [--versions 100000] [--small] [--tree DIR (reuse or keep a synced tree)]
 * [--concurrency N] [--seed 1]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { measure } from './bench/measure.js';
import { startBenchNginx } from './bench/nginx-upstream.js';
import { buildCorpus } from './bench/shape.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'src', 'cli', 'main.js');
const MB = 1_000_000;

interface Entry {
  offset: number;
  size: number;
  method: number;
}

/** Where each entry's data starts in the zip (local header parsed), its compressed size and method. */
function entriesOf(file: string, buf: Buffer): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(file));
      const out: Entry[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        const h = e.relativeOffsetOfLocalHeader;
        const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
        if (!e.fileName.endsWith('/')) out.push({ offset: start, size: e.compressedSize, method: e.compressionMethod });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

async function* treeFiles(dir: string): AsyncGenerator<string> {
  for await (const e of await fs.opendir(dir)) {
    if (e.name.startsWith('.') || e.name === 'sumdb') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* treeFiles(p);
    else if (e.isFile() && (e.name.endsWith('.zip') || e.name.endsWith('.mod'))) yield p;
  }
}

/** H: one core inflating and hashing every zip entry and .mod of the tree (timed part: read + inflate + sha256). */
async function hashLimit(tree: string): Promise<{ mbPerS: number; bytes: number; seconds: number; versions: number }> {
  const plan: Array<{ file: string; entries: Entry[] | undefined }> = [];
  for await (const f of treeFiles(tree))
    plan.push({ file: f, entries: f.endsWith('.zip') ? await entriesOf(f, readFileSync(f)) : undefined });
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (const { file, entries } of plan) {
    const buf = readFileSync(file);
    if (entries === undefined) {
      createHash('sha256').update(buf).digest();
      bytes += buf.length;
      continue;
    }
    for (const e of entries) {
      const raw = buf.subarray(e.offset, e.offset + e.size);
      const data = e.method === 8 ? inflateRawSync(raw) : raw;
      createHash('sha256').update(data).digest();
      bytes += data.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { mbPerS: bytes / MB / seconds, bytes, seconds, versions: plan.filter((p) => p.entries !== undefined).length };
}

/** Syncs a tree from the bench corpus, written as static files under `work` and served by the bench nginx. */
async function buildTree(dest: string, work: string, versions: number, seed: number, small: boolean): Promise<void> {
  console.log(
    `syncing a tree of ~${versions} ${small ? 'tiny' : 'bench-mix (zips of 5-200 KB, 1.5 % of 1-20 MB)'} ` +
      `versions into ${dest} ...`,
  );
  const corpusDir = path.join(work, 'corpus');
  const { sumdbKey } = await buildCorpus(small ? 'tiny' : 'small', versions, seed, corpusDir);
  const nginx = await startBenchNginx(corpusDir);
  try {
    const u = nginx.url;
    const args = [
      CLI,
      'sync',
      '--dest',
      dest,
      '--index',
      `${u}/index`,
      '--upstream',
      `${u}/proxy`,
      '--sumdb',
      `${sumdbKey} ${u}/sumdb`,
      '--log-level',
      'warn',
      '--min-free-space',
      '0',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`sync exited with ${code}`);
  } finally {
    await nginx.stop();
    await fs.rm(corpusDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      versions: { type: 'string', default: '100000' },
      tree: { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string', default: '1' },
      small: { type: 'boolean', default: false },
    },
  });
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-verify-speed-'));
  const tree = values.tree ?? path.join(work, 'tree');
  try {
    if (!existsSync(path.join(tree, '.gomirror')))
      await buildTree(tree, work, Number(values.versions), Number(values.seed), values.small === true);
    console.log('measuring H (one core: read + inflate + sha256 of every zip entry and .mod) ...');
    const h = await hashLimit(tree);
    console.log('running gomirror verify ...');
    const args = [
      CLI,
      'verify',
      '--dest',
      tree,
      '--json',
      '--log-level',
      'warn',
      ...(values.concurrency ? ['--concurrency', values.concurrency] : []),
    ];
    const m = await measure(process.execPath, args);
    if (m.code !== 0) throw new Error(`verify exited with ${m.code}: ${m.stderr.slice(-2000)}`);
    const summary = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') as { versions: number; problems: number };
    const mbPerS = h.bytes / MB / m.wallS;
    console.log('');
    console.log(
      `tree: ${summary.versions} versions, ${(h.bytes / MB).toFixed(1)} MB uncompressed (zip entries + ` +
        `.mod), ${os.availableParallelism()} cores, load ${os.loadavg()[0]?.toFixed(1)}`,
    );
    console.log(`H (one core):  ${h.mbPerS.toFixed(1)} MB/s (${h.seconds.toFixed(1)} s)`);
    console.log(
      `verify:        ${mbPerS.toFixed(1)} MB/s, ${(summary.versions / m.wallS).toFixed(0)} versions/s, wall ` +
        `${m.wallS.toFixed(1)} s, CPU ${(m.userS + m.sysS).toFixed(1)} s, peak RSS ${m.peakRssMB.toFixed(0)} ` +
        `MB, problems ${summary.problems}`,
    );
    console.log(`verify / H:    ${((mbPerS / h.mbPerS) * 100).toFixed(0)} %`);
    // On a shared machine the wall time depends on the neighbours; the CPU time does not.
    const cpu = m.userS + m.sysS;
    const cores = os.availableParallelism();
    console.log(
      `CPU cost:      verify ${(h.bytes / MB / cpu).toFixed(1)} MB per CPU-second vs H ` +
        `${h.mbPerS.toFixed(1)}; on ${cores} idle cores verify would reach about ` +
        `${((h.bytes / MB / (cpu / cores) / h.mbPerS) * 100).toFixed(0)} % of H`,
    );
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
