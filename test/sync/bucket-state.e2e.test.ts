/**
 * End-to-end: `gomirror sync` with its state in a bucket of a real Ceph
 * RGW: a replacement host continues from the bucket alone, two runs never
 * both hold the bucket lock, a killed holder on this host is taken over at
 * once, and a run that loses its lock stops publishing (exit 1).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLeaseHolder } from '../../src/store/lease.js';
import { collect, runCli, spawnCli, upstreamArgs } from '../helpers/cli.js';
import { listAllKeys, startRgw, type Rgw } from '../helpers/rgw.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { treeLines } from '../helpers/tree.js';
import { waitFor } from '../helpers/wait.js';
import { startUpstream, type FakeUpstream } from '../upstream/index.js';

describe('sync with its state in a bucket (real Ceph RGW)', () => {
  let rgw: Rgw;
  let up: FakeUpstream;
  let root: string;
  let reference: string[];

  beforeAll(async () => {
    [rgw, up, root] = await Promise.all([
      startRgw(),
      startUpstream({ pageShortEvery: 3 }),
      makeTempDir('gomirror-bs-'),
    ]);
    const ref = path.join(root, 'reference');
    const r = await runCli(['sync', '--dest', ref, ...upstreamArgs(up), '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    reference = await treeLines(ref);
  }, 120_000);

  afterAll(async () => {
    await up?.close();
    await rgw?.stop();
    if (root !== undefined) await removeTempDir(root);
  });

  const dir = (name: string): string => path.join(root, name);
  const syncArgs = (dest: string, state: string, work: string, extra: string[] = []): string[] => [
    'sync',
    '--dest',
    dest,
    '--state',
    state,
    '--work-dir',
    work,
    '--s3-path-style',
    ...upstreamArgs(up),
    '--concurrency',
    '4',
    '--log-format',
    'json',
    ...extra,
  ];
  const zipsRequested = (from: number): string[] =>
    up.requests
      .slice(from)
      .filter((r) => r.path.endsWith('.zip'))
      .map((r) => r.path);
  const lockBody = async (bucket: string, key: string): Promise<string> => {
    const out = await rgw.admin.client.send(new rgw.admin.sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body!.transformToString();
  };

  it('a replacement host continues from the bucket alone: resumes at the cursor, same tree as an uninterrupted run', async () => {
    const bucket = await rgw.bucket('state');
    const state = `s3://${bucket}/mirror/state`;
    const dest = dir('replace-tree');
    const half = String(Math.floor(up.versions().length / 2));
    const startMark = up.requests.length;
    const first = await runCli(syncArgs(dest, state, dir('work-a'), ['--max-versions', half]), rgw.env);
    expect(first.code, first.stderr).toBe(0);
    const fromStart = up.requests.slice(startMark).find((r) => r.path.includes('since='));
    expect(decodeURIComponent(fromStart!.path)).toContain('since=1970-01-01T00:00:00Z');
    const keys = await listAllKeys(rgw, bucket, 'mirror/state/');
    expect(keys).toContain('mirror/state/cursor.json');
    expect(keys).toContain('mirror/state/settings.json');
    expect(keys.some((k) => /\/sumdb\/[^/]+\/latest$/.test(k))).toBe(true);
    expect(keys.filter((k) => /\/(tmp|tile)\/|\/reserve$|\/lock$/.test(k) && !k.includes('/.gomirror/'))).toEqual([]);
    const before = new Set((await treeLines(dest)).filter((l) => l.includes('.zip ')).map((l) => l.split(' ')[0]));
    expect(before.size).toBeGreaterThan(0);

    await fs.rm(dir('work-a'), { recursive: true, force: true }); // the first host is gone
    const mark = up.requests.length;
    const second = await runCli(syncArgs(dest, state, dir('work-b')), rgw.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('state pulled from the bucket');
    const refetched = zipsRequested(mark).filter((p) => before.has(p.replace(/^\/proxy\//, '')));
    expect(refetched).toEqual([]);
    // It read the feed from the bucket's cursor, not from the beginning.
    const firstPage = up.requests.slice(mark).find((r) => r.path.includes('since='));
    expect(firstPage?.path).toBeDefined();
    expect(decodeURIComponent(firstPage!.path)).not.toContain('since=1970-01-01T00:00:00Z');
    expect(await treeLines(dest)).toEqual(reference);

    // A third host with a new working copy still refuses another checksum database: the key is recorded in the bucket.
    const other = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
    const third = await runCli([...syncArgs(dest, state, dir('work-c')), '--sumdb', other], rgw.env);
    expect(third.code).toBe(2);
    expect(third.stderr).toContain(`recorded in ${state}/settings.json`);
  }, 120_000);

  /** The served objects under `prefix/` as "key sha256" lines, like treeLines of a directory (nothing under .gomirror/). */
  const bucketLines = async (bucket: string, prefix: string): Promise<string[]> => {
    const lines: string[] = [];
    for (const key of await listAllKeys(rgw, bucket, `${prefix}/`)) {
      const rel = key.slice(prefix.length + 1);
      if (rel.startsWith('.gomirror/')) continue;
      const out = await rgw.admin.client.send(new rgw.admin.sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from(await out.Body!.transformToByteArray());
      lines.push(`${rel} ${createHash('sha256').update(bytes).digest('hex')}`);
    }
    return lines.sort();
  };

  it('a bucket tree with its default bucket state: a new work dir resumes at the cursor and completes the same tree', async () => {
    const bucket = await rgw.bucket('tree');
    const dest = `s3://${bucket}/mirror`;
    const args = (work: string, extra: string[] = []): string[] =>
      syncArgs(dest, dest, work, extra).filter((a, i, all) => a !== '--state' && all[i - 1] !== '--state');
    const half = String(Math.floor(up.versions().length / 2));
    const first = await runCli(args(dir('tree-a'), ['--max-versions', half]), rgw.env);
    expect(first.code, first.stderr).toBe(0);
    const keys = await listAllKeys(rgw, bucket, 'mirror/.gomirror/');
    expect(keys).toContain('mirror/.gomirror/lock');
    expect(keys).toContain('mirror/.gomirror/state/cursor.json');
    const before = new Set(
      (await bucketLines(bucket, 'mirror')).filter((l) => l.includes('.zip ')).map((l) => l.split(' ')[0]),
    );
    expect(before.size).toBeGreaterThan(0);
    await fs.rm(dir('tree-a'), { recursive: true, force: true });
    const mark = up.requests.length;
    const second = await runCli(args(dir('tree-b')), rgw.env);
    expect(second.code, second.stderr).toBe(0);
    expect(zipsRequested(mark).filter((p) => before.has(p.replace(/^\/proxy\//, '')))).toEqual([]);
    expect(await bucketLines(bucket, 'mirror')).toEqual(reference);

    // status on yet another host reads the bucket state without any lock; verify --repair takes the bucket lock.
    const status = await runCli(
      ['status', '--dest', dest, '--work-dir', dir('tree-c'), '--s3-path-style', '--json'],
      rgw.env,
    );
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { synced: boolean; cursor?: { since: string }; trustedHead?: unknown };
    expect(report.synced).toBe(true);
    expect(report.cursor?.since).toBe(up.versions().at(-1)?.timestamp);
    expect(report.trustedHead).toBeDefined();
    await expect(fs.readdir(dir('tree-c'))).resolves.toEqual([]); // the read-only copy is gone
    const repair = await runCli(
      ['verify', '--repair', '--dest', dest, '--work-dir', dir('tree-d'), '--s3-path-style', ...upstreamArgs(up)],
      rgw.env,
    );
    expect(repair.code, repair.stderr).toBe(0);
    expect(parseLeaseHolder(await lockBody(bucket, 'mirror/.gomirror/lock'))).toMatchObject({ command: 'verify' });
  }, 120_000);

  it('two syncs with different local states into one bucket: the second exits 4 naming the holder', async () => {
    const bucket = await rgw.bucket('twotree');
    const dest = `s3://${bucket}/m`;
    for (const v of up.versions()) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 300 });
    try {
      const first = spawnCli(syncArgs(dest, dir('local-state-a'), dir('lw-a')), rgw.env);
      const firstDone = collect(first);
      await waitFor(async () => (await listAllKeys(rgw, bucket, 'm/.gomirror/')).length > 0);
      const second = await runCli(syncArgs(dest, dir('local-state-b'), dir('lw-b')), rgw.env);
      expect(second.code).toBe(4);
      expect(second.stderr).toContain(`s3://${bucket}/m/.gomirror/lock is held by gomirror sync (pid ${first.pid}`);
      first.kill('SIGKILL');
      await firstDone;
    } finally {
      up.clearFaults();
    }
  }, 120_000);

  it('two runs with different local working copies of one bucket state: the second exits 4 naming the holder', async () => {
    const bucket = await rgw.bucket('two');
    const state = `s3://${bucket}/st`;
    for (const v of up.versions()) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 300 });
    try {
      const first = spawnCli(syncArgs(dir('two-tree-a'), state, dir('two-a')), rgw.env);
      const firstDone = collect(first);
      await waitFor(async () => (await listAllKeys(rgw, bucket, 'st/.gomirror/')).length > 0);
      const second = await runCli(syncArgs(dir('two-tree-b'), state, dir('two-b')), rgw.env);
      expect(second.code).toBe(4);
      expect(second.stderr).toContain('GOMIRROR_LOCKED');
      expect(second.stderr).toContain(`s3://${bucket}/st/.gomirror/lock is held by gomirror sync (pid ${first.pid}`);
      first.kill('SIGKILL');
      await firstDone;
    } finally {
      up.clearFaults();
    }
  }, 120_000);

  it('kill -9 during syncs into a bucket, several times: the next run on this host takes the lock over at once, and the bucket equals an uninterrupted run', async () => {
    const bucket = await rgw.bucket('kill');
    const dest = `s3://${bucket}/m`;
    const args = (): string[] =>
      syncArgs(dest, dest, dir('kill-work')).filter((a, i, all) => a !== '--state' && all[i - 1] !== '--state');
    for (const v of up.versions()) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 2000 });
    for (let i = 0; i < 3; i++) {
      const child = spawnCli(args(), rgw.env);
      const done = collect(child);
      await waitFor(async () => (await listAllKeys(rgw, bucket, 'm/.gomirror/')).length > 0);
      await new Promise((r) => setTimeout(r, 300 + 400 * i));
      child.kill('SIGKILL');
      await done;
    }
    up.clearFaults();
    const started = Date.now();
    const last = await runCli(args(), rgw.env);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toContain('took over the bucket lock');
    expect(Date.now() - started).toBeLessThan(60_000); // no waiting out the 60 s lease
    expect(await bucketLines(bucket, 'm')).toEqual(reference);
    expect(parseLeaseHolder(await lockBody(bucket, 'm/.gomirror/lock'))?.releasedAt).toBeDefined();
  }, 180_000);

  it('a run whose lock is taken stops publishing at once: exit 1, and the taker keeps the lock', async () => {
    const bucket = await rgw.bucket('lost');
    const state = `s3://${bucket}/st`;
    for (const v of up.versions()) up.inject(v.path, v.version, 'zip', { kind: 'slow', bytesPerSec: 300 });
    try {
      const child = spawnCli(syncArgs(dir('lost-tree'), state, dir('lost-work'), ['--lock-lease', '10s']), rgw.env);
      const done = collect(child);
      await waitFor(async () => (await listAllKeys(rgw, bucket, 'st/.gomirror/')).length > 0);
      const thief = JSON.stringify({
        host: 'other-host',
        pid: 1,
        command: 'sync',
        runId: 'thief',
        leaseMs: 600_000,
        acquiredAt: new Date().toISOString(),
        renewedAt: new Date().toISOString(),
      });
      await rgw.admin.client.send(
        new rgw.admin.sdk.PutObjectCommand({ Bucket: bucket, Key: 'st/.gomirror/lock', Body: thief }),
      );
      const stolenAt = Date.now();
      const r = await done;
      expect(Date.now() - stolenAt).toBeLessThan(15_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('GOMIRROR_ABORTED');
      expect(r.stderr).toContain('lost the bucket lock');
      expect(parseLeaseHolder(await lockBody(bucket, 'st/.gomirror/lock'))?.runId).toBe('thief');
    } finally {
      up.clearFaults();
    }
  }, 120_000);
});
