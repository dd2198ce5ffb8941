/**
 * Fast checks of the fake upstream's endpoints. Hashes, roots and signatures
 * are recomputed here from first principles (not with ./log.ts), so a bug in
 * the fixture cannot hide behind itself.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infoJson, startUpstream, type CorpusVersion, type FakeUpstream } from './index.js';

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (data: Buffer): Buffer => sha256(Buffer.from([0]), data);
const node = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.from([1]), l, r);

/** RFC 6962 MTH, recursively: split at the largest power of two below n. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function h1(files: Array<{ name: string; data: Buffer }>): string {
  const lines = files
    .map((f) => `${sha256(f.data).toString('hex')}  ${f.name}\n`)
    .sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  return `h1:${sha256(Buffer.from(lines.join(''))).toString('base64')}`;
}

const esc = (s: string): string => s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);

async function unzip(buf: Buffer): Promise<Array<{ name: string; data: Buffer }>> {
  const zip = await yauzl.fromBufferPromise(buf, { lazyEntries: true });
  const out: Array<{ name: string; data: Buffer }> = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          out.push({ name: entry.fileName, data: Buffer.concat(chunks) });
          zip.readEntry();
        });
        stream.on('error', reject);
      });
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}

async function get(url: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

interface Head {
  size: number;
  root: Buffer;
  text: string;
}

/** Parses and verifies a signed tree note with the verifier key, using only node:crypto. */
function verifyHead(note: string, vkey: string): Head {
  // base64 may itself contain '+': split only at the first two
  const m0 = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey);
  expect(m0).not.toBeNull();
  const [, name, hashHex, keyB64] = m0 as unknown as [string, string, string, string];
  const keyBytes = Buffer.from(keyB64, 'base64');
  expect(keyBytes[0]).toBe(1);
  const pub = keyBytes.subarray(1);
  expect(
    sha256(Buffer.from(`${name}\n`), keyBytes)
      .subarray(0, 4)
      .toString('hex'),
  ).toBe(hashHex);
  const split = note.indexOf('\n\n');
  const text = note.slice(0, split + 1);
  const sigLine = note.slice(split + 2);
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(sigLine);
  expect(m?.[1]).toBe(name);
  const sig = Buffer.from(m?.[2] ?? '', 'base64');
  expect(sig.subarray(0, 4).toString('hex')).toBe(hashHex);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  expect(verify(null, Buffer.from(text), key, sig.subarray(4))).toBe(true);
  const lines = text.split('\n');
  expect(lines[0]).toBe('go.sum database tree');
  return { size: Number(lines[1]), root: Buffer.from(lines[2] ?? '', 'base64'), text };
}

const tileN = (n: number): string => {
  let s = String(n % 1000).padStart(3, '0');
  for (let k = Math.floor(n / 1000); k > 0; k = Math.floor(k / 1000)) s = `x${String(k % 1000).padStart(3, '0')}/${s}`;
  return s;
};

/** All level-0 hashes of a tree of `size` leaves, from full and partial tiles. */
async function leafHashes(up: FakeUpstream, size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let n = 0; n * 256 < size; n++) {
    const w = Math.min(256, size - n * 256);
    const r = await get(`${up.sumdbUrl}/tile/8/0/${tileN(n)}${w === 256 ? '' : `.p/${w}`}`);
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(32 * w);
    for (let i = 0; i < w; i++) out.push(r.body.subarray(32 * i, 32 * i + 32));
  }
  return out;
}

const recordOf = (v: CorpusVersion): string =>
  `${v.path} ${v.version} ${v.zipH1}\n${v.path} ${v.version}/go.mod ${v.modH1}\n`;

