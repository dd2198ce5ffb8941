import { describe, expect, it } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { SumdbClient } from '../../src/sumdb/client.js';
import { parseRecord } from '../../src/sumdb/record.js';
import { newTiles, readTileData, tilePath } from '../../src/sumdb/tiles.js';
import { FakeLog, memoryStore, newKey, recordText, type TransportOptions } from './fakelog.js';

const NAME = 'sum.test.example';

async function setup(n: number, opts: TransportOptions = {}) {
  const key = newKey(NAME);
  const log = new FakeLog(key.signer);
  await log.addMany(n);
  const store = memoryStore();
  const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(opts), trusted: store });
  return { key, log, store, client };
}

/** One log of 70000 records (three tile levels), built once for the tests that need it. */
let big: Promise<{ key: ReturnType<typeof newKey>; log: FakeLog }> | undefined;
function bigLog(): Promise<{ key: ReturnType<typeof newKey>; log: FakeLog }> {
  big ??= (async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(70000);
    return { key, log };
  })();
  return big;
}

const withCode = (code: string) => expect.objectContaining({ code });

async function caught(p: Promise<unknown>): Promise<GomirrorError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GomirrorError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('SumdbClient lookup', () => {
  it('verifies a record, trusts the head and persists it', async () => {
    const { log, store, client } = await setup(300);
    expect(client.name).toBe(NAME);
    expect(await client.trustedHead()).toBeUndefined();
    const r = await client.lookup('example.com/m', 'v0.0.270');
    expect(r.id).toBe(270);
    expect(r.head.tree.size).toBe(300);
    expect(r.recordText.equals(recordText('example.com/m', 'v0.0.270'))).toBe(true);
    expect(r.zipHash).toBe(parseRecord(r.recordText).zipHash);
    expect(store.saved).toHaveLength(1);
    expect((store.saved[0] as Buffer).equals(await log.note())).toBe(true);
    expect((await client.trustedHead())?.tree.size).toBe(300);
  });

  it('case-encodes module paths and versions', async () => {
    const { log, client } = await setup(3);
    await log.addText(recordText('github.com/Azure/go-SDK', 'v1.0.0-RC1'), 'github.com/Azure/go-SDK@v1.0.0-RC1');
    const r = await client.lookup('github.com/Azure/go-SDK', 'v1.0.0-RC1');
    expect(r.id).toBe(3);
    expect(log.requests).toContain('lookup/github.com/!azure/go-!s!d!k@v1.0.0-!r!c1');
  });

  it('rejects unsafe module paths and versions before any request', async () => {
    const { log, client } = await setup(3);
    await expect(client.lookup('../etc', 'v1.0.0')).rejects.toThrow(withCode(ErrorCodes.INVALID_PATH));
    await expect(client.lookup('example.com/m', 'v1 0')).rejects.toThrow(withCode(ErrorCodes.INVALID_VERSION));
    expect(log.requests).toEqual([]);
  });

  it('rejects a record for a different module, naming the module asked for', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(10);
    const body = Buffer.concat([Buffer.from('3\n'), log.records[3] as Buffer, Buffer.from('\n'), await log.note()]);
    const t = log.transport({ overrides: new Map([['lookup/example.com/m@v0.0.5', body]]) });
    const client = new SumdbClient({ verifierKey: key.vkey, transport: t, trusted: memoryStore() });
    const err = await caught(client.lookup('example.com/m', 'v0.0.5'));
    expect(err.code).toBe(ErrorCodes.BAD_PROOF);
    expect(err.message).toContain('example.com/m@v0.0.5');
  });

  it('rejects a record that is not the one in the tree', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(10);
    const forged = Buffer.concat([
      Buffer.from('5\n'),
      recordText('example.com/m', 'v0.0.5', 'evil'),
      Buffer.from('\n'),
      await log.note(),
    ]);
    const t = log.transport({ overrides: new Map([['lookup/example.com/m@v0.0.5', forged]]) });
    const client = new SumdbClient({ verifierKey: key.vkey, transport: t, trusted: memoryStore() });
    const err = await caught(client.lookup('example.com/m', 'v0.0.5'));
    expect(err.code).toBe(ErrorCodes.BAD_PROOF);
    expect(err.module).toBe('example.com/m');
    expect(err.version).toBe('v0.0.5');
  });

  it('rejects a record id outside the signed tree', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(10);
    const body = Buffer.concat([
      Buffer.from('10\n'),
      recordText('example.com/m', 'v0.0.5'),
      Buffer.from('\n'),
      await log.note(),
    ]);
    const t = log.transport({ overrides: new Map([['lookup/example.com/m@v0.0.5', body]]) });
    const client = new SumdbClient({ verifierKey: key.vkey, transport: t, trusted: memoryStore() });
    await expect(client.lookup('example.com/m', 'v0.0.5')).rejects.toThrow(withCode(ErrorCodes.BAD_PROOF));
  });

  it('rejects malformed and oversized lookups, and notes not signed by the key', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(10);
    const other = new FakeLog(newKey(NAME).signer);
    await other.addMany(10);
    const overrides = new Map<string, Buffer | null>([
      ['lookup/example.com/m@v0.0.1', Buffer.from('garbage')],
      ['lookup/example.com/m@v0.0.2', Buffer.alloc(64 * 1024, 0x61)],
      [
        'lookup/example.com/m@v0.0.3',
        Buffer.concat([Buffer.from('3\n'), log.records[3] as Buffer, Buffer.from('\n'), await other.note()]),
      ],
      ['lookup/example.com/m@v0.0.4', null],
    ]);
    const client = new SumdbClient({
      verifierKey: key.vkey,
      transport: log.transport({ overrides }),
      trusted: memoryStore(),
    });
    await expect(client.lookup('example.com/m', 'v0.0.1')).rejects.toThrow(withCode(ErrorCodes.MALFORMED));
    await expect(client.lookup('example.com/m', 'v0.0.2')).rejects.toThrow(withCode(ErrorCodes.MALFORMED));
    await expect(client.lookup('example.com/m', 'v0.0.3')).rejects.toThrow(withCode(ErrorCodes.BAD_SIGNATURE));
    const nf = await caught(client.lookup('example.com/m', 'v0.0.4'));
    expect(nf.code).toBe(ErrorCodes.NOT_FOUND);
    expect(nf.module).toBe('example.com/m');
  });

  it('shares concurrent lookups and tile fetches', async () => {
    const { log, client } = await setup(600);
    const results = await Promise.all([
      client.lookup('example.com/m', 'v0.0.7'),
      client.lookup('example.com/m', 'v0.0.7'),
      client.lookup('example.com/m', 'v0.0.300'),
      client.lookup('example.com/m', 'v0.0.599'),
    ]);
    expect(results.map((r) => r.id)).toEqual([7, 7, 300, 599]);
    expect(log.requests.filter((p) => p === 'lookup/example.com/m@v0.0.7')).toHaveLength(1);
    const tiles = log.requests.filter((p) => p.startsWith('tile/'));
    expect(new Set(tiles).size).toBe(tiles.length);
  });
});

