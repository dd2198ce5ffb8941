import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { BulkRecordSource, bulkWindow, MAX_BULK_RECORDS } from '../../src/sumdb/bulk.js';
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

describe('bulkWindow', () => {
  it('covers the records added since the previous run, at most the newest max', () => {
    expect(bulkWindow(undefined, 1998)).toEqual({ start: 0, end: 1998 });
    expect(bulkWindow(1500, 1998)).toEqual({ start: 1500, end: 1998 });
    expect(bulkWindow(1998, 1998)).toEqual({ start: 1998, end: 1998 });
    expect(bulkWindow(0, 10_000_000)).toEqual({ start: 10_000_000 - MAX_BULK_RECORDS, end: 10_000_000 });
    expect(bulkWindow(100, 1000, 300)).toEqual({ start: 700, end: 1000 });
    // a previous size beyond the current one (cannot happen after refreshHead) yields an empty window
    expect(bulkWindow(2000, 1000)).toEqual({ start: 1000, end: 1000 });
  });
});

describe('BulkRecordSource', () => {
  it('answers from proven data tiles with no lookup, exactly as a lookup would', async () => {
    const { log, client } = await setup(600);
    const bulk = new BulkRecordSource(client, { start: 0, end: 600 });
    const got = await Promise.all([5, 300, 599].map((i) => bulk.lookup('example.com/m', `v0.0.${i}`)));
    expect(lookups(log)).toEqual([]);
    expect(log.requests.filter((r) => r.startsWith('tile/8/data/'))).toHaveLength(3);
    const direct = await client.lookup('example.com/m', 'v0.0.300');
    expect(got[1]).toMatchObject({ id: 300, modHash: direct.modHash, zipHash: direct.zipHash });
    expect(got[1]?.recordText.equals(direct.recordText)).toBe(true);
    expect(got.map((g) => g.head.tree.size)).toEqual([600, 600, 600]);
  });

  it('looks up versions outside the window, one request each', async () => {
    const { log, client } = await setup(600);
    const bulk = new BulkRecordSource(client, { start: 512, end: 600 });
    expect((await bulk.lookup('example.com/m', 'v0.0.550')).id).toBe(550);
    expect(lookups(log)).toEqual([]);
    expect((await bulk.lookup('example.com/m', 'v0.0.10')).id).toBe(10);
    expect(lookups(log)).toEqual(['lookup/example.com/m@v0.0.10']);
    expect((await rejection(bulk.lookup('example.com/m', 'v9.9.9'))).code).toBe(ErrorCodes.NOT_FOUND);
  });

  it('falls back to lookups, once told why, when the data tiles cannot be read', async () => {
    const { log, client } = await setup(300, { overrides: new Map([['tile/8/data/000', null]]) });
    const why: unknown[] = [];
    const bulk = new BulkRecordSource(client, { start: 0, end: 300 }, (err) => why.push(err));
    expect((await bulk.lookup('example.com/m', 'v0.0.7')).id).toBe(7);
    expect((await bulk.lookup('example.com/m', 'v0.0.8')).id).toBe(8);
    expect(lookups(log)).toHaveLength(2);
    expect(why).toHaveLength(1);
  });

  it('stops with BAD_PROOF on a tampered data tile instead of falling back', async () => {
    const key = newKey(NAME);
    const log = new FakeLog(key.signer);
    await log.addMany(300);
    const evil = log.records.slice(0, 256).map((r, i) => (i === 17 ? recordText('example.com/m', 'v0.0.17', 'evil') : r));
    const body = Buffer.concat(evil.flatMap((r) => [r, Buffer.from('\n')]));
    const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport({ overrides: new Map([['tile/8/data/000', body]]) }), trusted: memoryStore() });
    await client.refreshHead();
    const bulk = new BulkRecordSource(client, { start: 0, end: 300 }, () => {
      throw new Error('must not fall back');
    });
    expect((await rejection(bulk.lookup('example.com/m', 'v0.0.17'))).code).toBe(ErrorCodes.BAD_PROOF);
    expect((await rejection(bulk.lookup('example.com/m', 'v0.0.200'))).code).toBe(ErrorCodes.BAD_PROOF);
    expect(lookups(log)).toEqual([]);
  });

  it('refuses a log that records one module version twice', async () => {
    const { log, client } = await setup(10);
    await log.addText(recordText('example.com/m', 'v0.0.3', 'again'), 'example.com/m@v0.0.3#2');
    await client.refreshHead();
    const bulk = new BulkRecordSource(client, { start: 0, end: 11 });
    const err = await rejection(bulk.lookup('example.com/m', 'v0.0.5'));
    expect(err.code).toBe(ErrorCodes.BAD_PROOF);
    expect(err.message).toContain('two records for example.com/m@v0.0.3');
    expect(parseRecord(recordText('example.com/m', 'v0.0.3', 'again')).version).toBe('v0.0.3');
  });
});