describe('fake upstream', () => {
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await startUpstream({ seed: 11, pageShortEvery: 3 });
  });
  afterAll(async () => {
    await up.close();
  });

  it('generates the corpus features tests rely on, deterministically', async () => {
    const vs = up.versions();
    expect(vs.length).toBeGreaterThanOrEqual(30);
    expect(vs.length).toBeLessThanOrEqual(50);
    expect(new Set(vs.map((v) => v.path)).size).toBe(12);
    expect(vs.some((v) => /[A-Z]/.test(v.path))).toBe(true);
    expect(vs.some((v) => /\/v2$/.test(v.path))).toBe(true);
    expect(vs.some((v) => v.version === 'v2.0.0+incompatible')).toBe(true);
    expect(vs.some((v) => v.version === 'v1.1.0-rc.1')).toBe(true);
    expect(
      vs.filter((v) => v.path === 'example.com/pseudoonly').every((v) => /-\d{14}-[0-9a-f]{12}$/.test(v.version)),
    ).toBe(true);
    expect(vs.map((v) => v.recordId)).toEqual(vs.map((_, i) => i));
    // go.mod requires only modules published earlier in the feed, with go 1.16
    const seen = new Set<string>();
    let requires = 0;
    for (const v of vs) {
      const text = v.mod.toString();
      expect(text.startsWith(`module ${v.path}\n`)).toBe(true);
      for (const m of text.matchAll(/^\t(\S+) (\S+)$/gm)) {
        requires++;
        expect(seen.has(`${m[1]}@${m[2]}`)).toBe(true);
      }
      if (!v.version.endsWith('+incompatible')) expect(text).toContain('\ngo 1.16\n');
      seen.add(`${v.path}@${v.version}`);
    }
    expect(requires).toBeGreaterThan(5);
    // timestamps: non-decreasing, nanosecond strings, with clusters
    const ts = vs.map((v) => v.timestamp);
    expect([...ts].sort()).toEqual(ts);
    expect(ts.some((t) => /\.\d{9}Z$/.test(t))).toBe(true);
    expect(new Set(ts).size).toBeLessThan(ts.length);
    const again = await startUpstream({ seed: 11 });
    const other = await startUpstream({ seed: 12 });
    try {
      expect(again.versions()).toEqual(vs);
      expect(again.sumdbKey).toBe(up.sumdbKey);
      expect((await get(`${again.sumdbUrl}/latest`)).body.toString()).toBe(
        (await get(`${up.sumdbUrl}/latest`)).body.toString(),
      );
      expect(other.versions().map((v) => v.timestamp)).not.toEqual(ts);
      expect(other.sumdbKey).not.toBe(up.sumdbKey);
    } finally {
      await again.close();
      await other.close();
    }
  });

  it('serves .info, .mod and .zip matching the stated hashes, with escaped paths', async () => {
    for (const v of up.versions()) {
      const base = `${up.proxyUrl}/${esc(v.path)}/@v/${esc(v.version)}`;
      const info = await get(`${base}.info`);
      expect(info.status).toBe(200);
      const doc = JSON.parse(info.body.toString()) as Record<string, unknown>;
      expect({ Version: doc['Version'], Time: doc['Time'] }).toEqual({ Version: v.version, Time: v.time });
      // Like proxy.golang.org, some versions carry an Origin (even record ids here).
      expect(doc['Origin'] === undefined).toBe(v.recordId % 2 !== 0);
      if (doc['Origin'] !== undefined) expect(doc['Origin']).toMatchObject({ VCS: 'git', URL: `https://${v.path}` });
      const mod = await get(`${base}.mod`);
      expect(mod.body.equals(v.mod)).toBe(true);
      expect(h1([{ name: 'go.mod', data: mod.body }])).toBe(v.modH1);
      const zip = await get(`${base}.zip`);
      expect(zip.headers.get('content-type')).toBe('application/zip');
      const files = await unzip(zip.body);
      expect(files.every((f) => f.name.startsWith(`${v.path}@${v.version}/`) && !f.name.endsWith('/'))).toBe(true);
      expect(h1(files)).toBe(v.zipH1);
      const names = files.map((f) => f.name.slice(v.path.length + v.version.length + 2));
      if (v.version.endsWith('+incompatible')) {
        expect(names).not.toContain('go.mod');
        expect(v.mod.toString()).toBe(`module ${v.path}\n`);
      } else {
        expect(files.find((f) => f.name.endsWith('/go.mod'))?.data.equals(v.mod)).toBe(true);
      }
    }
    const all = up.versions();
    const allNames = (await Promise.all(all.map(async (v) => unzip(await up.zip(v))))).flat().map((f) => f.name);
    expect(allNames.some((n) => n.endsWith('/LICENSE'))).toBe(true);
    expect(allNames.some((n) => n.split('/').length - 1 >= 5 && n.includes('internal/deep/'))).toBe(true);
    expect((await get(`${up.proxyUrl}/github.com/Azure/go-autorest/@v/list`)).status).toBe(400);
    expect((await get(`${up.proxyUrl}/example.com/nope/@v/v1.0.0.info`)).status).toBe(404);
    expect((await get(`${up.proxyUrl}/example.com/!big!co/!lib/@v/v9.9.9.zip`)).status).toBe(404);
  });

  it('lists released versions and answers @latest', async () => {
    const lib = up.versions().filter((v) => v.path === 'example.com/BigCo/Lib');
    const list = (await get(`${up.proxyUrl}/example.com/!big!co/!lib/@v/list`)).body.toString();
    expect(list.split('\n').filter(Boolean).sort()).toEqual(
      lib
        .map((v) => v.version)
        .filter((v) => !/\d{14}-[0-9a-f]{12}$/.test(v))
        .sort(),
    );
    expect(list).not.toMatch(/\d{14}/);
    const latest = JSON.parse((await get(`${up.proxyUrl}/example.com/!big!co/!lib/@latest`)).body.toString()) as {
      Version: string;
    };
    expect(latest.Version).toBe('v1.2.0');
    const pseudo = up.versions().filter((v) => v.path === 'example.com/pseudoonly');
    expect((await get(`${up.proxyUrl}/example.com/pseudoonly/@v/list`)).body.toString()).toBe('');
    const pl = (await get(`${up.proxyUrl}/example.com/pseudoonly/@latest`)).body.toString();
    expect(pl).toBe(infoJson(pseudo.at(-1) as CorpusVersion));
    expect(JSON.parse(pl)).toMatchObject({ Version: pseudo.at(-1)?.version, Time: pseudo.at(-1)?.time });
  });

  it('pages the feed with inclusive since, short pages and clusters crossing pages', async () => {
    const limit = 7;
    const seen = new Map<string, string>();
    let since = '';
    let shortPages = 0;
    let duplicates = 0;
    for (let guard = 0; guard < 100; guard++) {
      const r = await get(`${up.indexUrl}?limit=${limit}${since ? `&since=${since}` : ''}`);
      expect(r.status).toBe(200);
      const entries = r.body
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, string>);
      let fresh = 0;
      for (const e of entries) {
        const key = `${e['Path']}@${e['Version']}`;
        if (seen.has(key)) duplicates++;
        else {
          seen.set(key, e['Timestamp'] as string);
          fresh++;
        }
      }
      if (fresh === 0) break;
      if (entries.length < limit) shortPages++;
      since = (entries.at(-1) as Record<string, string>)['Timestamp'] as string;
    }
    const vs = up.versions();
    expect([...seen.keys()]).toEqual(vs.map((v) => `${v.path}@${v.version}`));
    expect([...seen.values()]).toEqual(vs.map((v) => v.timestamp));
    expect(shortPages).toBeGreaterThan(1);
    expect(duplicates).toBeGreaterThan(0);
    // since is inclusive, and an equal timestamp returns the whole cluster
    const dupTs = vs.find((v, i) => vs[i + 1]?.timestamp === v.timestamp) as CorpusVersion;
    const r = (await get(`${up.indexUrl}?since=${dupTs.timestamp}&limit=2000`)).body.toString().split('\n');
    expect(JSON.parse(r[0] as string)).toEqual({
      Path: dupTs.path,
      Version: dupTs.version,
      Timestamp: dupTs.timestamp,
    });
    expect((await get(`${up.indexUrl}?since=yesterday`)).status).toBe(400);
    expect((await get(`${up.indexUrl}?limit=0`)).status).toBe(400);
  });

  it('serves a signed head whose root the tiles and lookups reproduce', async () => {
    const head = verifyHead((await get(`${up.sumdbUrl}/latest`)).body.toString(), up.sumdbKey);
    const vs = up.versions();
    expect(head.size).toBe(vs.length);
    const leaves = await leafHashes(up, head.size);
    expect(mth(leaves).equals(head.root)).toBe(true);
    for (const v of vs) {
      expect(leaves[v.recordId]?.equals(leafHash(Buffer.from(recordOf(v))))).toBe(true);
      const look = (await get(`${up.sumdbUrl}/lookup/${esc(v.path)}@${esc(v.version)}`)).body.toString();
      expect(look).toBe(`${v.recordId}\n${recordOf(v)}\n${head.text}\n\u2014 ${look.split('\u2014 ')[1]}`);
      verifyHead(look.slice(look.indexOf('go.sum database tree')), up.sumdbKey);
    }
    const data = await get(`${up.sumdbUrl}/tile/8/data/000.p/${head.size}`);
    expect(data.body.toString()).toBe(vs.map((v) => `${recordOf(v)}\n`).join(''));
    expect((await get(`${up.sumdbUrl}/tile/8/0/000.p/3`)).body.equals(Buffer.concat(leaves.slice(0, 3)))).toBe(true);
    expect((await get(`${up.sumdbUrl}/tile/8/0/000.p/${head.size + 1}`)).status).toBe(404);
    expect((await get(`${up.sumdbUrl}/tile/8/0/000`)).status).toBe(404);
    expect((await get(`${up.sumdbUrl}/tile/8/0/0.p/3`)).status).toBe(400);
    expect((await get(`${up.sumdbUrl}/lookup/example.com/nope@v1.0.0`)).status).toBe(404);
    expect((await get(`${up.sumdbUrl}/lookup/example.com/nope@latest`)).status).toBe(400);
  });

  it('grow() publishes new versions everywhere and extends the log consistently', async () => {
    const before = verifyHead((await get(`${up.sumdbUrl}/latest`)).body.toString(), up.sumdbKey);
    const added = up.grow(300);
    expect(added).toHaveLength(300);
    expect(new Set(added.map((v) => `${v.path}@${v.version}`)).size).toBe(300);
    expect(
      added.some((v) =>
        up
          .versions()
          .slice(0, before.size)
          .some((o) => o.path === v.path),
      ),
    ).toBe(true);
    expect(
      added.some(
        (v) =>
          !up
            .versions()
            .slice(0, before.size)
            .some((o) => o.path === v.path),
      ),
    ).toBe(true);
    expect(added.map((v) => v.recordId)).toEqual(added.map((_, i) => before.size + i));
    const after = verifyHead((await get(`${up.sumdbUrl}/latest`)).body.toString(), up.sumdbKey);
    expect(after.size).toBe(before.size + 300);
    const leaves = await leafHashes(up, after.size);
    expect(mth(leaves).equals(after.root)).toBe(true);
    expect(mth(leaves.slice(0, before.size)).equals(before.root)).toBe(true);
    const l1 = await get(`${up.sumdbUrl}/tile/8/1/000.p/1`);
    expect(l1.body.equals(mth(leaves.slice(0, 256)))).toBe(true);
    const last = added.at(-1) as CorpusVersion;
    expect(last.timestamp > (up.versions()[before.size - 1] as CorpusVersion).timestamp).toBe(true);
    const feed = (await get(`${up.indexUrl}?since=${last.timestamp}`)).body.toString();
    expect(feed).toContain(`"Path":"${last.path}","Version":"${last.version}"`);
    const zip = await get(`${up.proxyUrl}/${esc(last.path)}/@v/${esc(last.version)}.zip`);
    expect(h1(await unzip(zip.body))).toBe(last.zipH1);
  });

  it('forkLog() signs a self-consistent tree that contradicts the earlier head', async () => {
    const fork = await startUpstream({ seed: 5 });
    try {
      const honest = verifyHead((await get(`${fork.sumdbUrl}/latest`)).body.toString(), fork.sumdbKey);
      fork.forkLog();
      const forked = verifyHead((await get(`${fork.sumdbUrl}/latest`)).body.toString(), fork.sumdbKey);
      expect(forked.size).toBe(honest.size);
      expect(forked.root.equals(honest.root)).toBe(false);
      expect(mth(await leafHashes(fork, forked.size)).equals(forked.root)).toBe(true);
      fork.grow(3);
      const grown = verifyHead((await get(`${fork.sumdbUrl}/latest`)).body.toString(), fork.sumdbKey);
      const leaves = await leafHashes(fork, grown.size);
      expect(mth(leaves).equals(grown.root)).toBe(true);
      expect(mth(leaves.slice(0, honest.size)).equals(honest.root)).toBe(false);
      const v = fork.versions().at(-1) as CorpusVersion;
      const look = (await get(`${fork.sumdbUrl}/lookup/${esc(v.path)}@${esc(v.version)}`)).body.toString();
      expect(look).toContain(grown.text);
    } finally {
      await fork.close();
    }
  });

  it('addFeedEntries() appends raw lines with later timestamps', async () => {
    const last = up.versions().at(-1) as CorpusVersion;
    up.addFeedEntries(['{"Path":"example.com/../../etc","Version":"v1.0.0"}', 'not json at all']);
    const lines = (await get(`${up.indexUrl}?since=${last.timestamp}`)).body.toString().split('\n').filter(Boolean);
    expect(lines.at(-1)).toBe('not json at all');
    const hostile = JSON.parse(lines.at(-2) as string) as Record<string, string>;
    expect(hostile['Path']).toBe('example.com/../../etc');
    expect((hostile['Timestamp'] as string) > last.timestamp).toBe(true);
    const [next] = up.grow(1);
    expect((next as CorpusVersion).timestamp > (hostile['Timestamp'] as string)).toBe(true);
  });
});

