/**
 * Run counters and the operator's progress line: versions done/total, bytes,
 * rate and ETA, redrawn on a TTY; silent otherwise (JSON logs carry the news).
 */
export interface Counters {
  scheduled: number;
  published: number;
  present: number;
  failed: number;
  skipped: number;
  filtered: number;
  invalid: number;
  /** Feed lines stamped further in the future than the allowed clock skew (held back). */
  future: number;
  /** Entries a full journal could not record (each one stops the run before the cursor passes it). */
  notRecorded: number;
  bytes: number;
}

export function newCounters(): Counters {
  return { scheduled: 0, published: 0, present: 0, failed: 0, skipped: 0, filtered: 0, invalid: 0, future: 0, notRecorded: 0, bytes: 0 };
}

function human(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One progress line for the counters after elapsedMs. Pure. */
export function progressLine(c: Counters, elapsedMs: number): string {
  const done = c.published + c.present + c.failed + c.skipped;
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const rate = c.bytes / secs;
  const perVersion = done / secs;
  const left = Math.max(c.scheduled - done, 0);
  const eta = perVersion > 0 && left > 0 ? ` ETA ${duration((left / perVersion) * 1000)}` : '';
  return `${done}/${c.scheduled} versions (${c.failed} failed) ${human(c.bytes)} ${human(rate)}/s${eta}`;
}

/** Redraws the progress line on a TTY stream every interval until stopped. */
export class ProgressDisplay {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  constructor(
    private readonly counters: Counters,
    private readonly out: NodeJS.WriteStream,
  ) {}

  start(intervalMs = 500): void {
    if (!this.out.isTTY) return;
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
  }

  private draw(): void {
    this.out.write(`\r\x1b[K${progressLine(this.counters, Date.now() - this.started)}`);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.out.write('\n');
  }
}
