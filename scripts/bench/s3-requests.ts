/**
 * Counts the S3 requests a gomirror process sends, by command (PutObject,
 * HeadObject, GetObject, ListObjectsV2, …), with their summed latency: a
 * `--import` module wraps `S3Client.prototype.send` of the process's AWS SDK
 * and undici's `Agent.prototype.request` (the signed object requests of
 * src/storage/s3-signed.ts, told apart from upstream fetches by their
 * `x-amz-content-sha256` header; a GET with `list-type=2` is a listing) and
 * writes the counts to a JSON file when the process exits. For the bench
 * only: the product is run unchanged.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Requests and summed milliseconds per S3 command. */
export type S3RequestCounts = Record<string, { n: number; ms: number }>;

/** The preload's source: `createRequire` from the repository finds the same SDK instance the CLI loads. */
function preloadSource(out: string): string {
  const anchor = path.resolve(here, '..', '..', '..', 'package.json');
  return `
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const { S3Client } = createRequire(${JSON.stringify(anchor)})('@aws-sdk/client-s3');
const counts = {};
const send = S3Client.prototype.send;
S3Client.prototype.send = async function (command, ...rest) {
  const name = command.constructor.name.replace(/Command$/, '');
  const c = (counts[name] ??= { n: 0, ms: 0 });
  const t0 = performance.now();
  try {
    return await send.call(this, command, ...rest);
  } finally {
    c.n++;
    c.ms += performance.now() - t0;
  }
};
const OBJECT_OPS = { PUT: 'PutObject', HEAD: 'HeadObject', GET: 'GetObject' };
const { Agent } = createRequire(${JSON.stringify(anchor)})('undici');
const request = Agent.prototype.request;
Agent.prototype.request = async function (opts, ...rest) {
  const signed = opts?.headers?.['x-amz-content-sha256'] !== undefined;
  const listing = signed && opts.method === 'GET' && String(opts.path).includes('list-type=2');
  const name = listing ? 'ListObjectsV2' : signed ? OBJECT_OPS[opts.method] : undefined;
  if (name === undefined) return request.call(this, opts, ...rest);
  const c = (counts[name] ??= { n: 0, ms: 0 });
  const t0 = performance.now();
  try {
    return await request.call(this, opts, ...rest);
  } finally {
    c.n++;
    c.ms += performance.now() - t0;
  }
};
process.on('exit', () => writeFileSync(${JSON.stringify(out)}, JSON.stringify(counts)));
`;
}

/** Node arguments that make a process count its S3 requests into `out`. */
export function countS3Requests(out: string): string[] {
  return ['--import', `data:text/javascript,${encodeURIComponent(preloadSource(out))}`];
}

/** The counts a process wrote (empty when it sent none or wrote nothing). */
export async function readS3Counts(out: string): Promise<S3RequestCounts> {
  const text = await readFile(out, 'utf8').catch(() => '{}');
  return JSON.parse(text) as S3RequestCounts;
}
