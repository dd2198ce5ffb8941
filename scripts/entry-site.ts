/**
 * Where a whole zip entry is cheapest to inflate and hash: on the calling
 * thread, or on libuv's thread pool (src/zip/entry-data.ts, POOL_ENTRY_MIN).
 * For Go-like source text and incompressible data of several sizes, prints
 * per entry the calling thread's CPU time (from /proc, this thread only) and
 * the whole process's CPU time at each site (16 entries in flight on the
 * pool), so the threshold can be read off: the pool pays where it takes work
 * off the calling thread at an acceptable extra total cost.
 * Usage: npx tsc -p tsconfig.json && node dist/scripts/entry-site.js
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { ErrorCodes, GomirrorError } from '../src/errors.js';
import { hashEntryBytes, type EntryData, type HashSite } from '../src/zip/entry-data.js';

const SIZES = [4096, 16384, 65536, 131072, 262144, 1 << 20];

/** CPU seconds of the calling thread (its /proc task entry; clock ticks of 10 ms). */
function threadCpu(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function processCpu(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

function goText(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, len = 0; len < n; i++) {
    const l = `\tif err := f${i % 97}(ctx, x${i}); err != nil {\n\t\treturn fmt.Errorf("step ${i}: %w", err)\n\t}\n`;
    lines.push(l);
    len += l.length;
  }
  return Buffer.from(lines.join('')).subarray(0, n);
}

const fail = (reason: string): GomirrorError => new GomirrorError(ErrorCodes.BAD_ZIP, reason, { op: 'bench' });

/** Microseconds per entry: calling thread's CPU, whole process's CPU, wall. */
async function measure(raw: Buffer, e: EntryData, site: HashSite, n: number): Promise<number[]> {
  const inFlight = site === 'pool' ? 16 : 1;
  for (let i = 0; i < 20; i++) await hashEntryBytes(raw, e, false, fail, site);
  const t0 = threadCpu();
  const p0 = processCpu();
  const w0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next++ < n) await hashEntryBytes(raw, e, false, fail, site);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return [(threadCpu() - t0) / n, (processCpu() - p0) / n, (performance.now() - w0) / 1000 / n].map((s) => s * 1e6);
}

async function main(): Promise<void> {
  console.log('µs per entry: calling thread CPU / process CPU (wall)');
  for (const kind of ['Go text', 'random'] as const) {
    for (const size of SIZES) {
      const data = kind === 'random' ? randomBytes(size) : goText(size);
      const raw = deflateRawSync(data);
      const e: EntryData = {
        name: 'f',
        start: 0,
        compressedSize: raw.length,
        declaredSize: size,
        method: 8,
        crc32: crc32(data),
      };
      const n = Math.max(50, Math.round(3e8 / size));
      const [tThread = 0, tAll = 0, tWall = 0] = await measure(raw, e, 'thread', n);
      const [pThread = 0, pAll = 0, pWall = 0] = await measure(raw, e, 'pool', n);
      const f = (x: number): string => x.toFixed(0).padStart(5);
      console.log(
        `${kind.padEnd(7)} ${String(size >> 10).padStart(5)} KiB: thread ${f(tThread)} / ${f(tAll)} (${f(tWall)})` +
          ` | pool ${f(pThread)} / ${f(pAll)} (${f(pWall)})`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
