/**
 * On-disk cache of authenticated checksum-database tiles under the state
 * directory. The sumdb client puts only tiles it has proven against a signed
 * head, so a cached tile is trusted on read.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { STATE_FILE_MODE } from '../storage/modes.js';
import { assertInside } from './layout.js';
import { tilePathRegExp } from '../sumdb/tiles.js';

export interface TileCache {
  get(tilePath: string): Promise<Buffer | undefined>;
  put(tilePath: string, data: Buffer): Promise<void>;
}

const TILE_PATH = tilePathRegExp();

/** A TileCache in `<dir>/<tile path>`; refuses paths that are not tile paths. */
export function fileTileCache(dir: string, tmpDir: string): TileCache {
  const file = (tilePath: string): string => {
    if (!TILE_PATH.test(tilePath)) {
      throw new GomirrorError(ErrorCodes.MALFORMED, `not a tile path: ${JSON.stringify(tilePath)}`, {
        op: 'store.tileCache',
      });
    }
    const p = path.join(dir, tilePath);
    assertInside(dir, p);
    return p;
  };
  return {
    async get(tilePath) {
      try {
        return await fs.readFile(file(tilePath));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async put(tilePath, data) {
      await writeFileAtomic(file(tilePath), data, tmpDir, STATE_FILE_MODE);
    },
  };
}
