/**
 * One corpus shape of the benchmark: builds the corpus, writes it as static
 * files, serves it with nginx, measures H, then raw / sync / go in
 * interleaved rounds and a no-op sync, and returns the shape's figures.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startUpstream } from '../../test/upstream/index.js';
import {
  buildPublishFloor,
  cleanGoHome,
  floorLeg,
  goLeg,
  hashLimit,
  rawLeg,
  syncLeg,
  type BenchTarget,
  type Leg,
} from './legs.js';
import { bigShapeSizes, modulesFor, payloadSizes } from './mix.js';
import { startBenchNginx } from './nginx-upstream.js';
import { floorFigures, ratios, side, type ShapeFigures } from './report.js';
import { writeStaticCorpus, type StaticCorpus } from './static-corpus.js';

/**
 * "small": many small modules, a few 1–20 MB zips; "big": 10 % of versions with a 1–4 MB incompressible file; "tiny":
 * no payload (latency mode).
 */
export type ShapeName = 'small' | 'big' | 'tiny';

const MB = 1_000_000;

/** Builds a shape's corpus with the fake upstream's generator and writes it under `root`; the fake is closed again. */
export async function buildCorpus(
  shape: ShapeName,
  versions: number,
  seed: number,
  root: string,
): Promise<{ corpus: StaticCorpus; sumdbKey: string; specs: string[] }> {
  const sizes =
    shape === 'small' ? payloadSizes(versions + 200, seed) : shape === 'big' ? bigShapeSizes(versions + 200, seed) : [];
  console.log(`[${shape}] building a corpus of ~${versions} versions as static files ...`);
  const up = await startUpstream({
    seed,
    modules: modulesFor(versions),
    clusterEvery: 0,
    payloadBytes: (id) => sizes[id] ?? 0,
  });
  try {
    const corpus = await writeStaticCorpus(up, root);
    const specs = up.versions().map((v) => `${v.path}@${v.version}`);
    return { corpus, sumdbKey: up.sumdbKey, specs };
  } finally {
    await up.close();
  }
}

/** The round with the median wall time, and every round's wall time. */
export function medianLeg<L extends Leg>(runs: L[]): { m: L; walls: number[] } {
  const sorted = [...runs].sort((x, y) => x.wallS - y.wallS);
  return { m: sorted[(sorted.length - 1) >> 1] as L, walls: runs.map((r) => r.wallS) };
}

/** Prints the requests nginx did not answer with 200 (the static corpus lacks a file a client asked for). */
export function warnFailures(label: string, leg: Leg): void {
  const bad = leg.requests.filter((r) => r.status !== 200);
  if (bad.length > 0)
    console.log(
      `[${label}] ${bad.length} request(s) not answered 200, e.g. ${bad
        .slice(0, 3)
        .map((r) => `${r.status} ${r.path}`)
        .join(', ')}`,
    );
}

interface ShapeOpts {
  versions: number;
  bigVersions: number;
  seed: number;
  concurrency: number;
  repeat: number;
  go: boolean;
}

/** Runs every leg of one shape under `work` and returns its figures. */
export async function runShape(shape: ShapeName, o: ShapeOpts, work: string): Promise<ShapeFigures> {
  await fs.mkdir(work, { recursive: true });
  const { corpus, sumdbKey, specs } = await buildCorpus(
    shape,
    shape === 'big' ? o.bigVersions : o.versions,
    o.seed,
    path.join(work, 'static'),
  );
  const nginx = await startBenchNginx(corpus.root);
  const t: BenchTarget = { nginx, sumdbKey, specs };
  const runs: { raw: Leg[]; sync: Leg[]; go: Leg[] } = { raw: [], sync: [], go: [] };
  const floors: { durable: Array<{ seconds: number; cpuS: number }>; noSync: number[] } = { durable: [], noSync: [] };
  try {
    console.log(`[${shape}] hash limit H ...`);
    const h = await hashLimit(corpus.zipFiles, path.join(work, 'zips.txt'));
    const floorBin = o.go ? await buildPublishFloor(work) : undefined;
    const proxyRoot = path.join(corpus.root, 'proxy');
    let dest = '';
    for (let i = 1; i <= o.repeat; i++) {
      console.log(`[${shape}] round ${i}/${o.repeat}: raw, sync${o.go ? ', go' : ''} ...`);
      runs.raw.push(await rawLeg(t, corpus.proxyPaths, o.concurrency, path.join(work, `raw${i}`)));
      dest = path.join(work, `tree${i}`);
      runs.sync.push(await syncLeg(t, dest, o.concurrency));
      if (o.go) runs.go.push(await goLeg(t, path.join(work, `go${i}`)));
      if (floorBin !== undefined) {
        const fl = (d: boolean, dir: string) => floorLeg(floorBin, proxyRoot, corpus.proxyPaths, o.concurrency, dir, d);
        floors.durable.push(await fl(true, path.join(work, `floor${i}`)));
        floors.noSync.push((await fl(false, path.join(work, `floor-nosync${i}`))).seconds);
      }
    }
    const noop = await syncLeg(t, dest, o.concurrency);
    for (const leg of [...runs.sync, ...runs.go, noop]) warnFailures(shape, leg);
    const mb = corpus.downloadBytes / MB;
    const legOf = (runs0: Leg[]): ReturnType<typeof side> => {
      const { m, walls } = medianLeg(runs0);
      return side(m, corpus.versions, mb, walls);
    };
    const sync = legOf(runs.sync);
    const raw = legOf(runs.raw);
    const go = runs.go.length > 0 ? legOf(runs.go) : undefined;
    const { limitS, ...r } = ratios({ sync, raw, hashS: h.seconds, ...(go && { go }) }, os.cpus().length);
    const kb = (i: number): number => Math.round((corpus.zipSizes[i] ?? 0) / 1000);
    const zs = corpus.zipSizes.length;
    return {
      shape,
      corpus: {
        versions: corpus.versions,
        downloadMB: mb,
        zipKB: { min: kb(0), median: kb(zs >> 1), max: kb(zs - 1) },
        uncompressedMB: h.uncompressedBytes / MB,
      },
      hashS: h.seconds,
      sync,
      raw,
      ...(go && { go }),
      noop: { wallS: noop.wallS, requests: noop.requests.length },
      ...(floors.durable.length > 0 && { floor: floorFigures(floors) }),
      limitS,
      ratios: r,
    };
  } finally {
    await nginx.stop();
    if (o.go)
      for (let i = 1; i <= o.repeat; i++) await cleanGoHome(t, path.join(work, `go${i}`)).catch(() => undefined);
  }
}
