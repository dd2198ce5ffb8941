import { describe, expect, it } from 'vitest';
import { parseSyncConfig } from '../../src/config/config.js';
import { FETCH_DEFAULTS, parseFetchPolicy } from '../../src/config/fetch-options.js';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';

const GOPROXY = 'https://proxy.golang.org';

function configError(f: () => unknown): GomirrorError {
  try {
    f();
  } catch (err) {
    if (err instanceof GomirrorError) return err;
    throw err;
  }
  throw new Error('expected a CONFIG error');
}

describe('fetch policy options', () => {
  it('defaults: 7 days give-up age, 60 s + 64 KiB/s deadline, cached-only on proxy.golang.org, no contact', () => {
    const cfg = parseSyncConfig({ dest: '/tmp/t' }, false, {});
    expect(cfg.fetch).toEqual({
      retryGiveUpAfterMs: 7 * 86_400_000,
      deadline: { baseMs: 60_000, minBytesPerSecond: 65_536 },
      noOriginFetch: { [GOPROXY]: 'cached-only' },
      userAgentContact: undefined,
    });
    expect(FETCH_DEFAULTS.retryGiveUpAfterMs).toBe(7 * 86_400_000);
    // Other upstreams are read normally unless named.
    expect(parseFetchPolicy({}, ['https://goproxy.cn', GOPROXY]).noOriginFetch).toEqual({ [GOPROXY]: 'cached-only' });
  });

  it('parses durations, rates, per-upstream modes and the contact', () => {
    const p = parseFetchPolicy(
      {
        'retry-give-up-after': '36h',
        'request-deadline': '1500ms',
        'min-download-rate': '1M/s',
        'no-origin-fetch': ['https://goproxy.cn', `${GOPROXY}/=header`],
        'user-agent-contact': 'https://ops.example/mirror',
      },
      [GOPROXY, 'https://goproxy.cn'],
    );
    expect(p).toEqual({
      retryGiveUpAfterMs: 36 * 3_600_000,
      deadline: { baseMs: 1500, minBytesPerSecond: 1 << 20 },
      noOriginFetch: { 'https://goproxy.cn': 'header', [GOPROXY]: 'header' },
      userAgentContact: 'https://ops.example/mirror',
    });
    expect(parseFetchPolicy({ 'no-origin-fetch': 'none' }, [GOPROXY]).noOriginFetch).toEqual({});
    expect(parseFetchPolicy({ 'user-agent-contact': 'ops@example.com' }, [GOPROXY]).userAgentContact).toBe(
      'ops@example.com',
    );
  });

  it('refuses bad values with CONFIG naming the option', () => {
    for (const [raw, key] of [
      [{ 'retry-give-up-after': '7 days' }, 'retry-give-up-after'],
      [{ 'retry-give-up-after': '1s' }, 'retry-give-up-after'],
      [{ 'request-deadline': '0s' }, 'request-deadline'],
      [{ 'min-download-rate': 'fast' }, 'min-download-rate'],
      [{ 'min-download-rate': '0' }, 'min-download-rate'],
      [{ 'no-origin-fetch': 'https://elsewhere.example' }, 'no-origin-fetch'],
      [{ 'no-origin-fetch': `${GOPROXY}=sometimes` }, 'no-origin-fetch'],
      [{ 'user-agent-contact': 'me (evil)\r\nX: y' }, 'user-agent-contact'],
    ] as const) {
      const err = configError(() => parseFetchPolicy(raw, [GOPROXY]));
      expect(err.code, JSON.stringify(raw)).toBe(ErrorCodes.CONFIG);
      expect(err.message).toContain(key);
    }
  });
});