describe('fake upstream faults', () => {
  let up: FakeUpstream;
  let v: CorpusVersion;
  let base: string;
  beforeAll(async () => {
    up = await startUpstream({ seed: 2, modules: 4 });
    v = up.versions().find((x) => x.path === 'example.com/BigCo/Lib' && x.version === 'v1.2.0') as CorpusVersion;
    base = `${up.proxyUrl}/example.com/!big!co/!lib/@v/v1.2.0`;
  });
  afterAll(async () => {
    await up.close();
  });

  it('status and ratelimit faults apply `times` times, and requests are logged', async () => {
    up.resetRequests();
    up.inject(v.path, v.version, 'zip', { kind: 'status', status: 503, times: 2 });
    up.inject(v.path, '', 'info', { kind: 'ratelimit', retryAfterSec: 7, times: 1 });
    expect((await get(`${base}.zip`)).status).toBe(503);
    expect((await get(`${base}.mod`)).status).toBe(200);
    expect((await get(`${base}.zip`)).status).toBe(503);
    expect((await get(`${base}.zip`)).status).toBe(200);
    const rl = await get(`${base}.info`);
    expect([rl.status, rl.headers.get('retry-after')]).toEqual([429, '7']);
    expect((await get(`${base}.info`)).status).toBe(200);
    expect(up.requests.map((r) => `${r.method} ${r.status} ${r.path.slice(r.path.lastIndexOf('.'))}`)).toEqual([
      'GET 503 .zip',
      'GET 200 .mod',
      'GET 503 .zip',
      'GET 200 .zip',
      'GET 429 .info',
      'GET 200 .info',
    ]);
    up.resetRequests();
    expect(up.requests).toEqual([]);
  });

  it('reset and truncate break the transfer; slow delivers late but whole', async () => {
    up.clearFaults();
    up.inject(v.path, v.version, 'mod', { kind: 'reset', times: 1 });
    await expect(get(`${base}.mod`)).rejects.toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { code: 'UND_ERR_SOCKET' },
    });
    expect((await get(`${base}.mod`)).body.equals(v.mod)).toBe(true);
    up.inject(v.path, v.version, 'zip', { kind: 'truncate', times: 1 });
    await expect(get(`${base}.zip`)).rejects.toMatchObject({
      name: 'TypeError',
      message: 'terminated',
      cause: { code: 'UND_ERR_SOCKET' },
    });
    up.inject(v.path, v.version, 'mod', { kind: 'slow', bytesPerSec: v.mod.length * 2 });
    const t0 = Date.now();
    const slow = await get(`${base}.mod`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(slow.body.equals(v.mod)).toBe(true);
    up.clearFaults();
  });

  it('gone, notfound, html and corrupt', async () => {
    up.inject(v.path, v.version, 'info', { kind: 'gone' });
    up.inject(v.path, v.version, 'list', { kind: 'notfound' });
    up.inject(v.path, v.version, 'latest', { kind: 'html' });
    up.inject(v.path, v.version, 'zip', { kind: 'corrupt' });
    up.inject(v.path, v.version, 'mod', { kind: 'corrupt' });
    expect((await get(`${base}.info`)).status).toBe(410);
    expect((await get(`${up.proxyUrl}/example.com/!big!co/!lib/@v/list`)).status).toBe(404);
    const html = await get(`${up.proxyUrl}/example.com/!big!co/!lib/@latest`);
    expect([html.status, html.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const bad1 = await get(`${base}.zip`);
    const bad2 = await get(`${base}.zip`);
    expect(bad1.body.equals(bad2.body)).toBe(true);
    const files = await unzip(bad1.body);
    expect(files.every((f) => f.name.startsWith(`${v.path}@${v.version}/`))).toBe(true);
    expect(h1(files)).not.toBe(v.zipH1);
    const mod = await get(`${base}.mod`);
    expect(h1([{ name: 'go.mod', data: mod.body }])).not.toBe(v.modH1);
    up.clearFaults();
    expect(h1(await unzip((await get(`${base}.zip`)).body))).toBe(v.zipH1);
    expect((await get(`${base}.info`)).status).toBe(200);
    // wildcard module and 'any' endpoint
    up.inject('*', '', 'any', { kind: 'status', status: 502, times: 2 });
    expect((await get(`${up.proxyUrl}/example.com/pseudoonly/@v/list`)).status).toBe(502);
    expect((await get(`${base}.mod`)).status).toBe(502);
    expect((await get(`${base}.mod`)).status).toBe(200);
  });
});
