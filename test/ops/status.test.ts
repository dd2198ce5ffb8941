import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { statusCommand } from '../../src/cli/status.js';
import { parseSumdbSpec } from '../../src/config/sumdb-spec.js';
import {
  collectStatus,
  fileStatusSources,
  formatBytes,
  formatStatus,
  lagSeconds,
  type StatusSources,
} from '../../src/ops/status.js';
import { emptyUsage } from '../../src/ops/tree-usage.js';
import { zeroCounts } from '../../src/store/tree-counts.js';
import { formatTreeNote, signNote } from '../../src/sumdb/note.js';
import { fileTrustedHeadStore } from '../../src/sumdb/trusted.js';
import type { RetryItem, RunSummary } from '../../src/store/state-records.js';
import { StateStore } from '../../src/store/state.js';
import { newKey } from '../sumdb/fakelog.js';
import { makeTempDir } from '../helpers/tmp.js';
import { outcomeOfExitCode } from '../../src/cli/exit-codes.js';
import { FsTreeStorage } from '../../src/storage/fs.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const DIRS = { dest: '/srv/m', state: '/srv/m/.gomirror' };
const SUMMARY: RunSummary = {
  startedAt: '2024-05-01T11:00:00.000Z',
  finishedAt: '2024-05-01T11:01:30.000Z',
  durationMs: 90_000,
  exitCode: 1,
  published: 10,
  skipped: 1,
  failed: 2,
  filtered: 3,
  invalid: 0,
  bytes: 2048,
  failures: [],
};

function retry(module: string, nextAttemptAt: string): RetryItem {
  return { module, version: 'v1.0.0', attempts: 1, nextAttemptAt, lastError: { code: 'GOMIRROR_HTTP', message: 'x' } };
}

async function* items<T>(list: T[]): AsyncGenerator<T> {
  yield* list;
}

function fakeSources(over: Partial<StatusSources> = {}): StatusSources & { walked: number } {
  const src = {
    walked: 0,
    loadCursor: async () => ({ since: '2024-05-01T11:59:00Z', seenAtSince: [] }),
    loadSummary: async () => SUMMARY,
    retries: () => items([retry('a.com/x', '2024-05-01T13:00:00Z'), retry('b.com/y', '2024-05-01T12:30:00Z')]),
    skipped: () => items([{ reason: 'r', code: 'c', at: 'now' }]),
    future: async () => undefined,
    trustedHead: async () => ({ name: 'sum.golang.org', size: 99, hash: 'aGFzaA==', verified: true }),
    settings: async () => undefined,
    upstreamHealth: async () => [],
    usage: async () => {
      src.walked++;
      return { ...emptyUsage(), modules: 4, totalBytes: 10 };
    },
    counts: async () => ({ ...zeroCounts(), modules: 3, versions: 7, exact: true, open: false, updatedAt: 'x' }),
    filesystem: async () => ({ totalBytes: 1 << 30, usedBytes: 1 << 29, availableBytes: 1 << 29 }),
    ...over,
  };
  return src;
}

describe('collectStatus', () => {
  it('reports cursor lag, last run, retry backlog, skipped, trusted head, counts and free space, no walk', async () => {
    const src = fakeSources();
    const r = await collectStatus(DIRS, src, NOW, { outcomeOfExitCode });
    expect(r.synced).toBe(true);
    expect(r.cursor).toEqual({ since: '2024-05-01T11:59:00Z', lagSeconds: 60 });
    expect(r.lastRun).toMatchObject({ exitCode: 1, published: 10, failed: 2, durationSeconds: 90, bytes: 2048 });
    expect(r.lastRun?.result).toMatch(/failed/);
    expect(r.retry).toEqual({ count: 2, oldestNextAttemptAt: '2024-05-01T12:30:00Z' });
    expect(r.skipped).toBe(1);
    expect(r.trustedHead?.size).toBe(99);
    expect(r.counts).toMatchObject({ modules: 3, versions: 7, exact: true });
    expect(r.filesystem?.availableBytes).toBe(1 << 29);
    expect(r.disk).toBeUndefined();
    expect(src.walked).toBe(0);
  });

  it('walks the tree only with walk', async () => {
    const src = fakeSources();
    const r = await collectStatus(DIRS, src, NOW, { disk: true, walk: true, outcomeOfExitCode });
    expect(r.disk?.modules).toBe(4);
    expect(src.walked).toBe(1);
  });

  it('says never synced, and does not walk the tree, when there is no cursor and no run', async () => {
    const src = fakeSources({
      loadCursor: async () => undefined,
      loadSummary: async () => undefined,
      retries: () => items([]),
      trustedHead: async () => undefined,
    });
    const r = await collectStatus(DIRS, src, NOW, { outcomeOfExitCode });
    expect(r.synced).toBe(false);
    expect(r.disk).toBeUndefined();
    expect(src.walked).toBe(0);
    expect(r.retry).toEqual({ count: 0 });
    expect(formatStatus(r)).toMatch(/^status\s+never synced$/m);
  });

  it('skips the disk walk when asked', async () => {
    const src = fakeSources();
    const r = await collectStatus(DIRS, src, NOW, { disk: false, outcomeOfExitCode });
    expect(r.disk).toBeUndefined();
    expect(r.counts).toBeUndefined();
    expect(src.walked).toBe(0);
  });
});

