/**
 * Run counters and the operator's progress line: versions done/total, bytes,
 * rate and ETA, redrawn on a TTY; silent otherwise (JSON logs carry the news).
 */
import type { Outcome } from '../errors.js';

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
  return {
    scheduled: 0,
    published: 0,
    present: 0,
    failed: 0,
    skipped: 0,
    filtered: 0,
    invalid: 0,
    future: 0,
    notRecorded: 0,
    bytes: 0,
  };
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
  if (s >= 172_800) return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
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

/** What the end-of-run summary needs (a subset of the run summary). */
export interface RunOutcome {
  /** How the run ended (the CLI maps it to the exit code). */
  outcome: Outcome;
  durationMs: number;
  finishedAt: string;
  published: number;
  failed: number;
  skipped: number;
  filtered: number;
  invalid: number;
  bytes: number;
  cursor?: { since: string };
  failures: ReadonlyArray<{ module: string; version: string; code: string; message: string }>;
}

/** Failures listed by name in the summary; the rest are counted. */
export const SUMMARY_FAILURES = 5;

function nextStep(o: RunOutcome, present: number): string | undefined {
  if (o.outcome === 'security')
    return (
      'next: a SECURITY error stopped the run (nothing past it was published); read the error above and ' +
      'investigate before running again'
    );
  if (o.outcome === 'locked') return 'next: another run holds the lock; wait for it (gomirror status) and run again';
  if (o.failed > 0)
    return (
      'next: the failed versions are journaled and retried by the next sync; gomirror status lists the ' +
      'backlog, gomirror probe checks the upstreams'
    );
  if (o.outcome !== 'ok') return 'next: see the error above, fix it and run gomirror sync again';
  return present > 0 && o.published === 0 ? 'nothing new: the mirror is up to date with the index' : undefined;
}

/**
 * The end of a run for people: what was published and failed (first few reasons), bytes, rate, duration, cursor lag,
 * and what to do next. Pure.
 */
export function formatRunSummary(o: RunOutcome, present = 0): string {
  const secs = Math.max(o.durationMs / 1000, 0.001);
  const lines = [
    `${o.outcome === 'ok' ? 'done' : o.outcome === 'security' ? 'STOPPED' : 'finished with problems'}: ` +
      `published ${o.published}, failed ${o.failed}, skipped ${o.skipped}, filtered ${o.filtered}, invalid ` +
      `${o.invalid}${present > 0 ? `, already present ${present}` : ''}`,
    `${human(o.bytes)} in ${duration(o.durationMs)} (${human(o.bytes / secs)}/s)`,
  ];
  if (o.cursor !== undefined) {
    const lagMs = Math.max(0, Date.parse(o.finishedAt) - Date.parse(o.cursor.since));
    lines.push(
      `index cursor ${o.cursor.since} (${Number.isNaN(lagMs) ? '?' : duration(lagMs)} behind the end of the run)`,
    );
  }
  if (o.failures.length > 0) {
    lines.push(`failures (first ${Math.min(SUMMARY_FAILURES, o.failures.length)} of ${o.failed}):`);
    for (const f of o.failures.slice(0, SUMMARY_FAILURES))
      lines.push(`  ${f.module}@${f.version}: ${f.message} [${f.code}]`);
  }
  const next = nextStep(o, present);
  if (next !== undefined) lines.push(next);
  return `${lines.join('\n')}\n`;
}
