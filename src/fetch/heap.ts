/**
 * Keeping the V8 heap small during a run. The young generation grows to two
 * 16 MiB semi-spaces under a sync's allocation rate (34 MB of the peak RSS)
 * unless node is started with `--max-semi-space-size`; `syncV8Flags`
 * keeps it at its initial size from inside the process (and spaces full
 * collections out). And the garbage
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
 * Old-generation growth between V8's own full collections: the old generation may grow to 3× what the last one left
 * alive before the next starts. With V8's default for a heap this small (about 16 MB live, the next collection ~8 MB
 * later), objects promoted out of the small young generation started a full collection every ~70 ms of a sync (77 in
 * the bench's 2,000-version run, 1.5–2 s of CPU: a quarter of the run's); at 3× it is 10. Dead bodies (buffers outside
 * the heap) do not wait for it: the memory budget collects each time it has given back its size.
 */
const OLD_GENERATION_GROWTH_PERCENT = 200;

/**
 * A sync's V8 settings for the rest of the process: the young generation stays at its initial size (two 1 MiB
 * semi-spaces), the old generation grows by OLD_GENERATION_GROWTH_PERCENT between full collections, and the optimizing
 * compiler does not inline. V8 reads these flags each time it sizes a space or compiles a function, so setting them at
 * run time works where `--max-semi-space-size` does not. Without inlining, TurboFan spends half the CPU (3.2–3.8 s →
 * 1.4–2.1 s in the bench's 2,000-version sync, on V8's worker threads, which share the machine's cores with the sync):
 * its compiling never stops in a run (functions are re-optimized after deoptimizations), and the sync's own code is a
 * small part of its CPU (system calls, hashing, promise and stream machinery are not inlined JavaScript).
 */
export function syncV8Flags(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  setFlagsFromString('--no-turbo-inlining');
}
