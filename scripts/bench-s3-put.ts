/**
 * PUT throughput of the product's S3 path (issue 16 item 2): a throwaway
 * Ceph RGW on this host (../shared/ceph-rgw/up.sh through
 * test/helpers/rgw.ts), and for each object size and number of PUTs in
 * flight, `S3TreeStorage.put` of fresh keys into a fresh bucket, in
 * interleaved rounds. Prints objects/s, MB/s, this process's CPU per object
 * (the client: preparing the put, the SDK, HTTP) and the gateway's CPU per
 * object (mon + OSD + radosgw), median round. The sha256 is handed in as the
 * sync does (it hashes while verifying).
 * Usage: npm run bench:s3-put -- [--objects 4096:2000,1048576:200] [--inflight 16,64] [--rounds 3]
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_S3_LIMITS } from '../src/storage/s3-client.js';
import { openS3Tree } from '../src/storage/s3.js';
import { rgwLocation, startRgw, type Rgw } from '../test/helpers/rgw.js';
import { gatewayCpuS } from './bench/gateway.js';

interface Case {
  size: number;
  count: number;
  inflight: number;
}

interface Round {
  wallS: number;
  clientCpuS: number;
  gatewayCpuS: number;
}

function options(): { cases: Case[]; rounds: number } {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '4096:2000,1048576:200' },
      inflight: { type: 'string', default: '16,64' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const cases: Case[] = [];
  for (const spec of values.objects.split(',')) {
    const [size, count] = spec.split(':').map(Number);
    if (!(size! > 0 && count! > 0)) throw new Error(`--objects takes SIZE:COUNT,…, got ${spec}`);
    for (const inflight of values.inflight.split(',').map(Number)) cases.push({ size: size!, count: count!, inflight });
  }
  return { cases, rounds: Math.max(1, Number(values.rounds)) };
}

/** One round of one case: `count` puts of `size` bytes with `inflight` at once into a fresh bucket. */
async function runCase(rgw: Rgw, c: Case, round: number): Promise<Round> {
  const bucket = await rgw.bucket('put');
  const tree = await openS3Tree(rgwLocation(rgw, bucket), {
    limits: { ...DEFAULT_S3_LIMITS, maxSockets: c.inflight },
  });
  // 16 distinct bodies, rotated: no layer can deduplicate, and the hashes are known beforehand (as in a sync).
  const bodies = Array.from({ length: 16 }, () => randomBytes(c.size));
  const sums = bodies.map((b) => createHash('sha256').update(b).digest('hex'));
  try {
    const g0 = await gatewayCpuS(rgw.dir);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < c.count) {
        const i = next++;
        const key = `example.com/r${round}/m${i % 97}/@v/v1.0.${i}.zip`;
        await tree.put(key, { kind: 'bytes', data: bodies[i % 16]! }, { sha256: sums[i % 16]! });
      }
    };
    await Promise.all(Array.from({ length: c.inflight }, worker));
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return { wallS, clientCpuS: (cpu.user + cpu.system) / 1e6, gatewayCpuS: (await gatewayCpuS(rgw.dir)) - g0 };
  } finally {
    tree.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1] ?? NaN;
}

function report(cases: Case[], results: Round[][]): string {
  const head =
    'objects x size @in flight      objects/s     MB/s  client CPU ms/object  RGW CPU ms/object  rounds (wall s)';
  const lines = [head];
  cases.forEach((c, i) => {
    const rs = results[i] ?? [];
    const wall = median(rs.map((r) => r.wallS));
    const label = `${c.count} x ${c.size} B @${c.inflight}`;
    lines.push(
      [
        label.padEnd(28),
        (c.count / wall).toFixed(0).padStart(10),
        ((c.count * c.size) / 1e6 / wall).toFixed(1).padStart(8),
        ((1000 * median(rs.map((r) => r.clientCpuS))) / c.count).toFixed(2).padStart(21),
        ((1000 * median(rs.map((r) => r.gatewayCpuS))) / c.count).toFixed(2).padStart(18),
        `  ${rs.map((r) => r.wallS.toFixed(2)).join(' ')}`,
      ].join(' '),
    );
  });
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { cases, rounds } = options();
  const stored = cases.reduce((a, c) => a + c.size * c.count, 0) * rounds;
  const rgw = await startRgw({ memBytes: Math.max(2 ** 30, Math.ceil(stored * 1.5) + 2 ** 29) });
  const load0 = os.loadavg();
  try {
    const results: Round[][] = cases.map(() => []);
    for (let r = 1; r <= rounds; r++) {
      console.log(`round ${r}/${rounds} ...`);
      for (const [i, c] of cases.entries()) results[i]!.push(await runCase(rgw, c, r));
    }
    const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`\nmachine: ${os.cpus().length} CPUs, load ${load(load0)} at start, ${load(os.loadavg())} at end`);
    console.log(`S3TreeStorage.put into Ceph RGW on this host, median of ${rounds} interleaved round(s)`);
    console.log(report(cases, results));
  } finally {
    await rgw.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
