/**
 * The overall deadline of one request: a base plus the time the body needs at
 * a minimum throughput, so no response (however slowly it drips) holds a
 * download slot, and the feed cursor, for ever.
 */

/** Every request must end within `baseMs + bytes / minBytesPerSecond`. */
export interface DeadlinePolicy {
  baseMs: number;
  minBytesPerSecond: number;
}

/** 60 s plus 64 KiB/s: 1 MiB gets 76 s, a 500 MiB zip about 2.2 h. */
export const DEFAULT_DEADLINE: DeadlinePolicy = Object.freeze({ baseMs: 60_000, minBytesPerSecond: 64 * 1024 });

/** Milliseconds a request of `bytes` body bytes may take in all (pure). */
export function allowedMs(p: DeadlinePolicy, bytes: number): number {
  return p.baseMs + (Math.max(0, bytes) * 1000) / p.minBytesPerSecond;
}

/**
 * A running deadline: its signal aborts once the request has taken longer than
 * allowed for its size — the Content-Length once known (`expect`), else the
 * bytes received so far (`received`), so an undeclared body that keeps up the
 * minimum throughput keeps its deadline moving — or as soon as `parent` (the
 * run's signal, if any) aborts, with the parent's reason (one listener, much
 * cheaper per request than `AbortSignal.any`). Call `dispose` when done.
 */
export class RequestDeadline {
  private readonly controller = new AbortController();
  private readonly start: number;
  private declared: number | undefined;
  private got = 0;
  private timer: NodeJS.Timeout | undefined;
  private passed = false;
  private readonly onParentAbort: () => void;

  constructor(
    private readonly policy: DeadlinePolicy,
    private readonly now: () => number = Date.now,
    private readonly parent?: AbortSignal,
  ) {
    this.start = now();
    this.onParentAbort = () => this.controller.abort(parent?.reason);
    if (parent?.aborted === true) this.onParentAbort();
    else parent?.addEventListener('abort', this.onParentAbort, { once: true });
    this.arm();
  }

  /** Aborted when the deadline passes (with a plain Error) or the parent aborts (with its reason). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the deadline has passed (not when only the parent aborted). */
  get expired(): boolean {
    return this.passed;
  }

  /** Why the deadline passed, for error messages. */
  describe(): string {
    const size = this.declared ?? this.got;
    const what = this.declared === undefined ? `${this.got} bytes received so far` : `Content-Length ${this.declared}`;
    return (
      `request deadline of ${Math.round(allowedMs(this.policy, size))} ms passed (${what}, ${this.got} ` +
      `bytes received, minimum ${this.policy.minBytesPerSecond} bytes/s)`
    );
  }

  /** The body's size is known: the deadline becomes base + size / rate from the request's start. */
  expect(bytes: number): void {
    this.declared = bytes;
    this.arm();
  }

  /** Counts `n` more body bytes (moves the deadline of a body without Content-Length). */
  received(n: number): void {
    this.got += n;
  }

  /** Stops the timer and stops listening to the parent. */
  dispose(): void {
    this.stopTimer();
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.stopTimer();
    if (this.controller.signal.aborted) return;
    const left = this.start + allowedMs(this.policy, this.declared ?? this.got) - this.now();
    if (left <= 0) {
      this.passed = true;
      this.controller.abort(new Error(this.describe()));
      return;
    }
    this.timer = setTimeout(() => this.arm(), Math.min(Math.ceil(left), 2 ** 31 - 1));
    this.timer.unref();
  }
}