describe('formatStatus', () => {
  it('prints aligned key/value lines', async () => {
    const text = formatStatus(await collectStatus(DIRS, fakeSources(), NOW, { outcomeOfExitCode }));
    const lines = text.trimEnd().split('\n');
    const valueColumn = (l: string): number => /^\S+(?: \S+)*\s{2,}/.exec(l)?.[0].length ?? -1;
    expect(new Set(lines.map(valueColumn)).size).toBe(1);
    expect(text).toMatch(/^cursor\s+2024-05-01T11:59:00Z$/m);
    expect(text).toMatch(/^lag\s+1m$/m);
    expect(text).toMatch(/^retry backlog\s+2 \(next attempt from 2024-05-01T12:30:00Z\)$/m);
    expect(text).toMatch(/^trusted tree\s+sum\.golang\.org size 99 hash aGFzaA==$/m);
    expect(text).toMatch(/^modules\s+3$/m);
    expect(text).toMatch(/^versions\s+7$/m);
    expect(text).toMatch(/^filesystem\s+512\.0 MiB used of 1\.0 GiB, 512\.0 MiB available$/m);
  });

  it('says when no counts were kept yet', async () => {
    const text = formatStatus(
      await collectStatus(DIRS, fakeSources({ counts: async () => undefined }), NOW, { outcomeOfExitCode }),
    );
    expect(text).toMatch(/^modules\s+not counted yet .*status --walk/m);
  });

  it('flags inexact counts', async () => {
    const src = fakeSources({
      counts: async () => ({ ...zeroCounts(), modules: 3, versions: 7, exact: false, open: false, updatedAt: 'x' }),
    });
    expect(formatStatus(await collectStatus(DIRS, src, NOW, { outcomeOfExitCode }))).toMatch(
      /^modules\s+3 \(INEXACT: .*status --walk recounts\)$/m,
    );
  });

  it('shows future-stamped entries held back and entries a full journal did not record', async () => {
    const future = {
      at: '2024-05-01T12:00:00.000Z',
      maxClockSkewMs: 600_000,
      count: 2,
      items: [{ module: 'example.com/p', version: 'v1.0.0', timestamp: '9999-12-31T23:59:59Z', raw: '{}' }],
    };
    const src = fakeSources({
      future: async () => future,
      loadSummary: async () => ({ ...SUMMARY, future: 2, notRecorded: 3 }),
    });
    const r = await collectStatus(DIRS, src, NOW, { outcomeOfExitCode });
    expect(r.future).toEqual({ count: 2, seenAt: future.at, maxClockSkewSeconds: 600, first: future.items });
    expect(r.lastRun).toMatchObject({ future: 2, notRecorded: 3 });
    const text = formatStatus(r);
    expect(text).toMatch(
      new RegExp(
        /^held back\s+2 index entries stamped more than 10m in the future /.source +
          /\(seen 2024-05-01T12:00:00\.000Z\); the cursor stays before them$/.source,
        'm',
      ),
    );
    expect(text).toMatch(/^\s+future entry\s+example\.com\/p@v1\.0\.0 at 9999-12-31T23:59:59Z$/m);
    expect(text).toMatch(/^last run not recorded\s+3 entries: a journal is full/m);
    expect(text).toMatch(/future 2$/m);
  });

  it('flags an unverified trusted head', async () => {
    const src = fakeSources({ trustedHead: async () => ({ name: 's', size: 1, hash: 'h', verified: false }) });
    expect(formatStatus(await collectStatus(DIRS, src, NOW, { outcomeOfExitCode }))).toMatch(/NOT VERIFIED/);
  });
});

