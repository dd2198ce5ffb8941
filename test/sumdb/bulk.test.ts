import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { BulkRecordSource } from '../../src/sumdb/bulk.js';
import { SumdbClient } from '../../src/sumdb/client.js';
import { parseRecord } from '../../src/sumdb/record.js';
import { rejection } from '../helpers/errors.js';
import { FakeLog, memoryStore, newKey, recordText, type TransportOptions } from './fakelog.js';

const NAME = 'sum.test.example';

async function setup(n: number, opts: TransportOptions = {}) {
  const key = newKey(NAME);
  const log = new FakeLog(key.signer);
  await log.addMany(n);
  const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(opts), trusted: memoryStore() });
  await client.refreshHead();
  return { key, log, client };
}

const lookups = (log: FakeLog): string[] => log.requests.filter((r) => r.startsWith('lookup/'));

const dataTiles = (log: FakeLog): string[] => log.requests.filter((r) => r.startsWith('tile/8/data/'));

/** Looks versions up the way a run does: `lanes` at a time, in the given order. */
async function lookupAll(bulk: BulkRecordSource, ids: number[], lanes = 16): Promise<number[]> {
  const got = new Array<number>(ids.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < ids.length; i = next++) got[i] = (await bulk.lookup('example.com/m', `v0.0.${ids[i]}`)).id;
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return got;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('BulkRecordSource', () => {
  // The log: 40,036 records. A first run used to read the newest 32 Ki records whatever it needed.
  it('a single version on a large log costs one lookup and a few hash tiles, no data tile', async () => {
    const { log, client } = await setup(40_036);
    log.requests.length = 0;
    const bulk = new BulkRecordSource(client);
    const got = await bulk.lookup('example.com/m', 'v0.0.12345');
    expect(got.id).toBe(12345);
    expect(lookups(log)).toEqual(['lookup/example.com/m@v0.0.12345']);
    expect(dataTiles(log)).toEqual([]);
    expect(log.requests.length).toBeLessThanOrEqual(5);
  });

  it('scattered versions are looked up one by one, with no data tile', async () => {
    const { log, client } = await setup(40_036);
    log.requests.length = 0;
    const ids = [7, 3000, 9001, 20_000, 33_333, 40_035];
    expect(await lookupAll(new BulkRecordSource(client), ids)).toEqual(ids);
    expect(lookups(log)).toHaveLength(ids.length);
    expect(dataTiles(log)).toEqual([]);
  });

  it('a stretch of the log (a feed run) comes from its own data tiles, with few lookups', async () => {
    const { log, client } = await setup(40_036);
    log.requests.length = 0;
    const ids = range(39_500, 40_036); // the newest 536 records: tiles 154 (from 39424) to 156
    const got = await lookupAll(new BulkRecordSource(client), ids);
    expect(got).toEqual(ids);
    expect(new Set(dataTiles(log).map((p) => p.replace(/\.p\/\d+$/, '')))).toEqual(
      new Set(['tile/8/data/154', 'tile/8/data/155', 'tile/8/data/156']),
    );
    expect(dataTiles(log).length).toBeLessThanOrEqual(4);
    expect(lookups(log).length).toBeLessThanOrEqual(40);
  });

  it('a backfill older than any window reads the data tiles of its stretch, not one lookup per version', async () => {
    const { log, client } = await setup(40_036);
    log.requests.length = 0;
    // roughly log order: neighbours swapped, as the feed does
    const ids = range(1000, 2000).map((id, i, a) =>
      i % 7 === 3 ? (a[i + 1] as number) : i % 7 === 4 ? (a[i - 1] as number) : id,
    );
    const got = await lookupAll(new BulkRecordSource(client), ids);
    expect(got).toEqual(ids);
    const tiles = dataTiles(log).map((p) => Number(/data\/(?:x\d+\/)*(\d+)/.exec(p)?.[1]));
    expect(Math.min(...tiles)).toBeGreaterThanOrEqual(3); // 768..1023 holds 1000
    expect(Math.max(...tiles)).toBeLessThanOrEqual(8); // 1792..2047 holds 1999, plus at most one read ahead
    expect(tiles.length).toBeLessThanOrEqual(7);
    expect(lookups(log).length).toBeLessThanOrEqual(40);
  });

  it('holds a bounded number of tiles and still answers every version right', async () => {
    const { log, client } = await setup(3000);
    log.requests.length = 0;
    const bulk = new BulkRecordSource(client, undefined, 2);
    const ids = range(0, 3000);
    expect(await lookupAll(bulk, ids, 4)).toEqual(ids);
    expect(dataTiles(log)).toHaveLength(12);
    log.requests.length = 0;
    // tile 0 was dropped: the first version is looked up again, and its tile read again for the others
    expect(await lookupAll(bulk, [5, 6, 7], 1)).toEqual([5, 6, 7]);
    expect(lookups(log)).toEqual(['lookup/example.com/m@v0.0.5']);
    expect(dataTiles(log)).toEqual(['tile/8/data/000']);
  });

  it('answers from proven data tiles exactly as a lookup would', async () => {
    const { client } = await setup(600);
    const bulk = new BulkRecordSource(client);
    await lookupAll(bulk, range(290, 300), 1);
    const got = await bulk.lookup('example.com/m', 'v0.0.300');
    const direct = await client.lookup('example.com/m', 'v0.0.300');
    expect(got).toMatchObject({ id: 300, modHash: direct.modHash, zipHash: direct.zipHash });
    expect(got.recordText.equals(direct.recordText)).toBe(true);
    expect(got.head.tree.size).toBe(600);
    expect((await rejection(bulk.lookup('example.com/m', 'v9.9.9'))).code).toBe(ErrorCodes.NOT_FOUND);
  });

  it('falls back to lookups, once told why, when the data tiles cannot be read', async () => {
    const { log, client } = await setup(300, { overrides: new Map([['tile/8/data/000', null]]) });
    const why: unknown[] = [];
    const bulk = new BulkRecordSource(client, (err) => why.push(err));
    expect(await lookupAll(bulk, range(0, 40), 1)).toEqual(range(0, 40));
    expect(lookups(log)).toHaveLength(40);
    expect(dataTiles(log)).toEqual(['tile/8/data/000']);
    expect(why).toHaveLength(1);
  });

  it('stops with BAD_PROOF on a tampered data tile instead of falling back', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(300);
    const evil = log.records
      .slice(0, 256)
      .map((r, i) => (i === 17 ? recordText('example.com/m', 'v0.0.17', 'evil') : r));
    const body = Buffer.concat(evil.flatMap((r) => [r, Buffer.from('\n')]));
    const client = new SumdbClient({
      verifierKey: key.vkey,
      transport: log.transport({ overrides: new Map([['tile/8/data/000', body]]) }),
      trusted: memoryStore(),
    });
    await client.refreshHead();
    const bulk = new BulkRecordSource(client, () => {
      throw new Error('must not fall back');
    });
    await lookupAll(bulk, [1, 2], 1); // two neighbours: the tile is read
    expect((await rejection(bulk.lookup('example.com/m', 'v0.0.17'))).code).toBe(ErrorCodes.BAD_PROOF);
    expect((await rejection(bulk.lookup('example.com/m', 'v0.0.200'))).code).toBe(ErrorCodes.BAD_PROOF);
    expect(lookups(log)).toHaveLength(2);
  });

  it('refuses a log that records one module version twice', async () => {
    const { log, client } = await setup(10);
    await log.addText(recordText('example.com/m', 'v0.0.3', 'again'), 'example.com/m@v0.0.3#2');
    await client.refreshHead();
    const bulk = new BulkRecordSource(client);
    await lookupAll(bulk, [1, 2], 1);
    const err = await rejection(bulk.lookup('example.com/m', 'v0.0.5'));
    expect(err.code).toBe(ErrorCodes.BAD_PROOF);
    expect(err.message).toContain('two records for example.com/m@v0.0.3');
    expect(parseRecord(recordText('example.com/m', 'v0.0.3', 'again')).version).toBe('v0.0.3');
  });
});
