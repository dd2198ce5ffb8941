/**
 * Keeping the V8 heap small during a run. The young generation grows to two
 * 16 MiB semi-spaces under a sync's allocation rate (34 MB of the peak RSS)
 * unless node is started with `--max-semi-space-size`; `smallYoungGeneration`
 * keeps it at its initial size from inside the process. And the garbage
 * collector on demand. Bodies held in memory live long enough
 * (download, verification, publication) to reach V8's old generation, where
 * only a full collection frees them; V8 starts one only after about 64 MB of
 * such memory has piled up, which on a sync was most of its peak RSS. The
 * memory budget asks for a collection each time it has given back its size.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Starts a full garbage collection (asynchronously: it runs in a task of its own). */
export type Collect = () => void;

type GcFunction = (options: { type: 'major'; execution: 'async' }) => Promise<void>;

/** V8's collector, exposed to one fresh context as `--expose-gc` would (the process's own globals are unchanged). */
export function v8Collector(): Collect {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  return () => {
    gc({ type: 'major', execution: 'async' }).catch(() => undefined);
  };
}

/**
 * Stops the young generation from growing past its initial size (two 1 MiB semi-spaces) for the rest of the process:
 * a flag V8 reads each time it would grow it, so setting it at run time works where `--max-semi-space-size` does not.
 */
export function smallYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
