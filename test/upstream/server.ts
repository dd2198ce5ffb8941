/**
 * The fake upstream on 127.0.0.1: index feed (/index), GOPROXY (/proxy) and
 * checksum database (/sumdb) over one deterministic corpus, with fault
 * injection and a request log, for tests of gomirror and of the go command.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Corpus, type CorpusVersion } from './corpus.js';
import { FaultTable, send, sendFault, type Fault, type FaultTarget, type ProxyEndpoint } from './faults.js';
import { MAX_LIMIT, feedPage } from './feed.js';
import { HashLog, createNoteSigner, formatTree, parseTilePath, type NoteSigner } from './log.js';
import { compareVersions, isPrerelease, isPseudoVersion, parseRfc3339, unescapeCase } from './primitives.js';

export type { CorpusVersion } from './corpus.js';
export type { Fault, FaultTarget } from './faults.js';

/** Options of the fake upstream (all deterministic from `seed`). */
export interface UpstreamOptions {
  seed?: number;
  /** Number of modules in the initial corpus (default 12, about 40 versions). */
  modules?: number;
  /** Add a few 2–8 MB files (random and compressible), default false. */
  bigFiles?: boolean;
  /** Every pageShortEvery-th index request gets a shorter page (default 0: never). */
  pageShortEvery?: number;
  /** Every clusterEvery-th feed entry starts a run of 2..5 identical timestamps (default 6; 0: none). */
  clusterEvery?: number;
  /** Extra payload bytes per record id (benchmarks; see CorpusOptions.payloadBytes). */
  payloadBytes?: (id: number) => number;
  /** Serve .info/.mod/.zip with Accept-Ranges, an ETag, and `Range` + `If-Range` answered with 206 (default false). */
  ranges?: boolean;
}

/** A running fake index + proxy + checksum database. */
export interface FakeUpstream {
  readonly baseUrl: string;
  readonly indexUrl: string;
  readonly proxyUrl: string;
  readonly sumdbUrl: string;
  readonly sumdbName: string;
  readonly sumdbKey: string;
  versions(): CorpusVersion[];
  grow(count: number): CorpusVersion[];
  inject(path: string, version: string, target: FaultTarget, fault: Fault): void;
  clearFaults(): void;
  forkLog(): void;
  addFeedEntries(lines: string[]): void;
  readonly requests: UpstreamRequest[];
  resetRequests(): void;
  /**
   * Makes a version uncached, as on proxy.golang.org (extra): requests through
   * `/proxy/cached-only/…` or with `Disable-Module-Fetch: true` get 404 for
   * its files; a normal request "fetches it from the origin" and caches it.
   */
  uncache(path: string, version: string): void;
  close(): Promise<void>;
  /** The correct module zip of a published version (extra). */
  zip(v: Pick<CorpusVersion, 'path' | 'version'>): Promise<Buffer>;
  /** The signed tree head /sumdb/latest currently serves (extra). */
  signedHead(): string;
}

/** One request the fake received, with the headers tests look at. */
export interface UpstreamRequest {
  method: string;
  path: string;
  status: number;
  headers: { 'user-agent'?: string; 'disable-module-fetch'?: string; range?: string; 'if-range'?: string };
  /** Body bytes sent for a proxy file (set for 200, 206 and truncated answers). */
  bytes?: number;
}

/** Default checksum database name of the fake. */
export const FAKE_SUMDB_NAME = 'sum.example.test';

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const modVerRE = /^[^@]+@v[0-9]+\.[0-9]+\.[0-9]+(-[^@]*)?(\+incompatible)?$/;

/** The log record of a version: its go.sum lines (unescaped path). */
export function recordText(v: Pick<CorpusVersion, 'path' | 'version' | 'zipH1' | 'modH1'>): string {
  return `${v.path} ${v.version} ${v.zipH1}\n${v.path} ${v.version}/go.mod ${v.modH1}\n`;
}

/**
 * The `.info` body, shaped like proxy.golang.org's: versions with an even
 * record id also carry an `Origin` (VCS, URL, Ref for releases, Hash), in the
 * field order the go command's RevInfo marshals.
 */
