/**
 * The bench's bucket mode (`npm run bench -- --dest s3`, issue 16 item 6):
 * one corpus shape served by the bench nginx, a throwaway Ceph RADOS Gateway
 * (../shared/ceph-rgw/up.sh, through test/helpers/rgw.ts), and in
 * interleaved rounds a sync into a fresh local directory and a sync into a
 * fresh bucket, both against the same nginx; then a no-op sync of each. Each
 * leg also reports the CPU the gateway's daemons (mon, OSD, radosgw) spent
 * during it, and the last round's bucket is compared key by key with its
 * local tree. The gateway is stopped before returning.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { listAllKeys, startRgw, type Rgw } from '../../test/helpers/rgw.js';
import { gatewayCpuS } from './gateway.js';
import { countS3Requests, readS3Counts, type S3RequestCounts } from './s3-requests.js';
import { syncLeg, type BenchTarget, type Leg, type SyncExtra } from './legs.js';
import { startBenchNginx } from './nginx-upstream.js';
import { side } from './report.js';
import type { GatewaySide, S3ShapeFigures } from './s3-report.js';
import { buildCorpus, medianLeg, warnFailures, type ShapeName } from './shape.js';

const MB = 1_000_000;
const GIB = 1024 * 1024 * 1024;

interface S3ShapeOpts {
  versions: number;
  bigVersions: number;
  seed: number;
  concurrency: number;
  repeat: number;
}

/** A leg plus the gateway CPU it caused and the S3 requests it sent. */
interface GwLeg extends Leg {
  gatewayCpuS: number;
  s3Requests: S3RequestCounts;
}

let countsSeq = 0;

/** Runs a sync leg (`extra` for a bucket), adding the gateway's CPU during it and the S3 requests it sent. */
async function gatewayLeg(
  rgw: Rgw,
  run: (extra: SyncExtra | undefined) => Promise<Leg>,
  extra?: SyncExtra,
): Promise<GwLeg> {
  const countsFile = path.join(rgw.dir, `s3-requests-${++countsSeq}.json`);
  const counted = extra && { ...extra, nodeArgs: countS3Requests(countsFile) };
  const c0 = await gatewayCpuS(rgw.dir);
  const leg = await run(counted);
  const gatewayCpu = (await gatewayCpuS(rgw.dir)) - c0;
  return { ...leg, gatewayCpuS: gatewayCpu, s3Requests: counted ? await readS3Counts(countsFile) : {} };
}

/** What a sync into a bucket of `rgw` needs beyond the common arguments; `workDir` holds the state's working copy. */
function bucketExtra(rgw: Rgw, workDir: string): SyncExtra {
  return {
    args: ['--s3-endpoint', rgw.endpoint, '--s3-path-style', '--work-dir', workDir],
    env: { ...process.env, ...rgw.env },
  };
}

/** Every file under `root` as a '/'-separated relative path, the state directory `.gomirror` left out. */
async function treeFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    if (!rel.startsWith('.gomirror/')) out.push(rel);
  }
  return out;
}

/** Compares the local tree with the bucket's keys (the bucket's `.gomirror/` left out). */
async function compareTrees(rgw: Rgw, dir: string, bucket: string): Promise<S3ShapeFigures['objects']> {
  const local = new Set(await treeFiles(dir));
  const keys = new Set((await listAllKeys(rgw, bucket)).filter((k) => !k.startsWith('.gomirror/')));
  const onlyLocal = [...local].filter((k) => !keys.has(k));
  const onlyBucket = [...keys].filter((k) => !local.has(k));
  return { local: local.size, bucket: keys.size, onlyLocal: onlyLocal.slice(0, 5), onlyBucket: onlyBucket.slice(0, 5) };
}

function figures(legs: GwLeg[], versions: number, mb: number): GatewaySide {
  const { m, walls } = medianLeg(legs);
  return { ...side(m, versions, mb, walls), gatewayCpuS: m.gatewayCpuS, s3Requests: m.s3Requests };
}

/** Runs the local and the bucket sync of one shape in interleaved rounds under `work`. */
export async function runS3Shape(shape: ShapeName, o: S3ShapeOpts, work: string): Promise<S3ShapeFigures> {
  await fs.mkdir(work, { recursive: true });
  const versions = shape === 'big' ? o.bigVersions : o.versions;
  const { corpus, sumdbKey, specs } = await buildCorpus(shape, versions, o.seed, path.join(work, 'static'));
  const nginx = await startBenchNginx(corpus.root);
  const t: BenchTarget = { nginx, sumdbKey, specs };
  // The OSD keeps every object in RAM: room for every round's bucket and its metadata.
  const memBytes = Math.max(GIB, Math.ceil(corpus.downloadBytes * (o.repeat + 1) * 1.5) + GIB / 2);
  let rgw: Rgw | undefined;
  try {
    console.log(`[${shape}] starting a throwaway Ceph RGW (${Math.round(memBytes / 2 ** 20)} MiB memstore) ...`);
    rgw = await startRgw({ memBytes });
    const gw = rgw;
    const runs: { local: GwLeg[]; bucket: GwLeg[] } = { local: [], bucket: [] };
    let dir = '';
    let bucket = '';
    let extra = bucketExtra(gw, '');
    for (let i = 1; i <= o.repeat; i++) {
      console.log(`[${shape}] round ${i}/${o.repeat}: sync into a directory, sync into a bucket ...`);
      dir = path.join(work, `tree${i}`);
      runs.local.push(await gatewayLeg(gw, () => syncLeg(t, dir, o.concurrency)));
      bucket = await gw.bucket(`bench-${shape}`);
      extra = bucketExtra(gw, path.join(work, `work-dir${i}`));
      const url = `s3://${bucket}`;
      runs.bucket.push(await gatewayLeg(gw, (x) => syncLeg(t, url, o.concurrency, x), extra));
    }
    const noopLocal = await syncLeg(t, dir, o.concurrency);
    const last = `s3://${bucket}`;
    const noopBucket = await gatewayLeg(gw, (x) => syncLeg(t, last, o.concurrency, x), extra);
    for (const leg of [...runs.local, ...runs.bucket, noopLocal, noopBucket]) warnFailures(shape, leg);
    const mb = corpus.downloadBytes / MB;
    const local = figures(runs.local, corpus.versions, mb);
    const inBucket = figures(runs.bucket, corpus.versions, mb);
    return {
      shape,
      corpus: { versions: corpus.versions, downloadMB: mb },
      local,
      bucket: inBucket,
      noop: {
        localS: noopLocal.wallS,
        bucketS: noopBucket.wallS,
        bucketGatewayCpuS: noopBucket.gatewayCpuS,
        bucketS3Requests: noopBucket.s3Requests,
      },
      objects: await compareTrees(gw, dir, bucket),
      bucketVsLocal: inBucket.versionsPerS / local.versionsPerS,
    };
  } finally {
    await rgw?.stop();
    await nginx.stop();
  }
}
