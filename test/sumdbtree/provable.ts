/**
 * Test helper: checks a published lookup the way the go command does offline
 * (GOSUMDB pointed at the tree): the record's leaf hash is read through the
 * hash tiles of the lookup's own tree head, each tile authenticated against
 * that head, and must equal the hash of the lookup's record. A missing tile
 * is a problem: a lookup must never be visible before the tiles proving it.
 */
import {
  parseTreeNote,
  recordHash,
  storedHashIndex,
  tileHashReader,
  tilePath,
  type Tile,
  type TileReader,
} from '../../src/sumdb/index.js';

/** Reads one tile of the published tree by its path ("tile/8/0/000.p/5"); undefined when it is not there. */
export type TileFiles = (tilePath: string) => Promise<Buffer | undefined>;

class MissingTile extends Error {}

/** The parts of a lookup body "<id>\n<record text>\n<signed note>" (undefined when it is not one). */
export function splitLookup(body: Buffer): { id: number; record: Buffer; note: string } | undefined {
  const text = body.toString('utf8');
  const nl = text.indexOf('\n');
  const blank = text.indexOf('\n\n', nl + 1);
  if (nl < 0 || blank < 0 || !/^(0|[1-9]\d*)$/.test(text.slice(0, nl))) return undefined;
  return {
    id: Number(text.slice(0, nl)),
    record: Buffer.from(text.slice(nl + 1, blank + 1)),
    note: text.slice(blank + 2),
  };
}

/** Why the lookup `body` cannot be proven from the tiles `files` serves, or undefined when it can. */
export async function lookupProblem(body: Buffer, files: TileFiles): Promise<string | undefined> {
  const parts = splitLookup(body);
  if (parts === undefined) return 'not a lookup body';
  let tree: { size: number; hash: Buffer };
  try {
    tree = parseTreeNote(parts.note);
  } catch (err) {
    return `its note is not a tree head: ${(err as Error).message}`;
  }
  if (parts.id >= tree.size) return `record ${parts.id} is outside its tree of size ${tree.size}`;
  const reader: TileReader = {
    height: () => 8,
    readTiles: (tiles: Tile[]) =>
      Promise.all(
        tiles.map(async (t) => {
          const data = await files(tilePath(t));
          if (data === undefined) throw new MissingTile(`tile ${tilePath(t)} (tree size ${tree.size}) is missing`);
          return data;
        }),
      ),
    saveTiles: () => undefined,
  };
  try {
    const [leaf] = await tileHashReader(tree.size, tree.hash, reader).readHashes([storedHashIndex(0, parts.id)]);
    if (leaf === undefined || !leaf.equals(recordHash(parts.record)))
      return `record ${parts.id} does not hash to its leaf in the tiles`;
  } catch (err) {
    return err instanceof MissingTile
      ? err.message
      : `tiles do not prove record ${parts.id}: ${(err as Error).message}`;
  }
  return undefined;
}