export function infoJson(v: Pick<CorpusVersion, 'path' | 'version' | 'time' | 'recordId'>): string {
  if (v.recordId % 2 !== 0) return JSON.stringify({ Version: v.version, Time: v.time });
  const Hash = createHash('sha1').update(`${v.path}@${v.version}`).digest('hex');
  const Origin = {
    VCS: 'git',
    URL: `https://${v.path}`,
    ...(!isPseudoVersion(v.version) && { Ref: `refs/tags/${v.version}` }),
    Hash,
  };
  return JSON.stringify({ Version: v.version, Time: v.time, Origin });
}

/** The version @latest reports: highest release (non-prerelease preferred), else newest pseudo-version. */
function latestOf(all: CorpusVersion[]): CorpusVersion | undefined {
  const byVer = (a: CorpusVersion, b: CorpusVersion): number => compareVersions(a.version, b.version);
  const releases = all.filter((v) => !isPseudoVersion(v.version)).sort(byVer);
  const stable = releases.filter((v) => !isPrerelease(v.version) && !v.version.endsWith('+incompatible'));
  return stable.at(-1) ?? releases.at(-1) ?? all.at(-1);
}

class Upstream {
  readonly corpus: Corpus;
  readonly faults = new FaultTable();
  readonly requests: UpstreamRequest[] = [];
  readonly uncached = new Set<string>();
  readonly signer: NoteSigner;
  private readonly log: HashLog;
  private fork: HashLog | undefined;
  private head = '';
  private indexRequests = 0;

  constructor(
    private readonly opts: Required<Omit<UpstreamOptions, 'payloadBytes' | 'ranges'>> &
      Pick<UpstreamOptions, 'payloadBytes' | 'ranges'>,
  ) {
    this.corpus = new Corpus({
      seed: opts.seed,
      modules: opts.modules,
      bigFiles: opts.bigFiles,
      clusterEvery: opts.clusterEvery,
      ...(opts.payloadBytes && { payloadBytes: opts.payloadBytes }),
    });
    const keySeed = createHash('sha256').update(`gomirror fake sumdb key ${opts.seed}`).digest();
    this.signer = createNoteSigner(FAKE_SUMDB_NAME, keySeed);
    this.log = HashLog.of(this.corpus.published.map((v) => Buffer.from(recordText(v))));
    this.resign();
  }

  get active(): HashLog {
    return this.fork ?? this.log;
  }

  signedHead(): string {
    return this.head;
  }

  grow(count: number): CorpusVersion[] {
    const added = this.corpus.grow(count);
    for (const v of added) {
      const id = this.log.append(Buffer.from(recordText(v)));
      if (id !== v.recordId) throw new Error(`fake upstream: record id ${id} != corpus id ${v.recordId}`);
      this.fork?.append(Buffer.from(recordText(v)));
    }
    this.resign();
    return added;
  }

  forkLog(): void {
    const texts = this.log.allRecords();
    const first = this.corpus.published[0] as CorpusVersion;
    const bogus = `h1:${createHash('sha256').update('forked').digest('base64')}`;
    texts[0] = Buffer.from(recordText({ ...first, zipH1: bogus }));
    this.fork = HashLog.of(texts);
    this.resign();
  }

