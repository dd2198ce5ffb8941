/**
 * Keeps the list of paths earlier exports carried (`exported.txt`) in key
 * order, the order of a sorted tree listing that the export plan merges it
 * with. Lists written by versions that walked directories (element-wise
 * order) are re-sorted once, with bounded memory: sorted runs of at most
 * RUN_LINES lines spilled to temporary files, then merged through a heap.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import { ioError, tempPath } from '../storage/atomic.js';
import { compareKeys } from './plan.js';

/** Lines sorted in memory at once (a few tens of MB of paths). */
export const RUN_LINES = 200_000;

/** The non-empty lines of a file. */
async function* lines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) if (line !== '') yield line;
}

async function inKeyOrder(file: string): Promise<boolean> {
  let prev: string | undefined;
  for await (const line of lines(file)) {
    if (prev !== undefined && compareKeys(prev, line) > 0) return false;
    prev = line;
  }
  return true;
}

/** Writes the file's lines as sorted runs of at most runLines lines into tmpDir; returns the run files. */
async function spillRuns(file: string, tmpDir: string, runLines: number): Promise<string[]> {
  const runs: string[] = [];
  let run: string[] = [];
  const spill = async (): Promise<void> => {
    const out = tempPath(tmpDir, `exported-run${runs.length}`);
    runs.push(out);
    await fs.writeFile(out, run.sort(compareKeys).join('\n') + '\n');
    run = [];
  };
  for await (const line of lines(file)) {
    run.push(line);
    if (run.length >= runLines) await spill();
  }
  if (run.length > 0) await spill();
  return runs;
}

/** Merges sorted run files into `out` (duplicates kept once). */
async function mergeRuns(runs: string[], out: string): Promise<void> {
  const heads = runs.map((r) => lines(r));
  const heap: Array<{ line: string; src: number }> = [];
  const push = (e: { line: string; src: number }): void => {
    heap.push(e);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (compareKeys((heap[p] as typeof e).line, e.line) <= 0) break;
      [heap[p], heap[i]] = [heap[i] as typeof e, heap[p] as typeof e];
      i = p;
    }
  };
  const pop = (): { line: string; src: number } => {
    const top = heap[0] as { line: string; src: number };
    const last = heap.pop() as typeof top;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < heap.length && compareKeys((heap[l] as typeof top).line, (heap[m] as typeof top).line) < 0) m = l;
        if (r < heap.length && compareKeys((heap[r] as typeof top).line, (heap[m] as typeof top).line) < 0) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i] as typeof top, heap[m] as typeof top];
        i = m;
      }
    }
    return top;
  };
  const next = async (src: number): Promise<void> => {
    const r = await (heads[src] as AsyncGenerator<string>).next();
    if (r.done !== true) push({ line: r.value, src });
  };
  for (let i = 0; i < heads.length; i++) await next(i);
  const handle = await fs.open(out, 'w', 0o600);
  try {
    let prev: string | undefined;
    let chunk: string[] = [];
    while (heap.length > 0) {
      const { line, src } = pop();
      if (line !== prev) chunk.push(line);
      prev = line;
      if (chunk.length >= 4096) {
        await handle.write(chunk.join('\n') + '\n');
        chunk = [];
      }
      await next(src);
    }
    if (chunk.length > 0) await handle.write(chunk.join('\n') + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** True when there is a file at `file`. */
function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Re-sorts the list at file through sorted runs in tmpDir and replaces it atomically. */
async function resort(file: string, tmpDir: string, runLines: number): Promise<void> {
  await fs.mkdir(tmpDir, { recursive: true });
  const runs = await spillRuns(file, tmpDir, runLines);
  const out = tempPath(tmpDir, 'exported.txt');
  try {
    await mergeRuns(runs, out);
    await fs.rename(out, file);
  } finally {
    await Promise.all([...runs, out].map((r) => fs.rm(r, { force: true })));
  }
}

/**
 * Leaves the path list at `file` in key order (compareKeys): nothing to do
 * when it is missing or marked as checked (`<file>.key-order`); otherwise it
 * is read once, re-sorted when out of order, and marked. True when it was
 * re-sorted.
 */
export async function ensureKeyOrder(file: string, tmpDir: string, runLines = RUN_LINES): Promise<boolean> {
  const marker = `${file}.key-order`;
  try {
    if (!(await exists(file)) || (await exists(marker))) return false;
    const resorted = !(await inKeyOrder(file));
    if (resorted) await resort(file, tmpDir, runLines);
    await fs.writeFile(marker, 'exported paths are in key order\n', { mode: 0o600 });
    return resorted;
  } catch (err) {
    throw ioError(err, 'transfer.state', `cannot re-sort ${file}`, { file });
  }
}
