/**
 * Run state under the state directory (default <dest>/.gomirror): the feed
 * cursor, the retry journal (one JSON file per module@version), the
 * append-only skipped journal, the last run summary, and a small space
 * reserve that a run gives back when the disk fills so that its summary can
 * still be written. JSON files are written atomically; journals are iterated
 * from disk, never loaded whole. The records and their checks are in
 * state-records.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCodes, GomirrorError } from '../errors.js';
import type { Cursor } from '../feed/cursor.js';
import { ioError, writeFileAtomic } from '../storage/atomic.js';
import { mkdirs } from '../storage/fsx.js';
import { STATE_DIR_MODE, STATE_FILE_MODE, TREE_DIR_MODE } from '../storage/modes.js';
import {
  DEFAULT_JOURNAL_LIMITS,
  FUTURE_JOURNAL_MAX,
  journalFull,
  type FutureJournal,
  type JournalLimits,
} from './journals.js';
import {
  asFutureJournal,
  asRecordedSettings,
  asRetryItem,
  asRunSummary,
  asUpstreamHealth,
  cursorProblem,
  malformed,
  mergeUpstreamHealth,
  parseSkippedLine,
  type RecordedSettings,
  type RetryItem,
  type RunSummary,
  type SkippedItem,
  type UpstreamActivityInput,
  type UpstreamHealthRecord,
} from './state-records.js';

/**
 * Size of the space reserve: room for the summary (and a metrics file) on a full disk. Random bytes, so a compressing
 * filesystem reserves it too.
 */
export const RESERVE_BYTES = 256 * 1024;

/** Persistent run state in one directory; every method maps filesystem failures to GomirrorError IO / NO_SPACE. */
export class StateStore {
  /** Directory for temporary files: <stateDir>/tmp (same filesystem as the tree when stateDir is inside it). */
  readonly tmpDir: string;
  private readonly retryDir: string;
  private readonly cursorFile: string;
  private readonly summaryFile: string;
  private readonly skippedFile: string;
  private readonly settingsFile: string;
  private readonly upstreamsFile: string;
  private readonly reserveFile: string;
  private readonly futureFile: string;
  private skippedReady: Promise<void> | undefined;
  /** Entries in the retry journal (counted on first need, then kept up to date) and bytes of the skipped journal. */
  private retryTotal: number | undefined;
  private skippedBytes: number | undefined;

  /**
   * limits: the journals' caps; afterCursorSave: run after each cursor save (a bucket state pushes its working copy
   * there).
   */
  constructor(
    readonly stateDir: string,
    private readonly limits: JournalLimits = DEFAULT_JOURNAL_LIMITS,
    private readonly afterCursorSave?: () => Promise<void>,
  ) {
    this.tmpDir = nodePath.join(stateDir, 'tmp');
    this.retryDir = nodePath.join(stateDir, 'retry');
    this.cursorFile = nodePath.join(stateDir, 'cursor.json');
    this.summaryFile = nodePath.join(stateDir, 'summary.json');
    this.skippedFile = nodePath.join(stateDir, 'skipped.jsonl');
    this.settingsFile = nodePath.join(stateDir, 'settings.json');
    this.upstreamsFile = nodePath.join(stateDir, 'upstreams.json');
    this.reserveFile = nodePath.join(stateDir, 'reserve');
    this.futureFile = nodePath.join(stateDir, 'future.json');
  }

  /**
   * Replaces the journal of future-stamped lines with what the last feed run met (at most FUTURE_JOURNAL_MAX items
   * kept); none removes it.
   */
  async saveFuture(j: FutureJournal): Promise<void> {
    if (j.count === 0) {
      await fs.rm(this.futureFile, { force: true }).catch((err: unknown) => {
        throw ioError(err, 'store.state', `cannot remove ${this.futureFile}`);
      });
      return;
    }
    await this.writeJson(this.futureFile, { ...j, items: j.items.slice(0, FUTURE_JOURNAL_MAX) });
  }

  /** The journal of future-stamped lines, or undefined when the last feed run met none; MALFORMED if corrupt. */
  async loadFuture(): Promise<FutureJournal | undefined> {
    const v = await this.readJson(this.futureFile);
    if (v === undefined) return undefined;
    return asFutureJournal(v, this.futureFile);
  }

  /**
   * Makes sure the space reserve exists (written atomically); false when there is no room for it (NO_SPACE is not
   * thrown: the run's free-space checks decide).
   */
  async ensureReserve(): Promise<boolean> {
    const size = await fs.stat(this.reserveFile).then(
      (s) => s.size,
      () => -1,
    );
    if (size === RESERVE_BYTES) return true;
    try {
      await writeFileAtomic(this.reserveFile, randomBytes(RESERVE_BYTES), this.tmpDir, STATE_FILE_MODE);
      return true;
    } catch (err) {
      if (err instanceof GomirrorError && err.code === ErrorCodes.NO_SPACE) return false;
      throw err;
    }
  }

