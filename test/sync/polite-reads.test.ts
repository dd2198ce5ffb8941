/**
 * Polite bulk reads against the fake upstream: feed mode reads the cached-only
 * path (or sends Disable-Module-Fetch), identifies itself with a User-Agent
 * naming gomirror, its version and the operator's contact; a version the
 * upstream had not cached is journaled, and the retry reads it the normal way.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSyncConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { runDryRun } from '../../src/sync/dry-run.js';
import { runSync } from '../../src/sync/run-sync.js';
import { startUpstream, type FakeUpstream, type UpstreamRequest } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';

const logger = createLogger('silent', 'json');
const roots: string[] = [];
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const CONTACT = 'https://ops.example/mirror';

async function newDest(): Promise<string> {
  const d = await makeTempDir('gomirror-polite-');
  roots.push(d);
  return path.join(d, 'tree');
}

const isModuleFile = (r: UpstreamRequest): boolean => /\/@v\/[^/]+\.(info|mod|zip)$/.test(r.path);
const fileOf = (v: { path: string; version: string }): string =>
  `${escapePath(v.path)}/@v/${escapeVersion(v.version)}.zip`;

describe('polite bulk reads and User-Agent', () => {
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await startUpstream({ seed: 29, modules: 4 });
  });
  afterEach(() => {
    up.clearFaults();
    up.resetRequests();
  });
  afterAll(async () => {
    await up?.close();
    for (const d of roots) await fs.rm(d, { recursive: true, force: true });
  });

  function config(dest: string, mode: 'cached-only' | 'header', extra: Record<string, unknown> = {}) {
    return parseSyncConfig(
      {
        ...extra,
        dest,
        index: up.indexUrl,
        upstream: up.proxyUrl,
        sumdb: `${up.sumdbKey} ${up.sumdbUrl}`,
        'min-free-space': '0',
        'no-origin-fetch': `${up.proxyUrl}=${mode}`,
        'user-agent-contact': CONTACT,
      },
      false,
      {},
    );
  }

  it('cached-only: feed reads use /cached-only/, an uncached version is journaled, retried normally', async () => {
    const dest = await newDest();
    const v = up.versions()[2]!;
    up.uncache(v.path, v.version);
    const cfg = config(dest, 'cached-only');
    const first = await runSync(cfg, { exitCodeOf, logger });
    expect(first.summary.exitCode).toBe(1);
    expect(first.summary.failures).toEqual([
      expect.objectContaining({ module: v.path, version: v.version, code: 'GOMIRROR_NOT_FOUND' }),
    ]);
    expect(first.summary.failures[0]!.message).toMatch(/not cached/);
    const files = up.requests.filter(isModuleFile);
    expect(files.length).toBeGreaterThanOrEqual(3 * up.versions().length);
    expect(files.filter((r) => !r.path.startsWith('/proxy/cached-only/'))).toEqual([]);
    // Every request, to the index, the proxy and the checksum database, names gomirror, its version and the contact.
    expect(new Set(up.requests.map((r) => r.headers['user-agent']))).toEqual(
      new Set([`gomirror/${version} (+${CONTACT})`]),
    );

    up.resetRequests();
    const second = await runSync(cfg, { exitCodeOf, logger });
    expect(second.summary.exitCode).toBe(0);
    expect(second.summary.published).toBe(1);
    expect(up.requests.filter(isModuleFile).map((r) => r.path)).toContain(`/proxy/${fileOf(v)}`);
    expect(up.requests.filter((r) => r.path.startsWith('/proxy/cached-only/'))).toEqual([]);
  });

  it('header: feed reads send Disable-Module-Fetch: true on the normal path', async () => {
    const dest = await newDest();
    const v = up.versions()[3]!;
    up.uncache(v.path, v.version);
    const first = await runSync(config(dest, 'header'), { exitCodeOf, logger });
    expect(first.summary.exitCode).toBe(1);
    expect(first.summary.failures).toEqual([expect.objectContaining({ module: v.path, code: 'GOMIRROR_NOT_FOUND' })]);
    const files = up.requests.filter(isModuleFile);
    expect(
      files.filter((r) => r.path.startsWith('/proxy/cached-only/') || r.headers['disable-module-fetch'] !== 'true'),
    ).toEqual([]);
    // Not sent to the index or the checksum database.
    expect(up.requests.filter((r) => !isModuleFile(r) && r.headers['disable-module-fetch'] !== undefined)).toEqual([]);
  });

  it('targeted runs (--module) read the normal path without the header', async () => {
    const dest = await newDest();
    const v = up.versions()[1]!;
    up.uncache(v.path, v.version);
    const cfg = config(dest, 'cached-only', { module: `${v.path}@${v.version}` });
    const r = await runSync(cfg, { exitCodeOf, logger });
    expect(r.summary.exitCode).toBe(0);
    const files = up.requests.filter(isModuleFile);
    expect(files).toHaveLength(3);
    expect(
      files.filter((x) => x.path.startsWith('/proxy/cached-only/') || x.headers['disable-module-fetch'] !== undefined),
    ).toEqual([]);
  });

  it('--dry-run sizes feed versions through the same polite URL and header', async () => {
    const sink = {
      chunks: [] as string[],
      write(c: string) {
        this.chunks.push(c);
        return true;
      },
    };
    for (const mode of ['cached-only', 'header'] as const) {
      up.resetRequests();
      await runDryRun(
        config(await newDest(), mode, { since: '1970-01-01T00:00:00Z' }),
        logger,
        sink as unknown as NodeJS.WritableStream,
      );
      const heads = up.requests.filter((r) => r.method === 'HEAD');
      expect(heads).toHaveLength(up.versions().length);
      for (const h of heads) {
        if (mode === 'cached-only') expect(h.path.startsWith('/proxy/cached-only/')).toBe(true);
        else expect(h.headers['disable-module-fetch']).toBe('true');
      }
    }
  });
});
