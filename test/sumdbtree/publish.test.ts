import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SumdbClient } from '../../src/sumdb/client.js';
import { PendingJournal, type PendingRecord } from '../../src/sumdbtree/journal.js';
import { lookupFile } from '../../src/sumdbtree/layout.js';
import { fileHeadsStore, HEAD_ADVANCE_MS, SumdbTreePublisher } from '../../src/sumdbtree/publish.js';
import { FsTreeStorage } from '../../src/storage/fs.js';
import { FakeLog, memoryStore, newKey } from '../sumdb/fakelog.js';
import { tempDir } from '../zip/fixtures.js';
import { lookupProblem } from './provable.js';

const NAME = 'sum.test.example';
const MODULE = 'example.com/m';

let dir: string;
let cleanup: () => Promise<void>;
/** What the tree looked like each time the publisher reached out (read tiles, asked visibility, saved heads). */
let observed: { checks: number; lookupsSeen: number; violations: string[] };
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  observed = { checks: 0, lookupsSeen: 0, violations: [] };
});
afterEach(async () => {
  await cleanup();
  // Invariant, whatever the test: no lookup was ever visible without the tiles that prove its record.
  expect(observed.violations).toEqual([]);
});

/**
 * Records a violation for every lookup under root that the tiles under root do not prove (as the go command checks).
 */
async function checkLookups(root: string): Promise<void> {
  const sumdb = join(root, 'sumdb', NAME);
  const names = await fs.readdir(join(sumdb, 'lookup'), { recursive: true }).catch(() => [] as string[]);
  observed.checks++;
  for (const name of names.map(String)) {
    const body = await fs.readFile(join(sumdb, 'lookup', name)).catch(() => undefined);
    if (body === undefined) continue; // a directory
    observed.lookupsSeen++;
    const problem = await lookupProblem(body, (tile) => fs.readFile(join(sumdb, tile)).catch(() => undefined));
    if (problem !== undefined) observed.violations.push(`lookup ${name}: ${problem}`);
  }
}

async function setup(n: number, compactAt?: number) {
  const key = newKey(NAME);
  const log = new FakeLog(key.signer);
  await log.addMany(n);
  const client = new SumdbClient({ verifierKey: key.vkey, transport: log.transport(), trusted: memoryStore() });
  await client.refreshHead();
  const root = join(dir, 'tree');
  const journal = new PendingJournal(join(dir, 'state', 'pending.jsonl'));
  const visible = new Set<number>();
  let failVisibility = false;
  const clock = { now: 1_000_000 };
  const events: string[] = [];
  const realHeads = fileHeadsStore(join(dir, 'state', 'heads.json'), join(dir, 'tmp'));
  const lookupPath = (id: number): string => lookupFile(root, NAME, MODULE, `v0.0.${id}`);
  const publisher = new SumdbTreePublisher(
    {
      storage: new FsTreeStorage(root, join(dir, 'tmp')),
      name: NAME,
      source: {
        trustedHead: () => client.trustedHead(),
        readTiles: async (tiles) => {
          await checkLookups(root);
          return client.readTiles(tiles);
        },
      },
      journal,
      heads: {
        load: () => realHeads.load(),
        save: async (sizes) => {
          // What a kill -9 right here would leave: no lookup may carry a head that is not saved yet.
          const lookups = (
            await Promise.all(
              ids(log.size).map((id) =>
                fs.access(lookupPath(id)).then(
                  () => id,
                  () => -1,
                ),
              ),
            )
          ).filter((id) => id >= 0);
          events.push(`save [${sizes.join(',')}] with lookups [${lookups.join(',')}]`);
          await checkLookups(root);
          await realHeads.save(sizes);
        },
      },
      isPublished: async (_m, v) => {
        await checkLookups(root);
        if (failVisibility) throw new Error('disk went away');
        return visible.has(Number(v.split('.')[2]));
      },
    },
    () => clock.now,
    compactAt,
  );
  const record = (id: number): PendingRecord => ({
    module: MODULE,
    version: `v0.0.${id}`,
    id,
    recordText: (log.records[id] as Buffer).toString(),
  });
  const lookup = (id: number): Promise<Buffer | undefined> =>
    fs.readFile(lookupFile(root, NAME, MODULE, `v0.0.${id}`)).catch(() => undefined);
  const written = async (ids: number[]): Promise<number[]> => {
    const out: number[] = [];
    for (const id of ids) if ((await lookup(id)) !== undefined) out.push(id);
    return out;
  };
  const latest = (): Promise<string | undefined> =>
    fs.readFile(join(root, 'sumdb', NAME, 'latest'), 'utf8').catch(() => undefined);
  const heads = async (): Promise<number[]> =>
    JSON.parse(await fs.readFile(join(dir, 'state', 'heads.json'), 'utf8').catch(() => '[]')) as number[];
  return {
    log,
    client,
    journal,
    visible,
    publisher,
    record,
    lookup,
    written,
    latest,
    heads,
    clock,
    events,
    setFail: (f: boolean) => (failVisibility = f),
  };
}

