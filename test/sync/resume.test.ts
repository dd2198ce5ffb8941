/**
 * A large zip cut mid-way by the fake upstream (which supports Range) is
 * resumed by a sync: the retry asks for the rest only, and the published zip
 * is the whole, verified file.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSyncConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { MEMORY_BUDGET } from '../../src/sync/context.js';
import { runSync } from '../../src/sync/run-sync.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('sync resumes a cut zip with Range', () => {
  let up: FakeUpstream;
  let root: string;
  beforeAll(async () => {
    up = await startUpstream({ seed: 41, modules: 3, bigFiles: true, ranges: true });
    root = await makeTempDir('gomirror-resume-');
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('transfers only the rest on the retry and publishes the verified whole zip', async () => {
    // The largest zip: over the in-memory limit, so it is spooled to a file and can be resumed.
    let big: { v: CorpusVersion; zip: Buffer } | undefined;
    for (const v of up.versions()) {
      const zip = await up.zip(v);
      if (big === undefined || zip.length > big.zip.length) big = { v, zip };
    }
    if (big === undefined) throw new Error('empty corpus');
    const { v, zip } = big;
    expect(zip.length).toBeGreaterThan(MEMORY_BUDGET.perBody);
    up.inject(v.path, v.version, 'zip', { kind: 'truncate', times: 1 });
    const dest = path.join(root, 'tree');
    const cfg = parseSyncConfig(
      {
        dest,
        index: up.indexUrl,
        upstream: up.proxyUrl,
        sumdb: `${up.sumdbKey} ${up.sumdbUrl}`,
        'min-free-space': '0',
      },
      false,
      {},
    );
    const r = await runSync(cfg, { exitCodeOf, logger: createLogger('silent', 'json') });
    expect(r.summary.exitCode).toBe(0);

    const zipPath = `/proxy/${escapePath(v.path)}/@v/${escapeVersion(v.version)}.zip`;
    const reqs = up.requests.filter((q) => q.path === zipPath);
    expect(reqs).toHaveLength(2);
    const [cut, rest] = reqs as [(typeof reqs)[0], (typeof reqs)[0]];
    expect(cut).toMatchObject({ status: 200, bytes: Math.floor(zip.length / 2) });
    expect(rest.headers['if-range']).toMatch(/^"[0-9a-f]+"$/);
    const kept = Number(/^bytes=(\d+)-$/.exec(rest.headers.range ?? '')?.[1]);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(cut.bytes ?? 0);
    expect(rest).toMatchObject({ status: 206, bytes: zip.length - kept });

    const published = await fs.readFile(path.join(dest, escapePath(v.path), '@v', `${escapeVersion(v.version)}.zip`));
    expect(sha(published)).toBe(sha(zip));
  });
});
