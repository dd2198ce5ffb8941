/**
 * Writes the fake upstream's corpus once as static files for nginx: every
 * version's .info/.mod/.zip, each module's @v/list and @latest, the checksum
 * database's latest, one lookup per version and every tile of the tree, and
 * the index pages a crawl from the epoch requests, each stored under its
 * URL-encoded `since` (the sync sends `?since=encodeURIComponent(ts)`), so
 * nginx answers `/index?since=X` with `try_files /index-pages/$arg_since`.
 * The bytes are read over HTTP from the running fake, so they are exactly
 * what the fake serves.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { EPOCH_TIMESTAMP } from '../../src/feed/index.js';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { tilePath, type FakeUpstream } from '../../test/upstream/index.js';

/** Largest page the index serves (the sync asks for this limit). */
const PAGE_LIMIT = 2000;
const TILE_WIDTH = 256;
const FETCH_PARALLEL = 8;

/** What was written: URL paths relative to the server root, and the corpus sizes. */
export interface StaticCorpus {
  /** Root directory to serve. */
  root: string;
  versions: number;
  /** Bytes of .info + .mod + .zip of every version. */
  downloadBytes: number;
  /** Every zip's size, ascending. */
  zipSizes: number[];
  /** `/proxy/<mod>/@v/<ver>.{info,mod,zip}` for every version (the raw leg's URL list). */
  proxyPaths: string[];
  /** Absolute file paths of every zip (the hash-limit leg reads them). */
  zipFiles: string[];
  /** Number of index pages written. */
  indexPages: number;
  tiles: number;
}

async function get(url: string): Promise<Buffer> {
  const res = await request(url);
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200)
    throw new Error(`snapshot GET ${url}: ${res.statusCode} ${body.toString().slice(0, 200)}`);
  return body;
}

/** Fetches every `rel` from the fake (relative to its base URL) into `root/rel`, FETCH_PARALLEL at a time. */
async function snapshot(
  up: FakeUpstream,
  root: string,
  rels: string[],
  onBody?: (rel: string, b: Buffer) => void,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < rels.length; i = next++) {
      const rel = rels[i] as string;
      const body = await get(`${up.baseUrl}/${rel}`);
      const file = path.join(root, rel);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, body);
      onBody?.(rel, body);
    }
  };
  await Promise.all(Array.from({ length: FETCH_PARALLEL }, worker));
}

/**
 * Tile paths (relative to the sumdb root) of a tree of `size` records: full tiles and the partial tile at every level,
 * data tiles too.
 */
export function tilePaths(size: number): string[] {
  const out: string[] = [];
  for (let level = 0, entries = size; entries > 0; level++, entries = Math.floor(entries / TILE_WIDTH)) {
    const full = Math.floor(entries / TILE_WIDTH);
    const rest = entries % TILE_WIDTH;
    const levels = level === 0 ? [0, -1] : [level];
    for (const l of levels) {
      for (let n = 0; n < full; n++) out.push(tilePath({ level: l, n, width: TILE_WIDTH }));
      if (rest > 0) out.push(tilePath({ level: l, n: full, width: rest }));
    }
  }
  return out;
}

/** The timestamp of the last NDJSON line of a feed page. */
function lastTimestamp(page: string): string | undefined {
  const lines = page.trimEnd().split('\n');
  const last = lines.at(-1);
  if (last === undefined || last === '') return undefined;
  return (JSON.parse(last) as { Timestamp: string }).Timestamp;
}

/** Writes the index pages of a crawl from the epoch, plus the page at the last timestamp (a no-op run's request). */
async function writeIndex(up: FakeUpstream, root: string): Promise<number> {
  const dir = path.join(root, 'index-pages');
  await fs.mkdir(dir, { recursive: true });
  let since = EPOCH_TIMESTAMP;
  let pages = 0;
  for (;;) {
    const body = await get(`${up.indexUrl}?since=${encodeURIComponent(since)}&limit=${PAGE_LIMIT}`);
    await fs.writeFile(path.join(dir, encodeURIComponent(since)), body);
    pages++;
    const text = body.toString('utf8');
    const last = lastTimestamp(text);
    const lines = text === '' ? 0 : text.trimEnd().split('\n').length;
    if (last === undefined) return pages;
    if (lines >= PAGE_LIMIT && last === since)
      throw new Error(`index page at ${since} is one full timestamp: the crawl cannot page past it`);
    if (lines < PAGE_LIMIT) {
      if (last === since) return pages;
      since = last; // the no-op run's page
      continue;
    }
    since = last;
  }
}

/** Writes the whole corpus of `up` under `root` (which must not exist yet) and describes it. */
export async function writeStaticCorpus(up: FakeUpstream, root: string): Promise<StaticCorpus> {
  await fs.mkdir(root);
  const all = up.versions();
  const proxyPaths: string[] = [];
  const lookups: string[] = [];
  const modules = new Set<string>();
  for (const v of all) {
    const ep = escapePath(v.path);
    const base = `proxy/${ep}/@v/${escapeVersion(v.version)}`;
    proxyPaths.push(`${base}.info`, `${base}.mod`, `${base}.zip`);
    lookups.push(`sumdb/lookup/${ep}@${escapeVersion(v.version)}`);
    modules.add(ep);
  }
  const perModule = [...modules].flatMap((ep) => [`proxy/${ep}/@v/list`, `proxy/${ep}/@latest`]);
  const zipSizes: number[] = [];
  let downloadBytes = 0;
  await snapshot(up, root, proxyPaths, (rel, b) => {
    downloadBytes += b.length;
    if (rel.endsWith('.zip')) zipSizes.push(b.length);
  });
  await snapshot(up, root, perModule);
  await snapshot(up, root, lookups);
  const tiles = tilePaths(all.length).map((t) => `sumdb/${t}`);
  await snapshot(up, root, ['sumdb/latest', ...tiles]);
  const indexPages = await writeIndex(up, root);
  return {
    root,
    versions: all.length,
    downloadBytes,
    zipSizes: zipSizes.sort((a, b) => a - b),
    proxyPaths: proxyPaths.map((p) => `/${p}`),
    zipFiles: proxyPaths.filter((p) => p.endsWith('.zip')).map((p) => path.join(root, p)),
    indexPages,
    tiles: tiles.length,
  };
}