  /**
   * Removes the space reserve, so that a run stopped by a full disk can still write its summary; the next run makes it
   * again.
   */
  async releaseReserve(): Promise<void> {
    try {
      await fs.rm(this.reserveFile, { force: true });
    } catch (err) {
      throw ioError(err, 'store.state', `cannot remove ${this.reserveFile}`);
    }
  }

  /**
   * Creates the state, temp and journal directories (mkdir -p; 0700, and 0755 for missing directories above the state)
   * and makes them 0700 if they were not.
   */
  async init(): Promise<void> {
    try {
      for (const dir of [this.stateDir, this.tmpDir, this.retryDir]) {
        await mkdirs(dir, STATE_DIR_MODE, TREE_DIR_MODE);
        if (((await fs.stat(dir)).mode & 0o7777) !== STATE_DIR_MODE) await fs.chmod(dir, STATE_DIR_MODE);
      }
    } catch (err) {
      throw ioError(err, 'store.state', `cannot create state directory ${this.stateDir}`);
    }
  }

  private async readJson(file: string): Promise<unknown> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(err, 'store.state', `cannot read ${file}`, { file });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw malformed(file, 'not valid JSON', err);
    }
  }

  private async writeJson(file: string, value: unknown): Promise<void> {
    await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, this.tmpDir, STATE_FILE_MODE);
  }

  /** The saved feed cursor, or undefined before the first run; MALFORMED if the file is corrupt. */
  async loadCursor(): Promise<Cursor | undefined> {
    const v = await this.readJson(this.cursorFile);
    if (v === undefined) return undefined;
    const problem = cursorProblem(v);
    if (problem !== undefined) throw malformed(this.cursorFile, problem);
    const c = v as Cursor;
    return { since: c.since, seenAtSince: [...c.seenAtSince] };
  }

  /** Saves the feed cursor atomically, then runs the afterCursorSave hook. */
  async saveCursor(c: Cursor): Promise<void> {
    await this.writeJson(this.cursorFile, { since: c.since, seenAtSince: c.seenAtSince });
    await this.afterCursorSave?.();
  }

  private retryFile(module: string, version: string): string {
    const name = createHash('sha256').update(`${module}@${version}`).digest('hex');
    return nodePath.join(this.retryDir, `${name}.json`);
  }

  /**
   * Adds or replaces the retry journal entry for item.module@item.version; JOURNAL_FULL when a new entry would pass
   * limits.maxRetryEntries.
   */
  async putRetry(item: RetryItem): Promise<void> {
    const file = this.retryFile(item.module, item.version);
    const replaces = await fs.access(file).then(
      () => true,
      () => false,
    );
    if (replaces) return this.writeJson(file, item);
    this.retryTotal ??= await this.retryCount();
    // Checked and counted with no await in between: concurrent puts cannot overshoot the cap.
    if (this.retryTotal >= this.limits.maxRetryEntries) {
      throw journalFull(
        'retry',
        this.retryDir,
        `${this.limits.maxRetryEntries} entries`,
        `${item.module}@${item.version}`,
      );
    }
    this.retryTotal++;
    try {
      await this.writeJson(file, item);
    } catch (err) {
      this.retryTotal--;
      throw err;
    }
  }

  /** The retry journal entry for module@version, or undefined when there is none; MALFORMED if it is corrupt. */
  async getRetry(module: string, version: string): Promise<RetryItem | undefined> {
    const file = this.retryFile(module, version);
    const v = await this.readJson(file);
    if (v === undefined) return undefined;
    return asRetryItem(v, file);
  }

  /** Removes the retry journal entry for module@version; no-op if absent. */
  async removeRetry(module: string, version: string): Promise<void> {
    try {
      await fs.unlink(this.retryFile(module, version));
      if (this.retryTotal !== undefined) this.retryTotal--;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(err, 'store.state', `cannot remove retry entry for ${module}@${version}`);
    }
  }

  /** Iterates the retry journal from disk (entries removed or added meanwhile may or may not appear). */
  async *retries(): AsyncGenerator<RetryItem> {
    let dir;
    try {
      dir = await fs.opendir(this.retryDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(err, 'store.state', `cannot read retry journal ${this.retryDir}`);
    }
    for await (const entry of dir) {
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      const file = nodePath.join(this.retryDir, entry.name);
      const v = await this.readJson(file);
      if (v === undefined) continue; // removed since the listing
      yield asRetryItem(v, file);
    }
  }

  /** Number of entries in the retry journal (counted by streaming the directory). */
  async retryCount(): Promise<number> {
    let n = 0;
    try {
      for await (const entry of await fs.opendir(this.retryDir)) {
        if (entry.isFile() && entry.name.endsWith('.json')) n++;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw ioError(err, 'store.state', `cannot read retry journal ${this.retryDir}`);
    }
    return n;
  }

  /** Ends a torn last line (from a killed run) so the next append starts on its own line. */
  private async repairSkippedTail(): Promise<void> {
    let handle;
    try {
      handle = await fs.open(this.skippedFile, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (size === 0) return;
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await fs.appendFile(this.skippedFile, '\n');
    } finally {
      await handle.close();
    }
  }

  /**
   * Permanently skipped / invalid entries, append-only JSONL with reasons; JOURNAL_FULL when the line would pass
   * limits.maxSkippedBytes.
   */
  async appendSkipped(item: SkippedItem): Promise<void> {
    const line = `${JSON.stringify(item)}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      this.skippedReady ??= this.repairSkippedTail();
      await this.skippedReady;
      this.skippedBytes ??= await fs.stat(this.skippedFile).then(
        (s) => s.size,
        () => 0,
      );
    } catch (err) {
      this.skippedReady = undefined;
      throw ioError(err, 'store.state', `cannot append to ${this.skippedFile}`);
    }
    if (this.skippedBytes + bytes > this.limits.maxSkippedBytes) {
      const what =
        item.module !== undefined
          ? `${item.module}${item.version !== undefined ? `@${item.version}` : ''}`
          : 'an invalid feed line';
      throw journalFull(
        'skipped',
        this.skippedFile,
        `${(this.limits.maxSkippedBytes / 1024 ** 2).toFixed(1)} MiB`,
        what,
      );
    }
    this.skippedBytes += bytes;
    try {
      await fs.appendFile(this.skippedFile, line, { mode: STATE_FILE_MODE });
    } catch (err) {
      this.skippedReady = undefined;
      this.skippedBytes = undefined;
      throw ioError(err, 'store.state', `cannot append to ${this.skippedFile}`);
    }
  }

  /** Streams the skipped journal line by line; a torn or corrupt line is passed over. */
  async *skipped(): AsyncGenerator<SkippedItem> {
    let handle;
    try {
      handle = await fs.open(this.skippedFile, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(err, 'store.state', `cannot read ${this.skippedFile}`);
    }
    const lines = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        const item = parseSkippedLine(line);
        if (item !== undefined) yield item;
      }
    } finally {
      lines.close();
      await handle.close().catch(() => undefined);
    }
  }

  /** Saves the summary of the last run atomically. */
  async saveSummary(s: RunSummary): Promise<void> {
    await this.writeJson(this.summaryFile, s);
  }

  /**
   * The summary of the last run, or undefined if there was none; MALFORMED if corrupt. Older summaries' `fetched`
   * (always `published`) is dropped.
   */
  async loadSummary(): Promise<RunSummary | undefined> {
    const v = await this.readJson(this.summaryFile);
    if (v === undefined) return undefined;
    return asRunSummary(v, this.summaryFile);
  }

  /** The recorded settings, or undefined before the first run recorded them; MALFORMED if corrupt. */
  async loadSettings(): Promise<RecordedSettings | undefined> {
    const v = await this.readJson(this.settingsFile);
    if (v === undefined) return undefined;
    return asRecordedSettings(v, this.settingsFile);
  }

  /** Records the settings atomically (creates the state directory when needed). */
  async saveSettings(s: RecordedSettings): Promise<void> {
    await this.init();
    await this.writeJson(this.settingsFile, s);
  }

  /** The upstream health the last runs recorded (empty before any); MALFORMED if corrupt. */
  async loadUpstreamHealth(): Promise<UpstreamHealthRecord[]> {
    const v = await this.readJson(this.upstreamsFile);
    if (v === undefined) return [];
    return asUpstreamHealth(v, this.upstreamsFile);
  }

  /**
   * Merges a run's upstream activity into upstreams.json (one entry per configured upstream); a run that changes no
   * record (a no-op asks no upstream anything) leaves the file as it is, without a write or fsync.
   */
  async recordUpstreamHealth(run: readonly UpstreamActivityInput[]): Promise<void> {
    const prev = await this.loadUpstreamHealth().catch(() => undefined);
    const next = mergeUpstreamHealth(prev ?? [], run);
    if (prev !== undefined && prev.length > 0 && JSON.stringify(prev) === JSON.stringify(next)) return;
    await this.writeJson(this.upstreamsFile, { upstreams: next });
  }
}