describe('helpers', () => {
  it('lagSeconds never goes negative', () => {
    expect(lagSeconds('2024-05-01T11:00:00Z', NOW)).toBe(3600);
    expect(lagSeconds('2024-05-01T13:00:00Z', NOW)).toBe(0);
  });
  it('formatBytes uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});

describe('fileStatusSources and statusCommand on a real tree', () => {
  let dest: string;
  afterEach(async () => {
    if (dest) await rm(dest, { recursive: true, force: true });
  });

  async function file(rel: string, content: string): Promise<void> {
    await mkdir(path.dirname(path.join(dest, rel)), { recursive: true });
    await writeFile(path.join(dest, rel), content);
  }

  async function run(args: Record<string, unknown>): Promise<string> {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    await statusCommand({ dest, ...args }, out);
    return text;
  }

  it('prints "never synced" for an empty destination (and creates nothing)', async () => {
    dest = await makeTempDir('gomirror-status-');
    const text = await run({});
    expect(text).toMatch(/never synced/);
    const json = JSON.parse(await run({ json: true })) as Record<string, unknown>;
    expect(json['synced']).toBe(false);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dest)).toEqual([]);
  });

  it('reads state, trusted head and disk use', async () => {
    dest = await makeTempDir('gomirror-status-');
    const stateDir = path.join(dest, '.gomirror');
    const state = new StateStore(stateDir);
    await state.init();
    await state.saveCursor({ since: '2024-05-01T11:00:00Z', seenAtSince: [] });
    await state.saveSummary(SUMMARY);
    await state.putRetry(retry('a.com/x', '2024-05-02T00:00:00Z'));
    await state.appendSkipped({ reason: 'gone', code: 'GOMIRROR_GONE', at: 'x' });
    await state.appendSkipped({ reason: 'bad', code: 'GOMIRROR_INVALID_PATH', at: 'x' });
    const { signer, vkey } = newKey('sum.example');
    await fileTrustedHeadStore(stateDir, 'sum.example').save(
      signNote(formatTreeNote({ size: 1234, hash: Buffer.alloc(32, 1) }), signer),
    );
    await file('a.com/x/@v/list', 'v1.0.0\n');
    await file('a.com/x/@v/v1.0.0.info', '{}');
    await file('a.com/x/@v/v1.0.0.mod', 'module a.com/x\n');
    await file('a.com/x/@v/v1.0.0.zip', 'z'.repeat(100));
    await file('b.com/y/@latest', '{}');
    await file('b.com/y/@v/list', '');
    await file('b.com/y/@v/v0.0.0-2024.zip', 'z'.repeat(50));
    await file('b.com/y/@v/.v1.zip.tmp', 'z'.repeat(1000));
    await file('sumdb/sum.example/tile/8/0/000', 't'.repeat(64));
    await symlink('/etc/hostname', path.join(dest, 'a.com/x/@v/v9.zip'));

    const json = JSON.parse(await run({ json: true, walk: true, sumdb: `${vkey} https://sum.example` })) as Record<
      string,
      any
    >;
    expect(json['synced']).toBe(true);
    expect(json['cursor'].since).toBe('2024-05-01T11:00:00Z');
    expect(json['lastRun'].published).toBe(10);
    expect(json['retry']).toEqual({ count: 1, oldestNextAttemptAt: '2024-05-02T00:00:00Z' });
    expect(json['skipped']).toBe(2);
    expect(json['trustedHead']).toEqual({
      name: 'sum.example',
      size: 1234,
      hash: Buffer.alloc(32, 1).toString('base64'),
      verified: true,
    });
    expect(json['disk'].modules).toBe(2);
    expect(json['disk'].zip).toEqual({ files: 2, bytes: 150 });
    expect(json['disk'].mod).toEqual({ files: 1, bytes: 15 });
    expect(json['disk'].info).toEqual({ files: 1, bytes: 2 });
    expect(json['disk'].index.files).toBe(3);
    expect(json['disk'].sumdb).toEqual({ files: 1, bytes: 64 });

    // With the default key the note's signature cannot be verified: shown, but flagged.
    const other = parseSumdbSpec(`${newKey('sum.example').vkey} https://sum.example`);
    const head = await fileStatusSources(
      { dest: { kind: 'fs', dir: dest }, tree: new FsTreeStorage(dest), stateDir },
      other,
    ).trustedHead();
    expect(head).toMatchObject({ size: 1234, verified: false });

    const text = await run({ walk: true, sumdb: `${vkey} https://sum.example` });
    expect(text).toMatch(/^skipped\s+2$/m);
    expect(text).toMatch(/^disk \.zip\s+2 files, 150 B$/m);
  });
});
