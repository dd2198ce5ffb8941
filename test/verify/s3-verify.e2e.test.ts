/**
 * Issue 16 items 3 and 8 on a real Ceph RGW: bit rot in a bucket. One byte
 * flipped in a `.zip` (and then in a `.mod`), the object's metadata left as
 * it was: `gomirror verify` exits 3 naming the object; `verify --repair`
 * puts back the original bytes (and metadata); `verify` then exits 0 and the
 * bucket equals what the sync published.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { bucketSnapshot, flipByte, getObject, listObjects } from '../helpers/bucket.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { startRgw, type Rgw } from '../helpers/rgw.js';
import { bucketArgs, rgwEnv } from '../helpers/s3-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

const PREFIX = 'tree';

interface Line {
  type: string;
  file?: string;
  security?: boolean;
}

// Several CLI runs against a gateway: generous under a parallel suite on two cores (about half of it alone).
describe('verify and verify --repair on a bucket (real Ceph RGW)', { timeout: 120_000 }, () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let root: string;
  let bucket: string;
  let clean: string[];

  const env = (): Record<string, string> => rgwEnv(rgw, path.join(root, 'cache'));
  const where = (): string[] => [
    ...bucketArgs(rgw.endpoint, bucket, PREFIX),
    '--sumdb',
    `${up.sumdbKey} ${up.sumdbUrl}`,
  ];
  async function verify(extra: string[] = []): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
    const r = await runCli(
      ['verify', ...where(), '--upstream', up.proxyUrl, '--json', '--log-format', 'json', ...extra],
      env(),
    );
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
    return { code: r.code, lines, stderr: r.stderr };
  }

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ seed: 63, modules: 5 }),
      makeTempDir('gomirror-s3verify-'),
    ]);
    bucket = await rgw.bucket('verify');
    const r = await runCli(
      ['sync', ...bucketArgs(rgw.endpoint, bucket, PREFIX), ...upstreamArgs(up), '--log-format', 'json'],
      env(),
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    clean = await bucketSnapshot(rgw, bucket, PREFIX);
  });
  afterAll(async () => {
    await up?.close();
    await rgw?.stop();
    if (root) await removeTempDir(root);
  });

  it('a clean bucket verifies with exit 0', async () => {
    const v = await verify();
    expect(v.code, v.stderr.slice(-3000)).toBe(0);
    expect(v.lines.filter((l) => l.type === 'problem')).toEqual([]);
  });

  for (const ext of ['zip', 'mod'] as const) {
    it(`a flipped byte in a .${ext}: verify exits 3 naming it, --repair restores it, verify exits 0`, async () => {
      const v = up.versions()[ext === 'zip' ? 1 : 2]!;
      const key = `${escapePath(v.path)}/@v/${escapeVersion(v.version)}.${ext}`;
      const original = await flipByte(rgw, bucket, key, PREFIX);
      expect(await getObject(rgw, bucket, key, PREFIX)).not.toEqual(original);

      const bad = await verify();
      expect(bad.code, bad.stderr.slice(-3000)).toBe(3);
      const problems = bad.lines.filter((l) => l.type === 'problem');
      expect(problems.map((p) => p.file)).toEqual([key]);
      expect(problems[0]!.security).toBe(true);

      const repair = await verify(['--repair']);
      expect(repair.code, repair.stderr.slice(-3000)).toBe(0);
      expect(repair.lines.some((l) => l.type === 'repaired' && l.file === key)).toBe(true);
      expect(await getObject(rgw, bucket, key, PREFIX)).toEqual(original);
      const quarantined = await listObjects(rgw, bucket, `${PREFIX}/.gomirror/quarantine`);
      expect(quarantined.some((o) => o.key.endsWith(key))).toBe(true);

      const again = await verify();
      expect(again.code, again.stderr.slice(-3000)).toBe(0);
      expect(await bucketSnapshot(rgw, bucket, PREFIX)).toEqual(clean);
    });
  }
});