  private resign(): void {
    const log = this.active;
    this.head = this.signer.sign(formatTree(log.size, log.treeHash()));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const h = (name: string): string | undefined =>
      typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined;
    const headers: UpstreamRequest['headers'] = {};
    for (const name of ['user-agent', 'disable-module-fetch', 'range', 'if-range'] as const) {
      const v = h(name);
      if (v !== undefined) headers[name] = v;
    }
    const entry: UpstreamRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0, headers };
    this.requests.push(entry);
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    let p: string;
    try {
      p = decodeURIComponent(url.pathname);
    } catch {
      entry.status = this.reply(res, 400, 'bad path encoding\n');
      return;
    }
    if (p === '/index') entry.status = this.index(url, res);
    else if (p.startsWith('/proxy/')) {
      const rest = p.slice('/proxy/'.length);
      const cachedOnly = rest.startsWith('cached-only/');
      const noFetch = cachedOnly || headers['disable-module-fetch'] === 'true';
      this.proxy(cachedOnly ? rest.slice('cached-only/'.length) : rest, res, noFetch, entry).then(
        (s) => (entry.status = s),
        (err: unknown) => (entry.status = this.reply(res, 500, `fake upstream: ${String(err)}\n`)),
      );
    } else if (p.startsWith('/sumdb/')) entry.status = this.sumdb(p.slice('/sumdb/'.length), res);
    else entry.status = this.reply(res, 404, 'not found\n');
  }

  private reply(res: ServerResponse, status: number, body: string | Buffer, type = TEXT): number {
    send(res, status, body, type);
    return status;
  }

  private index(url: URL, res: ServerResponse): number {
    const sinceRaw = url.searchParams.get('since');
    const since = sinceRaw === null || sinceRaw === '' ? undefined : parseRfc3339(sinceRaw);
    if (since === undefined && sinceRaw) return this.reply(res, 400, `invalid since: ${sinceRaw}\n`);
    const limitRaw = url.searchParams.get('limit');
    const limit = limitRaw === null || limitRaw === '' ? MAX_LIMIT : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1) return this.reply(res, 400, `invalid limit: ${limitRaw}\n`);
    this.indexRequests++;
    const every = this.opts.pageShortEvery;
    const short = every > 0 && this.indexRequests % every === 0;
    const page = feedPage(this.corpus.feed, since, limit, short);
    return this.reply(res, 200, page.map((e) => `${e.line}\n`).join(''));
  }

  private async proxy(rest: string, res: ServerResponse, noFetch: boolean, entry: UpstreamRequest): Promise<number> {
    let m: RegExpExecArray | null;
    let endpoint: ProxyEndpoint;
    let escPath: string;
    let escVer: string | undefined;
    if ((m = /^(.+)\/@v\/list$/.exec(rest))) [endpoint, escPath] = ['list', m[1] as string];
    else if ((m = /^(.+)\/@latest$/.exec(rest))) [endpoint, escPath] = ['latest', m[1] as string];
    else if ((m = /^(.+)\/@v\/([^/]+)\.(info|mod|zip)$/.exec(rest))) {
      [endpoint, escPath, escVer] = [m[3] as ProxyEndpoint, m[1] as string, m[2] as string];
    } else return this.reply(res, 404, `not found: ${rest}\n`);
    const modPath = unescapeCase(escPath);
    const version = escVer === undefined ? undefined : unescapeCase(escVer);
    if (modPath === undefined || (escVer !== undefined && version === undefined)) {
      return this.reply(res, 400, `bad escaping: ${rest}\n`);
    }
    if (version !== undefined && this.uncached.has(`${modPath}@${version}`)) {
      if (noFetch)
        return this.reply(res, 404, `not found: ${modPath}@${version}: not cached (origin fetch disabled)\n`);
      this.uncached.delete(`${modPath}@${version}`);
    }
    const fault = this.faults.take(modPath, version, endpoint);
    const body = await this.proxyBody(modPath, version, endpoint, fault?.kind === 'corrupt');
    if (!body)
      return fault ? sendFault(res, fault, Buffer.alloc(0), TEXT) : this.reply(res, 404, `not found: ${modPath}\n`);
    const ranged = this.opts.ranges === true && version !== undefined;
    if (ranged) {
      res.setHeader('Accept-Ranges', 'bytes');
      res.setHeader('ETag', `"${createHash('sha256').update(body.data).digest('hex').slice(0, 24)}"`);
    }
    if (fault) {
      entry.bytes = fault.kind === 'truncate' ? Math.floor(body.data.length / 2) : body.data.length;
      return sendFault(res, fault, body.data, body.type);
    }
    const asked = /^bytes=(\d+)-$/.exec(entry.headers.range ?? '');
    if (ranged && asked && entry.headers['if-range'] === res.getHeader('ETag') && Number(asked[1]) < body.data.length) {
      const rest = body.data.subarray(Number(asked[1]));
      entry.bytes = rest.length;
      res.setHeader('Content-Range', `bytes ${asked[1]}-${body.data.length - 1}/${body.data.length}`);
      return this.reply(res, 206, rest, body.type);
    }
    entry.bytes = body.data.length;
    return this.reply(res, 200, body.data, body.type);
  }

  private async proxyBody(
    modPath: string,
    version: string | undefined,
    endpoint: ProxyEndpoint,
    corrupt: boolean,
  ): Promise<{ data: Buffer; type: string } | undefined> {
    const all = this.corpus.versionsOf(modPath);
    if (endpoint === 'list' || endpoint === 'latest') {
      if (all.length === 0) return undefined;
      if (endpoint === 'list') {
        const lines = all.filter((v) => !isPseudoVersion(v.version)).map((v) => `${v.version}\n`);
        if (corrupt) lines.push('v99.0.0\n');
        return { data: Buffer.from(lines.join('')), type: TEXT };
      }
      const latest = latestOf(all) as CorpusVersion;
      return {
        data: Buffer.from(infoJson(corrupt ? { ...latest, time: '1999-01-01T00:00:00Z' } : latest)),
        type: JSON_TYPE,
      };
    }
    const v = this.corpus.find(modPath, version ?? '');
    if (!v) return undefined;
    if (endpoint === 'info') {
      return { data: Buffer.from(infoJson(corrupt ? { ...v, time: '1999-01-01T00:00:00Z' } : v)), type: JSON_TYPE };
    }
    if (endpoint === 'mod') {
      return { data: corrupt ? Buffer.concat([v.mod, Buffer.from('// corrupted\n')]) : v.mod, type: TEXT };
    }
    return { data: await (corrupt ? this.corpus.corruptZip(v) : this.corpus.zip(v)), type: 'application/zip' };
  }

  private sumdb(rest: string, res: ServerResponse): number {
    if (rest === 'latest') return this.reply(res, 200, this.head);
    if (rest.startsWith('lookup/')) return this.lookup(rest.slice('lookup/'.length), res);
    if (rest.startsWith('tile/')) {
      const t = parseTilePath(rest);
      if (!t) return this.reply(res, 400, 'invalid tile syntax\n');
      const data = t.level === -1 ? this.active.dataTile(t.n, t.width) : this.active.hashTile(t.level, t.n, t.width);
      if (!data) return this.reply(res, 404, `tile not found: ${rest}\n`);
      return this.reply(res, 200, data, t.level === -1 ? TEXT : 'application/octet-stream');
    }
    return this.reply(res, 404, 'not found\n');
  }

  private lookup(mod: string, res: ServerResponse): number {
    if (!modVerRE.test(mod)) return this.reply(res, 400, 'invalid module@version syntax\n');
    const at = mod.indexOf('@');
    const modPath = unescapeCase(mod.slice(0, at));
    const version = unescapeCase(mod.slice(at + 1));
    if (modPath === undefined || version === undefined) return this.reply(res, 400, `bad escaping: ${mod}\n`);
    const v = this.corpus.find(modPath, version);
    const text = v && this.active.record(v.recordId);
    const fault = this.faults.take(modPath, version, 'lookup');
    if (fault !== undefined && fault.kind !== 'corrupt') return sendFault(res, fault, Buffer.alloc(0), TEXT);
    if (!v || !text) return this.reply(res, 404, `not found: ${modPath}@${version}\n`);
    return this.reply(
      res,
      200,
      Buffer.concat([Buffer.from(`${v.recordId}\n`), text, Buffer.from('\n'), Buffer.from(this.head)]),
    );
  }
}

