/**
 * A concurrent reader that polls a tree through nginx while syncs run and
 * are killed: every .zip/.mod it gets must hash (h1) to the corpus value,
 * every .info must name its version, and every version a `list` names must
 * be fully served (list is written after the files it names).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { hashGoMod, hashModuleZip } from '../../src/zip/index.js';
import type { CorpusVersion } from '../upstream/index.js';
import { treeFile } from './fixture.js';

export interface ReaderStats {
  /** Responses with status 200. */
  reads: number;
  /** 404s (not yet published). */
  misses: number;
  /** Everything that broke an invariant. */
  violations: string[];
}

/** A running reader; stop() ends the loop and returns its statistics. */
export interface TreeReader {
  /** Resolves once the reader is idle and stays so until resume() (while the test itself rewrites the tree). */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<ReaderStats>;
}

async function get(url: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** Starts polling baseUrl (nginx) for the files of versions, pausing pauseMs between versions; scratch is a directory for zip checks. */
export function startReader(baseUrl: string, versions: readonly CorpusVersion[], scratch: string, pauseMs = 10): TreeReader {
  const stats: ReaderStats = { reads: 0, misses: 0, violations: [] };
  const goodZips = new Set<string>();
  let running = true;
  let paused: { idle: () => void; resumed: Promise<void>; resume: () => void } | undefined;

  const checkZip = async (v: CorpusVersion, body: Buffer): Promise<void> => {
    const sha = createHash('sha256').update(body).digest('hex');
    if (goodZips.has(sha)) return;
    const file = path.join(scratch, `${sha}.zip`);
    await fs.writeFile(file, body);
    try {
      const h1 = (await hashModuleZip(file, v.path, v.version)).h1;
      if (h1 === v.zipH1) goodZips.add(sha);
      else stats.violations.push(`${v.path}@${v.version}.zip served with h1 ${h1}, want ${v.zipH1} (${body.length} bytes)`);
    } catch (err) {
      stats.violations.push(`${v.path}@${v.version}.zip served but unreadable (${body.length} bytes): ${(err as Error).message}`);
    } finally {
      await fs.rm(file, { force: true });
    }
  };

  const poll = async (v: CorpusVersion, byVersion: Map<string, CorpusVersion>): Promise<void> => {
    const url = (ext: 'info' | 'mod' | 'zip'): string => `${baseUrl}/${treeFile(v, ext).split(path.sep).join('/')}`;
    for (const ext of ['mod', 'info', 'zip'] as const) {
      const r = await get(url(ext));
      if (r.status === 404) {
        stats.misses++;
        continue;
      }
      stats.reads++;
      if (r.status !== 200) stats.violations.push(`${url(ext)}: status ${r.status}`);
      else if (ext === 'mod' && hashGoMod(r.body) !== v.modH1) stats.violations.push(`${v.path}@${v.version}.mod served with a wrong h1`);
      else if (ext === 'zip') await checkZip(v, r.body);
      else if (ext === 'info' && (JSON.parse(r.body.toString('utf8')) as { Version?: string }).Version !== v.version) {
        stats.violations.push(`${v.path}@${v.version}.info names another version`);
      }
    }
    const listUrl = url('info').replace(/\/@v\/[^/]+$/, '/@v/list');
    const list = await get(listUrl);
    if (list.status !== 200) return;
    for (const listed of list.body.toString('utf8').split('\n').filter((l) => l !== '')) {
      const lv = byVersion.get(`${v.path}@${listed}`);
      if (!lv) {
        stats.violations.push(`${listUrl} names ${listed}, which the corpus does not have`);
        continue;
      }
      for (const ext of ['info', 'mod', 'zip'] as const) {
        const u = `${baseUrl}/${treeFile(lv, ext).split(path.sep).join('/')}`;
        if ((await get(u)).status !== 200) stats.violations.push(`${listUrl} names ${listed} but ${u} is not served`);
      }
    }
  };

  const loop = (async () => {
    await fs.mkdir(scratch, { recursive: true });
    const byVersion = new Map(versions.map((v) => [`${v.path}@${v.version}`, v]));
    while (running) {
      for (const v of versions) {
        if (paused) {
          paused.idle();
          await paused.resumed;
        }
        if (!running) break;
        try {
          await poll(v, byVersion);
          await new Promise((r) => setTimeout(r, pauseMs));
        } catch (err) {
          stats.violations.push(`reader error on ${v.path}@${v.version}: ${(err as Error).message}`);
        }
      }
    }
  })();

  return {
    pause: () =>
      new Promise<void>((idle) => {
        let resume = (): void => undefined;
        const resumed = new Promise<void>((r) => (resume = r));
        paused = { idle, resumed, resume };
      }),
    resume: () => {
      const p = paused;
      paused = undefined;
      p?.resume();
    },
    stop: async () => {
      running = false;
      const p = paused;
      paused = undefined;
      p?.resume();
      await loop;
      return stats;
    },
  };
}
