import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError, type Outcome } from '../../src/errors.js';
import { runDaemon, type DaemonLogger } from '../../src/ops/daemon.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';

function recorder(): DaemonLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: object, msg: string) => lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

describe('runDaemon', () => {
  it('runs, sleeps the interval, runs again until stopped during a sleep', async () => {
    const ac = new AbortController();
    const sleeps: number[] = [];
    let runs = 0;
    const result = await runDaemon(
      async () => {
        runs++;
        return runs === 2 ? 'failed' : 'ok';
      },
      {
        intervalMs: 900_000,
        exitCodeOf,
        signal: ac.signal,
        logger: recorder(),
        sleep: async (ms) => {
          sleeps.push(ms);
          if (sleeps.length === 3) ac.abort();
        },
      },
    );
    expect(result).toEqual({ runs: 3, outcome: 'ok' });
    expect(sleeps).toEqual([900_000, 900_000, 900_000]);
  });

  it('aborts the current run on stop, waits for it to finish, and does not start another', async () => {
    const ac = new AbortController();
    const events: string[] = [];
    const result = await runDaemon(
      (signal) =>
        new Promise<Outcome>((resolve) => {
          events.push('run started');
          signal.addEventListener('abort', () => {
            events.push('run saw abort');
            setTimeout(() => {
              events.push('run finished cleanly');
              resolve('failed');
            }, 20);
          });
          setTimeout(() => ac.abort(), 5);
        }),
      {
        intervalMs: 1000,
        exitCodeOf,
        signal: ac.signal,
        logger: recorder(),
        sleep: async () => {
          events.push('slept');
        },
      },
    );
    expect(result).toEqual({ runs: 1, outcome: 'ok' });
    expect(events).toEqual(['run started', 'run saw abort', 'run finished cleanly']);
  });

  it('keeps going after a run that throws (e.g. locked), logging its exit code', async () => {
    const ac = new AbortController();
    const log = recorder();
    let n = 0;
    const result = await runDaemon(
      async () => {
        n++;
        if (n === 1) throw new GomirrorError(ErrorCodes.LOCKED, 'another run holds the lock', { op: 'store.lock' });
        ac.abort();
        return 'ok';
      },
      { intervalMs: 10, exitCodeOf, signal: ac.signal, logger: log, sleep: async () => undefined },
    );
    expect(result).toEqual({ runs: 2, outcome: 'ok' });
    expect(log.lines.some((l) => l.startsWith('error sync run failed') && l.includes('"exitCode":4'))).toBe(true);
  });

  it('stops (outcome usage, exit 2) on a configuration error, which retrying cannot fix', async () => {
    const ac = new AbortController();
    let slept = 0;
    const result = await runDaemon(async () => 'usage', {
      intervalMs: 10,
      exitCodeOf,
      signal: ac.signal,
      logger: recorder(),
      sleep: async () => {
        slept++;
      },
    });
    expect(result).toEqual({ runs: 1, outcome: 'usage' });
    expect(slept).toBe(0);
  });

  it('does not run at all when already stopped', async () => {
    const ac = new AbortController();
    ac.abort();
    let runs = 0;
    const result = await runDaemon(async () => (++runs, 'ok'), {
      exitCodeOf,
      intervalMs: 10,
      signal: ac.signal,
      logger: recorder(),
    });
    expect(result).toEqual({ runs: 0, outcome: 'ok' });
    expect(runs).toBe(0);
  });

  it('the default sleep ends as soon as the stop signal fires', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 30);
    const result = await runDaemon(async () => 'ok', {
      exitCodeOf,
      intervalMs: 60_000,
      signal: ac.signal,
      logger: recorder(),
    });
    expect(result.runs).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
