/**
 * Child process of the benchmark: the raw-download limit. Downloads every URL
 * listed in a file (one per line) with undici, `concurrency` at a time through
 * one keep-alive Agent sized like gomirror's, and streams each body to a file
 * under `outDir` (no hashing, no verification). Prints {"files","bytes"} JSON.
 * Usage: node raw-download.js URLS_FILE CONCURRENCY OUT_DIR
 */
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'undici';

async function main(): Promise<void> {
  const [listFile, concRaw, outDir] = process.argv.slice(2);
  if (listFile === undefined || concRaw === undefined || outDir === undefined) {
    throw new Error('usage: raw-download URLS_FILE CONCURRENCY OUT_DIR');
  }
  const urls = (await fs.readFile(listFile, 'utf8')).split('\n').filter((u) => u !== '');
  const concurrency = Number(concRaw);
  const agent = new Agent({ connections: Math.max(concurrency * 2, 8), keepAliveTimeout: 30_000 });
  await fs.mkdir(outDir, { recursive: true });
  let next = 0;
  let bytes = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < urls.length; i = next++) {
      const url = urls[i] as string;
      const res = await request(url, { dispatcher: agent });
      if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
      res.body.on('data', (c: Buffer) => (bytes += c.length));
      await pipeline(res.body, createWriteStream(path.join(outDir, `f${i}`)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await agent.close();
  process.stdout.write(`${JSON.stringify({ files: urls.length, bytes })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
