/**
 * A bench corpus served by the bench nginx until interrupted, for profiling
 * one sync by hand: prints the sync's arguments (index, upstream, sumdb) as
 * JSON, then waits for SIGINT/SIGTERM.
 * Usage: node dist/scripts/bench/serve-corpus.js SHAPE VERSIONS DIR [RTT_MS]
 */
import path from 'node:path';
import { startBenchNginx } from './nginx-upstream.js';
import { buildCorpus, type ShapeName } from './shape.js';

async function main(): Promise<void> {
  const [shape, versions, dir, rtt] = process.argv.slice(2);
  if (shape !== 'small' && shape !== 'big' && shape !== 'tiny') throw new Error('SHAPE must be small, big or tiny');
  const { corpus, sumdbKey } = await buildCorpus(shape as ShapeName, Number(versions), 1, path.resolve(String(dir)));
  const nginx = await startBenchNginx(corpus.root, Number(rtt ?? 0));
  const u = nginx.url;
  const args = ['--index', `${u}/index`, '--upstream', `${u}/proxy`, '--sumdb', `${sumdbKey} ${u}/sumdb`];
  process.stdout.write(`${JSON.stringify({ args, accessLog: nginx.accessLog })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await nginx.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
