/**
 * The response bounds of the built-in server, in process with short limits:
 * a reader that stops reading is cut off after the idle timeout, a reader
 * slower than the minimum rate after the response deadline, and other
 * clients are served meanwhile (issue 17 item 7).
 */
import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer, type ServeLimits } from '../../src/serve/server.js';
import { rawGet } from '../helpers/serve-load.js';
import { buildTree, MOD } from '../helpers/tree-serving-cases.js';
import { makeTempDir } from '../helpers/tmp.js';

const BIG = 64 << 20;

/**
 * Requests the big zip, reads nothing for `stallMs`, then reads `bytesPerTick` every 50 ms until the connection ends;
 * resolves with the bytes received.
 */
function reader(port: number, stallMs: number, bytesPerTick: number): Promise<number> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = 0;
    s.on('connect', () => {
      s.write(`GET /${MOD}/@v/v9.0.0.zip HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      s.pause();
      setTimeout(() => {
        if (bytesPerTick === Infinity) {
          s.on('data', (d: Buffer) => (got += d.length));
          s.resume();
        }
        const tick = setInterval(() => {
          if (bytesPerTick === Infinity) return;
          let chunk: Buffer | null;
          let n = 0;
          while (n < bytesPerTick && (chunk = s.read() as Buffer | null) !== null) {
            got += chunk.length;
            n += chunk.length;
          }
        }, 50);
        s.on('end', () => {
          clearInterval(tick);
          resolve(got);
        });
        s.on('close', () => {
          clearInterval(tick);
          resolve(got);
        });
      }, stallMs);
    });
    s.on('error', () => resolve(got));
  });
}

describe('gomirror serve response bounds', () => {
  let root: string;
  const servers: RunningServer[] = [];
  const start = async (limits: Partial<ServeLimits>): Promise<number> => {
    const s = await startServer({ kind: 'fs', dir: root }, { host: '127.0.0.1', port: 0 }, { limits });
    servers.push(s);
    return Number(new URL(s.url).port);
  };

  beforeAll(async () => {
    root = await makeTempDir('gomirror-limits-');
    await buildTree(root);
    await writeFile(path.join(root, MOD, '@v', 'v9.0.0.zip'), Buffer.alloc(BIG, 1));
  });
  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('a reader that stops reading is cut off after the idle timeout; others are served meanwhile', async () => {
    const port = await start({ idleTimeoutMs: 1_500 });
    const stalled = reader(port, 5_000, Infinity);
    await new Promise((r) => setTimeout(r, 500));
    const other = await rawGet(port, `/${MOD}/@v/list`);
    expect('status' in other && other.status).toBe(200);
    const got = await stalled;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(BIG);
  }, 60_000);

  it('a reader slower than the minimum rate is cut off at the response deadline', async () => {
    const port = await start({ responseBaseMs: 1_000, minBytesPerSecond: 32 << 20 });
    const t0 = Date.now();
    const got = await reader(port, 0, 64 << 10); // about 1.3 MiB/s, far below 32 MiB/s
    expect(got).toBeLessThan(BIG);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  it('a reader at full speed gets the whole file within the same bounds', async () => {
    const port = await start({ idleTimeoutMs: 1_500, responseBaseMs: 1_000, minBytesPerSecond: 32 << 20 });
    const got = await reader(port, 0, Infinity);
    expect(got).toBeGreaterThan(BIG); // headers + body
  }, 60_000);
});
