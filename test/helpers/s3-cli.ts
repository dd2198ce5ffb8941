/**
 * Running the built CLI against a bucket on the test gateway: the options
 * that name a bucket location, the child environment (the gateway's
 * credentials, a private cache directory for the working copy), and the
 * checks every S3 failure must pass (one plain line naming the endpoint, the
 * bucket and the S3 error code; no stack trace).
 */
import { expect } from 'vitest';
import type { CliResult } from './cli.js';
import type { Rgw } from './rgw.js';

/** `s3://bucket[/prefix]`. */
export function bucketUrl(bucket: string, prefix = ''): string {
  return prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
}

/** The options that put a command's tree in `bucket` (under `prefix`) at `endpoint`, path style. */
export function bucketArgs(endpoint: string, bucket: string, prefix = ''): string[] {
  return ['--dest', bucketUrl(bucket, prefix), '--s3-path-style', '--s3-endpoint', endpoint];
}

/**
 * The environment of a CLI child: the gateway's AWS_* variables and `cacheHome` as XDG_CACHE_HOME (the working copies).
 */
export function rgwEnv(rgw: Rgw, cacheHome: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...rgw.env, XDG_CACHE_HOME: cacheHome, ...extra };
}

/** The stderr lines that are not JSON log records (the CLI's own report, or a crash's raw stack). */
export function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

/**
 * Checks an S3 failure's ending: exit `exitCode`, exactly one plain stderr
 * line that matches `line` and names the endpoint and the bucket, no stack
 * trace anywhere in the plain output. Returns the line.
 */
export function expectOneS3Line(
  r: CliResult,
  opts: { exitCode: number; endpoint: string; bucket: string; line: RegExp },
): string {
  const plain = plainLines(r.stderr);
  expect(plain, r.stderr.slice(-3000)).toHaveLength(1);
  const only = plain[0]!;
  expect(only).toMatch(/^gomirror: /);
  expect(only).toContain(opts.endpoint);
  expect(only).toContain(`s3://${opts.bucket}`);
  expect(only).toMatch(opts.line);
  expect(plain.join('\n')).not.toMatch(/Unhandled|node:internal|^\s+at /m);
  expect(r.code, r.stderr.slice(-3000)).toBe(opts.exitCode);
  return only;
}
