/**
 * The checksum database as verify sees it: a SumdbTransport that reads the
 * tree's own `sumdb/<name>/` files (what nginx serves to the go command) —
 * tiles from the state's cache of tiles sync authenticated first, so one bad
 * tile in the tree does not hide the checks of every record under it (each
 * tree tile is compared with the authenticated one on its own) — and, with
 * --online, the network for anything missing; a trusted-head store that
 * starts from the state's trusted head but never writes it; and the checks of
 * the tree's `latest` and tile files.
 *
 * Every record and tile read through this transport is still proven against
 * the trusted head by SumdbClient, so where bytes come from never decides
 * whether they are believed.
 */
import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError, isGomirrorError } from '../errors.js';
import { assertInside } from '../store/layout.js';
import type { TreeStorage } from '../storage/storage.js';
import {
  parseTilePath,
  tilePathPattern,
  type SumdbClient,
  type SumdbTransport,
  type TrustedHeadStore,
} from '../sumdb/index.js';
import { sumdbKey } from '../sumdbtree/layout.js';
import { problem, problemFromError, type Problem } from './problems.js';

const TRANSPORT_PATH = new RegExp(`^(?:latest|lookup\\/[^\\0\\\\]+|${tilePathPattern()})$`);

export interface TreeTransportOptions {
  /** The served tree. */
  tree: TreeStorage;
  /** Checksum database name (directory under sumdb/). */
  name: string;
  /** `<state>/sumdb/<name>`: the client's tile cache, used for tiles the tree lacks. */
  cacheDir?: string;
  /** The network checksum database (--online): used for anything the tree lacks, and for `latest`. */
  network?: SumdbTransport;
}

/**
 * A small file of the state's tile cache (one synchronous read: cheaper than the four thread-pool round trips of
 * fs.promises.readFile), or undefined when missing.
 */
async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The object at key, or undefined when there is none. */
async function readKey(tree: TreeStorage, key: string): Promise<Buffer | undefined> {
  return tree.get(key).catch((err: unknown) => {
    if (isGomirrorError(err) && err.code === ErrorCodes.NOT_FOUND) return undefined;
    throw err;
  });
}

function within(dir: string, rel: string): string {
  const p = nodePath.join(dir, rel);
  assertInside(dir, p);
  return p;
}

/** A transport over the tree's sumdb files; see the module comment. NOT_FOUND when no source has the path. */
export function treeSumdbTransport(o: TreeTransportOptions): SumdbTransport {
  const { tree } = o;
  return {
    async get(rel: string): Promise<Buffer> {
      if (!TRANSPORT_PATH.test(rel) || rel.split('/').includes('..')) {
        throw new GomirrorError(ErrorCodes.INVALID_PATH, `not a checksum database path: ${JSON.stringify(rel)}`, {
          op: 'verify.sumdb',
        });
      }
      if (rel === 'latest' && o.network) return o.network.get(rel);
      if (rel.startsWith('tile/') && o.cacheDir !== undefined) {
        const cached = await readIfExists(within(o.cacheDir, rel));
        if (cached !== undefined) return cached;
      }
      const local = await readKey(tree, `sumdb/${o.name}/${rel}`);
      if (local !== undefined) return local;
      if (o.network) return o.network.get(rel);
      throw new GomirrorError(ErrorCodes.NOT_FOUND, `sumdb/${o.name}/${rel} is not in the tree`, {
        op: 'verify.sumdb',
        detail: { file: `sumdb/${o.name}/${rel}` },
      });
    },
  };
}

/**
 * A TrustedHeadStore that loads from `inner` and keeps later heads in memory only: verify never moves the mirror's
 * trust.
 */
export function readOnlyTrustedStore(inner: TrustedHeadStore): TrustedHeadStore {
  let kept: Buffer | undefined;
  return {
    load: async () => kept ?? inner.load(),
    save: async (note) => {
      kept = Buffer.from(note);
    },
  };
}

/**
 * Checks `sumdb/<name>/latest` and `supported` against the client's trusted
 * head: the note must be signed by the configured key and consistent with the
 * trusted head (bad-sumdb otherwise), not newer than it, and both files must
 * exist once any version is mirrored (sumdb-head otherwise).
 */
export async function checkTreeHead(
  client: SumdbClient,
  tree: TreeStorage,
  name: string,
  versions: number,
): Promise<Problem[]> {
  const rel = `sumdb/${name}`;
  const out: Problem[] = [];
  const note = await readKey(tree, sumdbKey(name, 'latest'));
  const supported = await readKey(tree, sumdbKey(name, 'supported'));
  if (note === undefined) {
    if (versions > 0)
      out.push(
        problem(
          'sumdb-head',
          `${rel}/latest`,
          `missing: the go command cannot verify the ${versions} mirrored versions offline`,
        ),
      );
    return out;
  }
  if (supported === undefined)
    out.push(
      problem(
        'sumdb-head',
        `${rel}/supported`,
        'missing: the go command will not use this tree for the checksum database',
      ),
    );
  const before = await client.trustedHead();
  try {
    const head = await client.acceptHead(note);
    if (before !== undefined && head.tree.size > before.tree.size) {
      out.push(
        problem(
          'sumdb-head',
          `${rel}/latest`,
          `tree size ${head.tree.size} is ahead of the mirror's trusted head ${before.tree.size} (state from ` +
            `another mirror?)`,
        ),
      );
    }
  } catch (err) {
    out.push(problemFromError(err, `${rel}/latest`));
  }
  return out;
}

/** A tile file of the tree that does not hold the authenticated hashes of the trusted tree. */
export interface BadTile {
  /** Path under `sumdb/<name>/`, e.g. "tile/8/0/001.p/5". */
  tilePath: string;
  problem: Problem;
}

/**
 * Streams over every tile file in `sumdb/<name>/tile/` and compares it with
 * the hashes the client authenticates for that tile against the trusted head
 * (a tampered tile either fails authentication or differs from the
 * authenticated bytes). Tiles of heads newer than the trusted one cannot be
 * checked and are reported as such.
 */
export async function* checkTreeTiles(client: SumdbClient, tree: TreeStorage, name: string): AsyncGenerator<BadTile> {
  const base = `sumdb/${name}/`;
  for await (const file of flatten(tree.listKeys(`${base}tile/`))) {
    const tilePath = file.slice(base.length);
    let bytes: Buffer | undefined;
    try {
      const tile = parseTilePath(tilePath);
      bytes = await readKey(tree, file);
      if (bytes === undefined) continue; // removed mid-walk
      const [want] = await client.readTiles([tile]);
      if (want !== undefined && !want.equals(bytes)) {
        yield {
          tilePath,
          problem: problem('bad-sumdb', file, 'tile differs from the hashes authenticated against the trusted head'),
        };
      }
    } catch (err) {
      yield { tilePath, problem: problemFromError(err, file) };
    }
  }
}

/** The items of a paged sequence, one by one. */
async function* flatten<T>(pages: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}