const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('SumdbTreePublisher', () => {
  it('update publishes versions once visible, keeps the rest; finish drops the rest, clears the journal', async () => {
    const s = await setup(10);
    for (const id of [0, 1, 2, 3, 4]) await s.journal.append(s.record(id));
    [0, 1, 2].forEach((id) => s.visible.add(id));
    expect(await s.latest()).toBeUndefined();

    const first = await s.publisher.update();
    expect(first.lookups).toBe(3);
    expect(await s.written(ids(10))).toEqual([0, 1, 2]);
    expect(await s.latest()).toBe((await s.log.note()).toString());
    const text = (await s.lookup(1))?.toString();
    expect(text).toBe(`1\n${s.record(1).recordText}\n${(await s.log.note()).toString()}`);

    // 3 was held back (not visible at the first update), 5 is new; 4 and 6 are still invisible.
    for (const id of [5, 6]) await s.journal.append(s.record(id));
    [3, 5].forEach((id) => s.visible.add(id));
    const second = await s.publisher.update();
    expect(second.lookups).toBe(5);
    expect(await s.written(ids(10))).toEqual([0, 1, 2, 3, 5]);

    const done = await s.publisher.finish();
    expect(done.lookups).toBe(5);
    expect(done.treeSize).toBe(10);
    await expect(fs.access(s.journal.file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await s.written(ids(10))).toEqual([0, 1, 2, 3, 5]);
    // A later run starts afresh.
    expect((await s.publisher.update()).lookups).toBe(0);
  });

  it('an update that fails loses nothing: the next one publishes the same records', async () => {
    const s = await setup(6);
    for (const id of [0, 1]) await s.journal.append(s.record(id));
    await s.publisher.update(); // neither visible yet: both held back
    for (const id of [2, 3]) await s.journal.append(s.record(id));
    [0, 1, 2, 3].forEach((id) => s.visible.add(id));
    s.setFail(true);
    await expect(s.publisher.update()).rejects.toThrow('disk went away');
    expect(await s.written(ids(6))).toEqual([]);
    s.setFail(false);
    expect((await s.publisher.finish()).lookups).toBe(4);
    expect(await s.written(ids(6))).toEqual([0, 1, 2, 3]);
  });

  it('update keeps one head for a while: records beyond it wait, a moving trusted head publishes none', async () => {
    const s = await setup(10);
    await s.journal.append(s.record(2));
    s.visible.add(2);
    await s.publisher.update();
    const oldNote = (await s.log.note()).toString();
    expect(await s.latest()).toBe(oldNote);
    for (let i = 0; i < 3; i++) {
      await s.log.addMany(5);
      await s.client.refreshHead();
      await s.publisher.update(); // nothing new to publish
    }
    expect(await s.heads()).toEqual([10]);
    expect(await s.latest()).toBe(oldNote);

    // A visible record beyond the run's head waits (no error) until the head may move.
    await s.journal.append(s.record(20));
    s.visible.add(20);
    await s.publisher.update();
    expect(await s.written([20])).toEqual([]);
    expect(await s.heads()).toEqual([10]);

    s.clock.now += HEAD_ADVANCE_MS;
    await s.publisher.update();
    expect(await s.written([2, 20])).toEqual([2, 20]);
    expect(await s.heads()).toEqual([10, 25]);
    expect(await s.latest()).toBe((await s.log.note()).toString());
    // The lookup written under the older head keeps it; the go client proves it consistent with latest.
    expect((await s.lookup(2))?.toString().endsWith(oldNote)).toBe(true);
  });

  it('writes the proofs and a head before the first lookup needing it; finish moves to the newest head', async () => {
    const s = await setup(10);
    await s.journal.append(s.record(2));
    s.visible.add(2);
    await s.publisher.update();
    await s.log.addMany(300);
    await s.client.refreshHead();
    await s.journal.append(s.record(200));
    s.visible.add(200);
    await s.publisher.finish();
    expect(s.events).toEqual(['save [10] with lookups []', 'save [10,310] with lookups [2]']);
    expect(await s.written([2, 200])).toEqual([2, 200]);
    expect(await s.latest()).toBe((await s.log.note()).toString());
    // The tiles that prove head 10 inside head 310 are in the tree (the partial tile of the old right edge among them).
    const tiles = await fs.readdir(join(dir, 'tree', 'sumdb', NAME, 'tile', '8', '0'), { recursive: true });
    expect(tiles).toContain('000.p/10');
  });

  it('never shows a lookup before the tiles proving its record, at any step (checked as go does)', async () => {
    const s = await setup(20);
    // Batches under a first head, then under a head past a full level-0 tile (full tiles and a level-1 tile).
    for (const id of ids(12)) await s.journal.append(s.record(id));
    ids(12).forEach((id) => s.visible.add(id));
    await s.publisher.update();
    await s.log.addMany(280);
    await s.client.refreshHead();
    for (const id of [12, 150, 255, 256, 290]) {
      await s.journal.append(s.record(id));
      s.visible.add(id);
    }
    await s.publisher.finish();
    expect(await s.written(ids(300))).toEqual([...ids(12), 12, 150, 255, 256, 290]);
    await checkLookups(join(dir, 'tree'));
    // The check ran while lookups were already visible (so it could catch a lookup written before its tiles).
    expect(observed.checks).toBeGreaterThan(5);
    expect(observed.lookupsSeen).toBeGreaterThan(17);
    expect(observed.violations).toEqual([]);
  });

  it('update writes nothing once told to stop', async () => {
    const s = await setup(4);
    await s.journal.append(s.record(1));
    s.visible.add(1);
    await expect(s.publisher.update(() => false)).rejects.toMatchObject({ code: 'GOMIRROR_ABORTED' });
    expect(await s.written([1])).toEqual([]);
    expect(await s.latest()).toBeUndefined();
    expect((await s.publisher.update()).lookups).toBe(1);
  });

  it('calls are serialized: concurrent updates never write a lookup twice', async () => {
    const s = await setup(40);
    for (const id of ids(40)) {
      await s.journal.append(s.record(id));
      s.visible.add(id);
    }
    const [a, b] = await Promise.all([s.publisher.update(), s.publisher.update()]);
    expect(a.lookups).toBe(40);
    expect(b.lookups).toBe(40); // totals: the second call found nothing new
    expect(await s.written(ids(40))).toEqual(ids(40));
  });
  it('an endless run keeps its journal small: published records compacted away, unpublished ones kept', async () => {
    const s = await setup(200, 4096);
    const size = async (): Promise<number> => (await fs.stat(s.journal.file)).size;
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      const batch = ids(10).map((i) => round * 10 + i);
      for (const id of batch) await s.journal.append(s.record(id));
      // One version of each round stays invisible until the end.
      batch.slice(1).forEach((id) => s.visible.add(id));
      await s.publisher.update();
      peak = Math.max(peak, await size());
    }
    const late = ids(20).map((round) => round * 10);
    const total = ids(200).reduce((sum, id) => sum + Buffer.byteLength(`${JSON.stringify(s.record(id))}\n`), 0);
    expect(peak).toBeLessThan(total / 3);
    expect(await s.written(ids(200))).toEqual(ids(200).filter((id) => !late.includes(id)));
    // What a new run would find after a crash here: every unpublished record.
    const kept: number[] = [];
    await new PendingJournal(s.journal.file).scan(0, (r) => {
      kept.push(r.id);
    });
    expect(kept.filter((id) => late.includes(id))).toEqual(late);
    late.forEach((id) => s.visible.add(id));
    await s.publisher.update();
    expect(await s.written(ids(200))).toEqual(ids(200));
    expect((await s.publisher.finish()).treeSize).toBe(200);
  });
});
