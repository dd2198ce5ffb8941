/**
 * Bulk verification: the checksum-database records a run most likely needs
 * (those added to the log since the previous run) read from data tiles, one
 * request per 256 records, each record proven against the trusted head like
 * a lookup. Versions outside that window fall back to one lookup each.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { SumdbClient } from './client.js';
import type { SignedHead } from './note.js';

/** Records of the log, [start, end). */
export interface RecordWindow {
  start: number;
  end: number;
}

/** Records read in bulk at most (32 Ki records: 128 data tiles, a few MB in memory). */
export const MAX_BULK_RECORDS = 32 * 1024;

/**
 * The window worth reading in bulk: the records added since the tree size
 * trusted before this run (`previous`, undefined on a first run) up to
 * `size`, keeping only the newest `max`. Pure.
 */
export function bulkWindow(previous: number | undefined, size: number, max = MAX_BULK_RECORDS): RecordWindow {
  const end = Math.max(0, size);
  const start = Math.max(previous ?? 0, end - max, 0);
  return { start: Math.min(start, end), end };
}

/** A lookup answer as verifyVersion needs it (see verify/verified.ts RecordSource). */
export interface BulkLookup {
  id: number;
  modHash: string;
  zipHash: string;
  recordText: Buffer;
  head: SignedHead;
}

interface Indexed {
  id: number;
  text: Buffer;
  modHash: string;
  zipHash: string;
}

/**
 * Answers `lookup` from the window's data tiles when the record is there,
 * else from `client.lookup`. The window is read on first use; if reading it
 * fails for any reason but a security one, every lookup falls back (and
 * `onFallback` hears why once). Two records for one module version in the
 * log is BAD_PROOF.
 */
export class BulkRecordSource {
  private index: Promise<{ records: Map<string, Indexed>; head: SignedHead } | undefined> | undefined;

  constructor(
    private readonly client: SumdbClient,
    private readonly window: RecordWindow,
    private readonly onFallback: (err: unknown) => void = () => undefined,
  ) {}

  async lookup(module: string, version: string): Promise<BulkLookup> {
    const idx = await (this.index ??= this.load());
    const r = idx?.records.get(`${module}@${version}`);
    if (idx === undefined || r === undefined) return this.client.lookup(module, version);
    return { id: r.id, modHash: r.modHash, zipHash: r.zipHash, recordText: r.text, head: idx.head };
  }

  private async load(): Promise<{ records: Map<string, Indexed>; head: SignedHead } | undefined> {
    const { start, end } = this.window;
    if (end <= start) return undefined;
    try {
      const proven = await this.client.records(start, end - start);
      const head = (await this.client.trustedHead()) as SignedHead;
      const records = new Map<string, Indexed>();
      for (const r of proven) {
        const key = `${r.module}@${r.version}`;
        if (records.has(key)) {
          throw new GomirrorError(ErrorCodes.BAD_PROOF, `the checksum database log holds two records for ${key} (ids ${records.get(key)?.id} and ${r.id})`, {
            op: 'sumdb.records',
            module: r.module,
            version: r.version,
          });
        }
        if (r.modHash !== undefined && r.zipHash !== undefined) records.set(key, { id: r.id, text: r.text, modHash: r.modHash, zipHash: r.zipHash });
      }
      return { records, head };
    } catch (err) {
      if (err instanceof GomirrorError && err.isSecurity) throw err;
      this.onFallback(err);
      return undefined;
    }
  }
}