describe('SumdbClient heads', () => {
  it('moves forward along a consistent timeline', async () => {
    const { key, log } = await bigLog();
    const opts: TransportOptions = { size: 300 };
    const store = memoryStore();
    const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(opts), trusted: store });
    expect((await client.refreshHead()).tree.size).toBe(300);
    opts.size = 70000;
    const head = await client.refreshHead();
    expect(head.tree.size).toBe(70000);
    expect(store.saved).toHaveLength(2);
    const r = await client.lookup('example.com/m', 'v0.0.66000');
    expect(r.head.tree.size).toBe(70000);
  });

  it('shares concurrent refreshes', async () => {
    const { log, client } = await setup(20);
    const [a, b] = await Promise.all([client.refreshHead(), client.refreshHead()]);
    expect(a).toBe(b);
    expect(log.requests.filter((p) => p === 'latest')).toHaveLength(1);
  });

  it('detects a fork and keeps the trusted head', async () => {
    const key = newKey(NAME);
    const honest = new FakeLog(key.signer);
    const evil = new FakeLog(key.signer);
    await honest.addMany(300);
    await evil.addMany(100);
    await evil.addMany(300, 'example.com/m', 'fork');
    const store = memoryStore(await honest.note());
    const client = new SumdbClient({ verifierKey: key.vkey, transport: evil.transport(), trusted: store });
    const err = await caught(client.refreshHead());
    expect(err.code).toBe(ErrorCodes.LOG_FORK);
    expect(err.isSecurity).toBe(true);
    expect(err.detail).toMatchObject({ trustedSize: 300, receivedSize: 400 });
    expect(String(err.detail?.['trustedNote'])).toContain('go.sum database tree\n300\n');
    expect(store.saved).toHaveLength(0);
    expect((await client.trustedHead())?.tree.size).toBe(300);
    // A smaller head from the forked log: the server cannot serve tiles matching
    // the trusted tree, so the check fails as a security error naming both heads.
    const smaller = await caught(client.acceptHead(await evil.note(200)));
    expect(smaller.code).toBe(ErrorCodes.BAD_PROOF);
    expect(smaller.detail).toMatchObject({ trustedSize: 300, receivedSize: 200 });
    // The honest server, asked the same, proves the older head consistent.
    const viaHonest = new SumdbClient({ verifierKey: key.vkey, transport: honest.transport(), trusted: store });
    expect((await viaHonest.acceptHead(await honest.note(200))).tree.size).toBe(200);
    await expect(viaHonest.acceptHead(await evil.note(200))).rejects.toThrow(withCode(ErrorCodes.LOG_FORK));
    // Same size, different hash.
    await expect(client.acceptHead(await evil.note(300))).rejects.toThrow(withCode(ErrorCodes.LOG_FORK));
  });

  it('rejects a rollback of /latest but accepts an older consistent head from elsewhere', async () => {
    const key = newKey(NAME);
    const l2 = new FakeLog(key.signer);
    await l2.addMany(500);
    const s2 = memoryStore(await l2.note());
    const c2 = new SumdbClient({ verifierKey: key.vkey, transport: l2.transport({ size: 200 }), trusted: s2 });
    const err = await caught(c2.refreshHead());
    expect(err.code).toBe(ErrorCodes.LOG_ROLLBACK);
    expect(err.detail).toMatchObject({ trustedSize: 500, receivedSize: 200 });
    const older = await c2.acceptHead(await l2.note(200));
    expect(older.tree.size).toBe(200);
    expect(s2.saved).toHaveLength(0);
    expect((await c2.trustedHead())?.tree.size).toBe(500);
  });

  it('rejects latest notes that are tampered, oversized or signed by another key', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(5);
    const good = (await log.note()).toString();
    const cases: Buffer[] = [
      Buffer.from(good.replace('\n5\n', '\n6\n')),
      Buffer.concat([Buffer.alloc(17 * 1024, 0x61), Buffer.from(good)]),
      await new FakeLog(newKey(NAME).signer).note(0),
      await new FakeLog(newKey('other.name').signer).note(0),
    ];
    for (const body of cases) {
      const client = new SumdbClient({
        verifierKey: key.vkey,
        transport: log.transport({ overrides: new Map([['latest', body]]) }),
        trusted: memoryStore(),
      });
      await expect(client.refreshHead()).rejects.toThrow(withCode(ErrorCodes.BAD_SIGNATURE));
    }
  });

  it('refuses a tampered trusted head in the store', async () => {
    const { log, key } = await setup(5);
    const bad = Buffer.from((await log.note()).toString().replace('\n5\n', '\n4\n'));
    const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(), trusted: memoryStore(bad) });
    await expect(client.trustedHead()).rejects.toThrow(withCode(ErrorCodes.BAD_SIGNATURE));
  });
});

