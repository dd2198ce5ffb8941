/**
 * Upstream health tracking (pure apart from the injected clock): a simple
 * circuit breaker per GOPROXY upstream that moves failing ones to the back.
 */
import { ErrorCodes, GomirrorError } from '../errors.js';

/** When an upstream is considered unhealthy and for how long. */
export interface UpstreamHealth {
  /** Consecutive failures (exhausted retries) that start a cool-down. */
  failureThreshold: number;
  /** How long a failing upstream is moved to the back of the order. */
  cooldownMs: number;
}

/** 3 consecutive failures cool an upstream down for one minute. */
export const DEFAULT_HEALTH: UpstreamHealth = Object.freeze({ failureThreshold: 3, cooldownMs: 60_000 });

interface State {
  consecutiveFailures: number;
  coolingUntil: number | undefined;
  lastSuccessAt?: number;
  lastFailureAt?: number;
}

/** The health of one upstream with the times of its last success and failure in this process (epoch ms). */
export interface UpstreamActivity {
  url: string;
  consecutiveFailures: number;
  coolingUntil?: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
}

/** The configured upstreams with their health, ordered for the next request. */
export class UpstreamPool {
  private readonly urls: readonly string[];
  private readonly states = new Map<string, State>();

  /** Throws CONFIG when `urls` is empty; duplicate URLs are kept once. */
  constructor(
    urls: string[],
    private readonly health: UpstreamHealth,
    private readonly now: () => number,
  ) {
    this.urls = [...new Set(urls)];
    if (this.urls.length === 0) {
      throw new GomirrorError(ErrorCodes.CONFIG, 'at least one upstream URL is required', { op: 'fetch.upstreams' });
    }
    for (const url of this.urls) this.states.set(url, { consecutiveFailures: 0, coolingUntil: undefined });
  }

  /**
   * Upstreams to try in order: healthy ones in configured order, then cooling-down ones (so a single upstream is never
   * fully skipped).
   */
  order(): string[] {
    const t = this.now();
    const healthy: string[] = [];
    const cooling: Array<{ url: string; until: number }> = [];
    for (const url of this.urls) {
      const until = this.states.get(url)?.coolingUntil;
      if (until !== undefined && until > t) cooling.push({ url, until });
      else healthy.push(url);
    }
    // Stable sort: those that recover soonest first, ties in configured order.
    cooling.sort((a, b) => a.until - b.until);
    return [...healthy, ...cooling.map((c) => c.url)];
  }

  /** Records a good response from `url`: its failure count and cool-down are cleared (unknown URLs are ignored). */
  reportSuccess(url: string): void {
    const s = this.states.get(url);
    if (s === undefined) return;
    s.consecutiveFailures = 0;
    s.coolingUntil = undefined;
    s.lastSuccessAt = this.now();
  }

  /**
   * Records a failure of `url`; from `failureThreshold` consecutive failures on, each one (re)starts a cool-down of
   * `cooldownMs` (unknown URLs are ignored).
   */
  reportFailure(url: string): void {
    const s = this.states.get(url);
    if (s === undefined) return;
    s.consecutiveFailures += 1;
    s.lastFailureAt = this.now();
    if (s.consecutiveFailures >= this.health.failureThreshold) {
      s.coolingUntil = this.now() + this.health.cooldownMs;
    }
  }

  /** snapshot() plus the times of the last success and failure of each upstream (only those that happened). */
  activity(): UpstreamActivity[] {
    return this.snapshot().map((h) => {
      const s = this.states.get(h.url);
      return {
        ...h,
        ...(s?.lastSuccessAt !== undefined && { lastSuccessAt: s.lastSuccessAt }),
        ...(s?.lastFailureAt !== undefined && { lastFailureAt: s.lastFailureAt }),
      };
    });
  }

  /** The health of every upstream in configured order; `coolingUntil` only while cooling down. */
  snapshot(): Array<{ url: string; consecutiveFailures: number; coolingUntil?: number }> {
    const t = this.now();
    return this.urls.map((url) => {
      const s = this.states.get(url) ?? { consecutiveFailures: 0, coolingUntil: undefined };
      return s.coolingUntil !== undefined && s.coolingUntil > t
        ? { url, consecutiveFailures: s.consecutiveFailures, coolingUntil: s.coolingUntil }
        : { url, consecutiveFailures: s.consecutiveFailures };
    });
  }
}

const later = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/**
 * One activity record per configured upstream from two pools over the same
 * upstreams in the same order (e.g. normal and bulk URLs of each): the newest
 * success and failure of either, and the failure count and cool-down of the
 * pool whose last event was the newer. Reported under `urls`. Pure.
 */
export function combineActivity(
  urls: readonly string[],
  a: readonly UpstreamActivity[],
  b: readonly UpstreamActivity[],
): UpstreamActivity[] {
  return urls.map((url, i) => {
    const x = a[i];
    const y = b[i];
    const last = (r: UpstreamActivity | undefined): number => Math.max(r?.lastSuccessAt ?? -1, r?.lastFailureAt ?? -1);
    const newer = last(y) > last(x) ? y : x;
    const lastSuccessAt = later(x?.lastSuccessAt, y?.lastSuccessAt);
    const lastFailureAt = later(x?.lastFailureAt, y?.lastFailureAt);
    return {
      url,
      consecutiveFailures: newer?.consecutiveFailures ?? 0,
      ...(newer?.coolingUntil !== undefined && { coolingUntil: newer.coolingUntil }),
      ...(lastSuccessAt !== undefined && { lastSuccessAt }),
      ...(lastFailureAt !== undefined && { lastFailureAt }),
    };
  });
}
