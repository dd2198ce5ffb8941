/**
 * The checksum-database view an import verifies against: a SumdbTransport
 * that serves the bundle's signed head as `latest` and its lookup and tile
 * files (falling back to the importing tree's own sumdb/ files, which earlier
 * imports wrote), and a trusted-head store that stages a new head in memory
 * until the whole bundle has been verified. Nothing read here is trusted as
 * is: the SumdbClient checks signatures with the importer's key and
 * authenticates every record and tile against the head.
 */
import path from 'node:path';
import { ErrorCodes, GomirrorError, isGomirrorError } from '../errors.js';
import type { TreeStorage } from '../storage/storage.js';
import type { SumdbTransport, TrustedHeadStore } from '../sumdb/index.js';
import { sumdbKey } from '../sumdbtree/layout.js';
import type { CheckedManifest } from './bundle-check.js';
import { readBounded } from './copy.js';
import { FILE_LIMITS } from './manifest.js';
import { classifyTreePath } from './paths.js';

function notFound(p: string): GomirrorError {
  return new GomirrorError(
    ErrorCodes.NOT_FOUND,
    `checksum database file ${p} is neither in the bundle nor in the tree`,
    { op: 'transfer.sumdb', detail: { file: p } },
  );
}

/** Reads `latest`, `lookup/…` and `tile/8/…` from the bundle, then from the tree's `sumdb/<name>/`. */
export function bundleTransport(bundle: string, tree: TreeStorage, m: CheckedManifest): SumdbTransport {
  const prefix = `sumdb/${m.sumdbName}/`;
  const inBundle = new Map(
    m.files.flatMap((f) =>
      f.what.kind === 'version'
        ? []
        : [[f.path.slice(prefix.length), { stored: f.stored, max: FILE_LIMITS[f.what.kind] }] as const],
    ),
  );
  return {
    async get(p: string): Promise<Buffer> {
      if (p === 'latest') return Buffer.from(m.signedHead, 'utf8');
      const file = inBundle.get(p);
      if (file !== undefined) return readBounded(path.join(bundle, file.stored), file.max);
      if (classifyTreePath(`${prefix}${p}`, m.sumdbName) === undefined) throw notFound(p);
      try {
        return await tree.get(sumdbKey(m.sumdbName, p));
      } catch (err) {
        if (isGomirrorError(err, ErrorCodes.NOT_FOUND)) throw notFound(p);
        throw err;
      }
    },
  };
}

/** A TrustedHeadStore that keeps saves in memory until commit() writes the newest one to `real`. */
export interface StagedHeadStore extends TrustedHeadStore {
  commit(): Promise<void>;
}

/** Stages head updates over `real` (see StagedHeadStore). */
export function stagedHeadStore(real: TrustedHeadStore): StagedHeadStore {
  let staged: Buffer | undefined;
  return {
    load: async () => staged ?? real.load(),
    save: async (note) => {
      staged = Buffer.from(note);
    },
    commit: async () => {
      if (staged !== undefined) await real.save(staged);
    },
  };
}