/** Starts the fake upstream on 127.0.0.1, port 0. */
export async function startUpstream(opts: UpstreamOptions = {}): Promise<FakeUpstream> {
  const up = new Upstream({
    seed: opts.seed ?? 1,
    modules: opts.modules ?? 12,
    bigFiles: opts.bigFiles ?? false,
    pageShortEvery: opts.pageShortEvery ?? 0,
    clusterEvery: opts.clusterEvery ?? 6,
    ...(opts.payloadBytes && { payloadBytes: opts.payloadBytes }),
    ...(opts.ranges !== undefined && { ranges: opts.ranges }),
  });
  const server = createServer((req, res) => up.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    indexUrl: `${baseUrl}/index`,
    proxyUrl: `${baseUrl}/proxy`,
    sumdbUrl: `${baseUrl}/sumdb`,
    sumdbName: FAKE_SUMDB_NAME,
    sumdbKey: up.signer.verifierKey,
    versions: () => [...up.corpus.published],
    grow: (count) => up.grow(count),
    inject: (path, version, target, fault) => up.faults.inject(path, version, target, fault),
    clearFaults: () => up.faults.clear(),
    forkLog: () => up.forkLog(),
    addFeedEntries: (lines) => up.corpus.addRaw(lines),
    requests: up.requests,
    resetRequests: () => {
      up.requests.length = 0;
    },
    uncache: (path, version) => {
      up.uncached.add(`${path}@${version}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    zip: (v) => up.corpus.zip(v),
    signedHead: () => up.signedHead(),
  };
}
