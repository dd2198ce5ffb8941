/**
 * Child process of the benchmark: the index crawl alone. An in-process
 * PageFetcher synthesises a feed of ENTRIES entries (one every ~1.000123 ms,
 * nanosecond timestamps, 1% of module paths under example.com/hit/); the
 * crawler pages through it with the production `crawl` and `compileModuleFilter`
 * with `--include example.com/hit`, passed to the crawl as sync passes it.
 * The pages are generated before the clock starts. Prints
 * {"entries","accepted","seconds","cpuSeconds"}.
 * Usage: node crawl.js ENTRIES
 */
import { compileModuleFilter, crawl, cursorAt, EPOCH_TIMESTAMP, type PageFetcher } from '../../src/feed/index.js';

const BASE_NS = BigInt(Date.UTC(2020, 0, 1)) * 1_000_000n;
const STEP_NS = 1_000_123n;

/** RFC 3339 with nanoseconds; the date part is cached per second so generating the feed costs little. */
function nanosFormatter(): (ns: bigint) => string {
  let lastSecs = -1n;
  let lastBase = '';
  return (ns) => {
    const secs = ns / 1_000_000_000n;
    const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
    if (secs !== lastSecs) [lastSecs, lastBase] = [secs, new Date(Number(secs) * 1000).toISOString().slice(0, 19)];
    return frac === '' ? `${lastBase}Z` : `${lastBase}.${frac}Z`;
  };
}

function parseNs(ts: string): bigint {
  const m = /^(.{19})(?:\.(\d+))?Z$/.exec(ts);
  if (!m) throw new Error(`bad since ${ts}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** The synthetic entry i as one NDJSON line. */
function line(i: number, formatNs: (ns: bigint) => string): string {
  const path = i % 100 === 0 ? `example.com/hit/mod${i}` : `github.com/org${i % 5003}/repo${i % 997}`;
  return `{"Path":"${path}","Version":"v1.${i % 100}.${i}","Timestamp":"${formatNs(BASE_NS + BigInt(i) * STEP_NS)}"}\n`;
}

/** A PageFetcher over `entries` synthetic entries: those with timestamp >= since, at most limit. */
export function syntheticFeed(entries: number): PageFetcher {
  const formatNs = nanosFormatter();
  return (since, limit) => {
    const ns = parseNs(since);
    const first = ns <= BASE_NS ? 0 : Number((ns - BASE_NS + STEP_NS - 1n) / STEP_NS);
    const out: string[] = [];
    for (let i = first; i < Math.min(entries, first + limit); i++) out.push(line(i, formatNs));
    return Promise.resolve(out.join(''));
  };
}

/**
 * The pages a crawl of `feed` asks for, made before the clock starts (the
 * crawl's own cost is measured, not the generator's): a PageFetcher that
 * answers from them, as a network client hands the crawl a page it received.
 */
async function pregenerated(feed: PageFetcher, entries: number): Promise<PageFetcher> {
  const pages = new Map<string, string>();
  const record: PageFetcher = async (since, limit) => {
    const body = await feed(since, limit);
    pages.set(`${since} ${limit}`, body);
    return body;
  };
  let n = 0;
  for await (const _ of crawl(record, { since: cursorAt(EPOCH_TIMESTAMP) })) n++;
  if (n !== entries) throw new Error(`the synthetic feed gave ${n} entries, not ${entries}`);
  return (since, limit) => {
    const body = pages.get(`${since} ${limit}`);
    return body === undefined ? feed(since, limit) : Promise.resolve(body);
  };
}

async function main(): Promise<void> {
  const entries = Number(process.argv[2] ?? 1_000_000);
  const accepts = compileModuleFilter({ include: ['example.com/hit'], exclude: [] });
  const fetchPage = await pregenerated(syntheticFeed(entries), entries);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let seen = 0;
  let accepted = 0;
  for await (const ev of crawl(fetchPage, { since: cursorAt(EPOCH_TIMESTAMP), accepts })) {
    seen++;
    if (ev.kind === 'entry') accepted++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ entries: seen, accepted, seconds, cpuSeconds })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