describe('SumdbClient tiles', () => {
  it('rejects tampered tiles and tiles of the wrong length', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(300);
    const real = await readTileData({ h: 8, l: 0, n: 0, w: 256 }, log.reader);
    const flipped = Buffer.from(real);
    flipped[5000] = (flipped[5000] as number) ^ 1;
    for (const body of [flipped, real.subarray(0, 8160), Buffer.concat([real, Buffer.alloc(32)])]) {
      const t = log.transport({ overrides: new Map([['tile/8/0/000', body]]) });
      const client = new SumdbClient({ verifierKey: key.vkey, transport: t, trusted: memoryStore() });
      const err = await caught(client.lookup('example.com/m', 'v0.0.3'));
      expect(err.code).toBe(ErrorCodes.BAD_PROOF);
      expect(err.module).toBe('example.com/m');
    }
  });

  it('falls back to full tiles when partial tiles are gone', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(300);
    const store = memoryStore(await log.note());
    await log.addMany(300);
    const client = new SumdbClient({
      verifierKey: key.vkey,
      transport: log.transport({ noPartialTiles: true }),
      trusted: store,
    });
    const recs = await client.records(250, 50);
    expect(recs.map((r) => r.version)).toEqual(Array.from({ length: 50 }, (_, i) => `v0.0.${250 + i}`));
    expect(log.requests).toContain('tile/8/0/001.p/44');
    expect(log.requests).toContain('tile/8/0/001');
    expect(log.requests).toContain('tile/8/data/001');
  });

  it('uses and fills the tile cache', async () => {
    const { log, key } = await setup(300);
    const cache = new Map<string, Buffer>();
    const tileCache = {
      get: async (p: string) => cache.get(p),
      put: async (p: string, d: Buffer) => void cache.set(p, d),
    };
    const store = memoryStore();
    const c1 = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(), trusted: store, tileCache });
    await c1.lookup('example.com/m', 'v0.0.1');
    expect([...cache.keys()].sort()).toEqual(['tile/8/0/000', 'tile/8/0/001.p/44', 'tile/8/1/000.p/1']);
    const overrides = new Map<string, Buffer | null>([...cache.keys()].map((k) => [k, null]));
    const c2 = new SumdbClient({
      verifierKey: key.vkey,
      transport: log.transport({ overrides }),
      trusted: store,
      tileCache,
    });
    expect((await c2.lookup('example.com/m', 'v0.0.299')).id).toBe(299);
  });

  it('recovers from a corrupted tile cache by refetching, and repairs the cache', async () => {
    const { log, key } = await setup(300);
    const real = await readTileData({ h: 8, l: 0, n: 0, w: 256 }, log.reader);
    const bad = Buffer.from(real);
    bad[100] = (bad[100] as number) ^ 1;
    const cache = new Map<string, Buffer>([['tile/8/0/000', bad]]);
    const tileCache = {
      get: async (p: string) => cache.get(p),
      put: async (p: string, d: Buffer) => void cache.set(p, d),
    };
    const client = new SumdbClient({
      verifierKey: key.vkey,
      transport: log.transport(),
      trusted: memoryStore(),
      tileCache,
    });
    expect((await client.lookup('example.com/m', 'v0.0.3')).id).toBe(3);
    expect(cache.get('tile/8/0/000')?.equals(real)).toBe(true);
    expect(log.requests).toContain('tile/8/0/000');
  });

  it('reads bulk records from data tiles in both framings, proving each', async () => {
    for (const idFraming of [false, true]) {
      const { client } = await setup(600, { idFraming });
      await client.refreshHead();
      const recs = await client.records(200, 390);
      expect(recs).toHaveLength(390);
      recs.forEach((r, i) => {
        expect(r.id).toBe(200 + i);
        expect(r.module).toBe('example.com/m');
        expect(r.version).toBe(`v0.0.${200 + i}`);
        expect(r.zipHash).toMatch(/^h1:/);
      });
      await expect(client.records(590, 11)).rejects.toThrow(withCode(ErrorCodes.NOT_FOUND));
      expect(await client.records(600, 0)).toEqual([]);
    }
  });

  it('rejects tampered data tiles', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(300);
    const recs = log.records
      .slice(0, 256)
      .map((r, i) => (i === 17 ? recordText('example.com/m', 'v0.0.17', 'evil') : r));
    const tile = Buffer.concat(recs.flatMap((r) => [r, Buffer.from('\n')]));
    const short = Buffer.concat(log.records.slice(0, 255).flatMap((r) => [r, Buffer.from('\n')]));
    for (const body of [tile, short]) {
      const t = log.transport({ overrides: new Map([['tile/8/data/000', body]]) });
      const client = new SumdbClient({ verifierKey: key.vkey, transport: t, trusted: memoryStore() });
      await expect(client.records(0, 20)).rejects.toThrow(withCode(ErrorCodes.BAD_PROOF));
    }
  });

  it('reads authenticated tiles of the trusted head for publishing', async () => {
    const { key, log } = await bigLog();
    const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(), trusted: memoryStore() });
    await client.refreshHead();
    const tiles = newTiles(8, 0, 70000);
    expect(tiles.map(tilePath)).toContain('tile/8/2/000.p/1');
    const got = await client.readTiles(tiles);
    for (const [i, t] of tiles.entries()) {
      expect((got[i] as Buffer).equals(await readTileData(t, log.reader)), tilePath(t)).toBe(true);
    }
    const [data] = await client.readTiles([{ h: 8, l: -1, n: 273, w: 112 }]);
    expect(data?.toString()).toContain('example.com/m v0.0.69999 h1:');
    await expect(client.readTiles([{ h: 8, l: 0, n: 273, w: 113 }])).rejects.toThrow(withCode(ErrorCodes.NOT_FOUND));
    await expect(client.readTiles([{ h: 8, l: 3, n: 0, w: 1 }])).rejects.toThrow(withCode(ErrorCodes.NOT_FOUND));
  });
});
