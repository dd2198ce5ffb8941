/**
 * The bench's latency mode: a payload-free corpus served by nginx holding
 * every request for the RTT (echo_sleep), one fresh sync per concurrency, the
 * round trips per version counted from nginx's access log, versions/s next to
 * the bound concurrency / (round trips per version × RTT), and `go mod
 * download` at the same RTT.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanGoHome, goLeg, syncLeg, type BenchTarget } from './legs.js';
import { inFlight, requestKinds, startBenchNginx } from './nginx-upstream.js';
import type { LatencyFigures, LatencyPoint } from './report.js';
import { buildCorpus, warnFailures } from './shape.js';

interface LatencyOpts {
  rttMs: number;
  rttVersions: number;
  rttConcurrency: number[];
  seed: number;
  go: boolean;
}

/** Measures the sync at each concurrency (and go once) with `rttMs` added per request. */
export async function runLatency(o: LatencyOpts, work: string): Promise<LatencyFigures> {
  await fs.mkdir(work, { recursive: true });
  const { corpus, sumdbKey, specs } = await buildCorpus('tiny', o.rttVersions, o.seed, path.join(work, 'static'));
  const nginx = await startBenchNginx(corpus.root, o.rttMs);
  const t: BenchTarget = { nginx, sumdbKey, specs };
  const rtt = o.rttMs / 1000;
  const n = corpus.versions;
  try {
    const points: LatencyPoint[] = [];
    for (const c of o.rttConcurrency) {
      console.log(`[rtt ${o.rttMs} ms] sync at concurrency ${c} ...`);
      const leg = await syncLeg(t, path.join(work, `tree-c${c}`), c);
      warnFailures(`rtt c${c}`, leg);
      const perVersion = leg.requests.length / n;
      const starts = leg.requests.map((r) => r.endS - r.durationS);
      const flight = inFlight(leg.requests, leg.wallS);
      points.push({
        concurrency: c,
        versionsPerS: n / leg.wallS,
        roundTripsPerVersion: perVersion,
        boundPerS: c / (perVersion * rtt),
        nginxCpuS: leg.nginxCpuS,
        cpuS: leg.userS + leg.sysS,
        wallS: leg.wallS,
        meanInFlight: flight.mean,
        peakInFlight: flight.peak,
        firstRequestS: Math.min(...starts) - leg.startS,
        afterLastS: leg.startS + leg.wallS - Math.max(...leg.requests.map((r) => r.endS)),
        requestKinds: requestKinds(leg.requests),
      });
    }
    let go: LatencyFigures['go'];
    if (o.go) {
      console.log(`[rtt ${o.rttMs} ms] go mod download ...`);
      const leg = await goLeg(t, path.join(work, 'go'));
      warnFailures('rtt go', leg);
      const flight = inFlight(leg.requests, leg.wallS).mean;
      go = {
        versionsPerS: n / leg.wallS,
        roundTripsPerVersion: leg.requests.length / n,
        wallS: leg.wallS,
        meanInFlight: flight,
        requestKinds: requestKinds(leg.requests),
      };
      await cleanGoHome(t, path.join(work, 'go')).catch(() => undefined);
    }
    return { rttMs: o.rttMs, versions: n, points, ...(go && { go }) };
  } finally {
    await nginx.stop();
  }
}
