/**
 * The S3 client is loaded only for bucket locations (issue 16 item 2): every
 * command on a local tree runs without resolving any module of the AWS SDK
 * (`@aws-sdk/*`, `@smithy/*`), checked by tracing module resolution in the
 * real CLI process, not by timing. The control proves the trace sees the SDK
 * when it is loaded.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, upstreamArgs } from '../helpers/cli.js';
import { runTraced } from '../helpers/module-trace.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const SDK = /\/node_modules\/(@aws-sdk|@smithy)\//;

describe('the AWS SDK is not loaded for local trees', () => {
  let up: FakeUpstream;
  let dir: string;
  let dest: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 16 });
    dir = await makeTempDir('gomirror-lazy-sdk-');
    dest = path.join(dir, 'tree');
  });
  afterAll(async () => {
    await up?.close();
    await removeTempDir(dir);
  });

  const cli = (args: string[]) => runTraced(cliPath, args, dir);

  it('control: loading the S3 client resolves @aws-sdk modules, and the trace records them', async () => {
    const script = path.join(dir, 'load-sdk.mjs');
    const client = path.join(repoRoot, 'dist', 'src', 'storage', 's3-client.js');
    await fs.writeFile(script, `import { loadS3Sdk } from ${JSON.stringify(client)};\nawait loadS3Sdk();\n`);
    const r = await runTraced(script, [], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.modules.some((u) => SDK.test(u))).toBe(true);
  });

  it('control: a command on a bucket resolves @aws-sdk modules in the CLI process', async () => {
    // Nothing listens on port 1: the command fails after loading the client, which is all this checks.
    const env = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_REGION: 'us-east-1' };
    const args = ['status', '--dest', 's3://no-such-bucket', '--s3-endpoint', 'http://127.0.0.1:1', '--s3-path-style'];
    const r = await runTraced(cliPath, args, dir, env);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.modules.some((u) => SDK.test(u))).toBe(true);
  });

  it('--help, sync, a no-op sync, status and verify on a directory never resolve the SDK', async () => {
    const runs = [
      ['--help'],
      ['sync', '--dest', dest, ...upstreamArgs(up), '--concurrency', '4', '--min-free-space', '1M'],
      ['sync', '--dest', dest, ...upstreamArgs(up), '--concurrency', '4', '--min-free-space', '1M'],
      ['status', '--dest', dest],
      ['verify', '--dest', dest],
    ];
    for (const args of runs) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.modules.some((u) => u.endsWith('/dist/src/cli/main.js'))).toBe(true);
      expect(r.modules.filter((u) => SDK.test(u))).toEqual([]);
    }
    expect((await fs.readdir(dest)).length).toBeGreaterThan(1);
  });
});
