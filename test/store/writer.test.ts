import { promises as fs, watch } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCodes, GomirrorError } from '../../src/errors.js';
import { TreeWriter } from '../../src/store/writer.js';
import type { InfoDoc } from '../../src/version/info.js';
import { bytesPayload, filePayload, type Payload } from '../../src/version/payload.js';
import { verifyVersion, type Verified } from '../../src/version/verified.js';
import { tempDir } from '../zip/fixtures.js';
import { makeVersionFiles, sourceFor } from '../verify/fixtures.js';
import { rejection } from '../helpers/errors.js';
import { waitFor } from '../helpers/wait.js';
import { FsTreeStorage } from '../../src/storage/fs.js';

const MOD = 'example.com/Upper/m';
const ESC = 'example.com/!upper/m';
const TIME = '2024-01-02T03:04:05Z';

let dir: string;
let cleanup: () => Promise<void>;
let root: string;
let tmp: string;
let writer: TreeWriter;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  root = join(dir, 'tree');
  tmp = join(dir, 'tmp');
  await fs.mkdir(tmp, { recursive: true });
  writer = new TreeWriter(new FsTreeStorage(root, tmp));
});
afterEach(async () => cleanup());

/** A real certificate for module@version (payloads as files in the writer's tmp dir, or in memory). */
async function verified(
  module: string,
  version: string,
  withZip = true,
  kind: 'file' | 'bytes' = 'file',
): Promise<Verified> {
  const f = await makeVersionFiles(tmp, module, version);
  const payload = async (p: string): Promise<Payload> =>
    kind === 'file' ? filePayload(p) : bytesPayload(await fs.readFile(p));
  return verifyVersion(sourceFor(f), {
    module,
    version,
    mod: await payload(f.modPath),
    ...(withZip && { zip: await payload(f.zipPath) }),
  });
}

/** The temp file behind a file payload. */
function pathOf(p: Payload | undefined): string {
  if (p?.kind !== 'file') throw new Error('not a file payload');
  return p.path;
}

async function publish(module: string, version: string, withZip = true): Promise<void> {
  await writer.publishVersion(await verified(module, version, withZip), infoOf(version));
}

/** An .info as the upstream serves it (checkInfo's result shape), with optional extra members. */
function infoOf(version: string, extra: Record<string, unknown> = {}): InfoDoc {
  const Time = timeOf(version);
  return { Version: version, Time, bytes: Buffer.from(JSON.stringify({ Version: version, Time, ...extra })) };
}

/** TIME, or a pseudo-version's own timestamp (checkInfo requires them to agree). */
function timeOf(version: string): string {
  const m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-[0-9a-f]{12}$/.exec(version);
  return m === null ? TIME : `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

const read = (rel: string): Promise<string> => fs.readFile(join(root, rel), 'utf8');
const exists = (rel: string): Promise<boolean> =>
  fs.access(join(root, rel)).then(
    () => true,
    () => false,
  );

describe('TreeWriter.publishVersion', () => {
  it('refuses anything that is not a Verified certificate', async () => {
    const real = await verified(MOD, 'v1.0.0');
    const forgeries: unknown[] = [
      { module: real.module, version: real.version, mod: real.mod, zip: real.zip, record: { ...real.record } },
      Object.freeze({ ...real }),
      Object.freeze(Object.assign(Object.create(Object.getPrototypeOf(real) as object) as object, real)),
    ];
    for (const f of forgeries) {
      const err = await rejection(writer.publishVersion(f as Verified, infoOf('v1.0.0')));
      expect(err.code).toBe(ErrorCodes.BAD_PROOF);
    }
    expect(await exists(ESC)).toBe(false);
    // the temp files were not consumed by the refused attempts
    await fs.access(pathOf(real.mod));
  });

  it('moves zip and mod into the escaped layout and writes the given .info', async () => {
    const v = await verified(MOD, 'v1.0.0');
    const mod = await fs.readFile(pathOf(v.mod), 'utf8');
    const zip = await fs.readFile(pathOf(v.zip));
    expect(await writer.isPublished(MOD, 'v1.0.0', true)).toBe(false);
    await writer.publishVersion(v, infoOf('v1.0.0'));
    expect(await read(`${ESC}/@v/v1.0.0.mod`)).toBe(mod);
    expect((await fs.readFile(join(root, `${ESC}/@v/v1.0.0.zip`))).equals(zip)).toBe(true);
    expect(await read(`${ESC}/@v/v1.0.0.info`)).toBe(`{"Version":"v1.0.0","Time":"${TIME}"}`);
    // temp files consumed, nothing left in tmp but other fixtures' files
    await expect(fs.access(pathOf(v.mod))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.access(pathOf(v.zip))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fs.readdir(tmp)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(await writer.isPublished(MOD, 'v1.0.0', true)).toBe(true);
    expect(await writer.isPublished(MOD, 'v1.0.0', false)).toBe(true);
  });

  it('writes in-memory payloads through durable temp files, leaving none behind', async () => {
    const v = await verified(MOD, 'v1.1.0', true, 'bytes');
    const before = await fs.readdir(tmp);
    await writer.publishVersion(v, infoOf('v1.1.0'));
    expect(v.mod.kind === 'bytes' && (await read(`${ESC}/@v/v1.1.0.mod`)) === v.mod.data.toString()).toBe(true);
    expect(v.zip?.kind === 'bytes' && (await fs.readFile(join(root, `${ESC}/@v/v1.1.0.zip`))).equals(v.zip.data)).toBe(
      true,
    );
    expect(await fs.readdir(tmp)).toEqual(before);
    expect(await writer.isPublished(MOD, 'v1.1.0', true)).toBe(true);
  });

  it('escapes upper-case letters in versions too', async () => {
    await publish(MOD, 'v1.0.0-RC.1');
    expect(await exists(`${ESC}/@v/v1.0.0-!r!c.1.info`)).toBe(true);
    expect(await writer.completeVersions(MOD)).toEqual(['v1.0.0-RC.1']);
  });

  it('publishes a .mod-only version without a zip', async () => {
    await publish(MOD, 'v1.1.0', false);
    expect(await exists(`${ESC}/@v/v1.1.0.mod`)).toBe(true);
    expect(await exists(`${ESC}/@v/v1.1.0.info`)).toBe(true);
    expect(await exists(`${ESC}/@v/v1.1.0.zip`)).toBe(false);
    expect(await writer.isPublished(MOD, 'v1.1.0', false)).toBe(true);
    expect(await writer.isPublished(MOD, 'v1.1.0', true)).toBe(false);
    expect(await writer.completeVersions(MOD)).toEqual([]);
  });

  it('writes the .info bytes exactly as given (Origin and all), and @latest from them', async () => {
    const P = 'v0.0.0-20240102030405-abcdefabcdef';
    const bytes = Buffer.from(
      `{"Version":"${P}","Time":"${TIME}","Origin":{"VCS":"git","URL":"https://example.com/m",` +
        `"Hash":"abcdefabcdef","Ref":"refs/heads/main"}}\n`,
    );
    await writer.publishVersion(await verified(MOD, P), { Version: P, Time: TIME, bytes });
    await writer.refreshModuleIndex(MOD);
    expect((await fs.readFile(join(root, `${ESC}/@v/${P}.info`))).equals(bytes)).toBe(true);
    expect((await fs.readFile(join(root, `${ESC}/@latest`))).equals(bytes)).toBe(true);
  });

  it('checks the shape of the .info bytes themselves, whatever the fields beside them say', async () => {
    const v = await verified(MOD, 'v1.0.0');
    for (const body of [
      '{"Version":"v1.0.1","Time":"2024-01-02T03:04:05Z"}',
      '{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z","Origin":"git"}',
      '{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}{}',
    ]) {
      const err = await rejection(
        writer.publishVersion(v, { Version: 'v1.0.0', Time: TIME, bytes: Buffer.from(body) }),
      );
      expect(err.code).toBe(ErrorCodes.MALFORMED);
      expect(err.op).toBe('store.publish');
    }
    expect(await exists(ESC)).toBe(false);
  });

  it('refuses an .info naming another version', async () => {
    const v = await verified(MOD, 'v1.0.0');
    const err = await rejection(writer.publishVersion(v, infoOf('v1.0.1')));
    expect(err.code).toBe(ErrorCodes.MALFORMED);
    expect(err.message).toContain('v1.0.1');
    expect(err.module).toBe(MOD);
    expect(err.version).toBe('v1.0.0');
    expect(await exists(ESC)).toBe(false);
  });
});

/**
 * The names that appear in dir, in the order the kernel reports them
 * (inotify through fs.watch): every rename into dir is seen, in order, however
 * close together the renames are.
 */
function watchArrivals(dir: string): { names: string[]; close(): void } {
  const names: string[] = [];
  const w = watch(dir, (_event, name) => {
    if (name !== null && !names.includes(String(name))) names.push(String(name));
  });
  return { names, close: () => w.close() };
}

describe('TreeWriter.publishVersion order', () => {
  // .info is the commit marker: a reader (nginx, the go command) that sees it must find .zip and .mod.
  for (const kind of ['file', 'bytes'] as const) {
    it(`makes .zip, then .mod, then .info visible, in that order (${kind} payloads)`, async () => {
      await publish(MOD, 'v0.9.0'); // creates the @v directory to watch
      const vdir = join(root, ESC, '@v');
      const v = await verified(MOD, 'v1.0.0', true, kind);
      const seen = watchArrivals(vdir);
      try {
        await writer.publishVersion(v, infoOf('v1.0.0'));
        const mine = (): string[] => seen.names.filter((n) => n.startsWith('v1.0.0.'));
        await waitFor(() => mine().length === 3, 10_000).catch(() => undefined);
        expect(mine()).toEqual(['v1.0.0.zip', 'v1.0.0.mod', 'v1.0.0.info']);
      } finally {
        seen.close();
      }
    });
  }

  it('makes .mod visible before .info for a version without a zip', async () => {
    await publish(MOD, 'v0.9.0');
    const vdir = join(root, ESC, '@v');
    const v = await verified(MOD, 'v1.0.0', false);
    const seen = watchArrivals(vdir);
    try {
      await writer.publishVersion(v, infoOf('v1.0.0'));
      const mine = (): string[] => seen.names.filter((n) => n.startsWith('v1.0.0.'));
      await waitFor(() => mine().length === 2, 10_000).catch(() => undefined);
      expect(mine()).toEqual(['v1.0.0.mod', 'v1.0.0.info']);
    } finally {
      seen.close();
    }
  });
});

describe('TreeWriter facts learned once', () => {
  it('answers lookupVisible from memory once for a version it just published, then from the tree', async () => {
    await publish(MOD, 'v1.0.0');
    const exists = vi.spyOn(writer.storage, 'exists');
    expect(await writer.lookupVisible(MOD, 'v1.0.0')).toBe(true);
    expect(exists).not.toHaveBeenCalled();
    expect(await writer.lookupVisible(MOD, 'v1.0.0')).toBe(true);
    expect(exists).toHaveBeenCalledTimes(2);
    expect(await writer.lookupVisible(MOD, 'v9.0.0')).toBe(false);
  });

  it('answers lookupVisible false from memory while it is publishing the version, true once after', async () => {
    const v = await verified(MOD, 'v1.0.0');
    const exists = vi.spyOn(writer.storage, 'exists');
    const during: boolean[] = [];
    await writer.publishVersion(v, infoOf('v1.0.0'), async () => {
      during.push(await writer.lookupVisible(MOD, 'v1.0.0')); // its record is journaled here, before any rename
    });
    expect(during).toEqual([false]);
    expect(await writer.lookupVisible(MOD, 'v1.0.0')).toBe(true);
    expect(exists).not.toHaveBeenCalled();
    expect(await writer.lookupVisible(MOD, 'v1.0.0')).toBe(true); // asked again: from the tree
    expect(exists).toHaveBeenCalledTimes(2);
  });

  it('reports presence: absent, partial, complete', async () => {
    expect(await writer.presence(MOD, 'v1.0.0', true)).toBe('absent');
    await publish(MOD, 'v1.0.0', false);
    expect(await writer.presence(MOD, 'v1.0.0', true)).toBe('partial');
    expect(await writer.presence(MOD, 'v1.0.0', false)).toBe('complete');
  });
});

describe('TreeWriter.refreshModuleIndex', () => {
  const P1 = 'v0.0.0-20200101000000-aaaaaaaaaaaa';
  const P2 = 'v0.0.0-20210101000000-bbbbbbbbbbbb';

  it('lists released versions only, semver-sorted, without pseudo-versions or .mod-only versions', async () => {
    for (const v of ['v1.10.0', 'v1.2.0', P1, 'v1.2.0-rc.1', 'v0.9.0']) await publish(MOD, v);
    await publish(MOD, 'v1.3.0', false);
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('v0.9.0\nv1.2.0-rc.1\nv1.2.0\nv1.10.0\n');
    expect(await exists(`${ESC}/@latest`)).toBe(false);
  });

  it('writes @latest (the newest pseudo-version .info) only while there are only pseudo-versions', async () => {
    await publish(MOD, P2);
    await publish(MOD, P1);
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('');
    expect(await read(`${ESC}/@latest`)).toBe(await read(`${ESC}/@v/${P2}.info`));
    expect(JSON.parse(await read(`${ESC}/@latest`))).toEqual({ Version: P2, Time: timeOf(P2) });

    await publish(MOD, 'v1.0.0');
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
    expect(await exists(`${ESC}/@latest`)).toBe(false);
  });

  it('writes an empty list and no @latest for a module with nothing complete', async () => {
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('');
    expect(await exists(`${ESC}/@latest`)).toBe(false);
  });

  it('removes @latest once no version is complete, as verify requires (repair quarantined the last one)', async () => {
    await publish(MOD, P1);
    await writer.refreshModuleIndex(MOD);
    expect(await exists(`${ESC}/@latest`)).toBe(true);
    await fs.rm(join(root, ESC, '@v', `${P1}.zip`));
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('');
    expect(await exists(`${ESC}/@latest`)).toBe(false);
  });

  it('removes an @latest left beside a list that already names a release (old tree, killed run)', async () => {
    await publish(MOD, 'v1.0.0');
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
    await fs.writeFile(join(root, ESC, '@latest'), '{"Version":"v0.0.0-stale"}');
    await publish(MOD, 'v1.1.0');
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\nv1.1.0\n');
    expect(await exists(`${ESC}/@latest`)).toBe(false);
  });

  it('removes @latest before writing the first list that names a release', async () => {
    await publish(MOD, P1);
    await writer.refreshModuleIndex(MOD);
    const order: string[] = [];
    const storage = writer.storage;
    const put = storage.put.bind(storage);
    const remove = storage.remove.bind(storage);
    vi.spyOn(storage, 'put').mockImplementation(async (k, src, o) => (order.push(`put ${k}`), put(k, src, o)));
    vi.spyOn(storage, 'remove').mockImplementation(async (k) => (order.push(`remove ${k}`), remove(k)));
    await publish(MOD, 'v1.0.0');
    await writer.refreshModuleIndex(MOD);
    expect(order).toEqual([`remove ${ESC}/@latest`, `put ${ESC}/@v/list`]);
    expect(await exists(`${ESC}/@latest`)).toBe(false);
  });

  it('ignores files it did not write', async () => {
    await publish(MOD, 'v1.0.0');
    const vdir = join(root, ESC, '@v');
    for (const name of ['junk.info', 'junk.mod', 'junk.zip', 'v1.5.0.info', '!!bad.info', '!!bad.mod', '!!bad.zip']) {
      await fs.writeFile(join(vdir, name), '');
    }
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
  });

  /** Wraps the writer's index rewrite to observe overlap and hold it at a gate. */
  function instrument(): {
    calls: () => number;
    maxActive: () => number;
    hold: (n: number) => () => void;
    restore: () => void;
  } {
    const target = writer as unknown as { rewriteIndex(m: string): Promise<void> };
    expect(typeof target.rewriteIndex).toBe('function');
    const original = target.rewriteIndex.bind(writer);
    const gates = new Map<number, Promise<void>>();
    let calls = 0;
    let active = 0;
    let maxActive = 0;
    const spy = vi.spyOn(target, 'rewriteIndex').mockImplementation(async (m: string) => {
      const n = ++calls;
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await original(m);
        await gates.get(n); // held after its rewrite, while still "running"
        await new Promise((r) => setTimeout(r, 2));
      } finally {
        active--;
      }
    });
    return {
      calls: () => calls,
      maxActive: () => maxActive,
      hold: (n) => {
        let release = (): void => undefined;
        gates.set(n, new Promise<void>((r) => (release = r)));
        return () => release();
      },
      restore: () => spy.mockRestore(),
    };
  }

  it('never runs two rewrites of one module at once; a burst of callers shares one rewrite', async () => {
    for (const v of ['v1.0.0', 'v1.1.0']) await publish(MOD, v);
    const probe = instrument();
    await Promise.all(Array.from({ length: 8 }, () => writer.refreshModuleIndex(MOD)));
    expect(probe.maxActive()).toBe(1);
    expect(probe.calls()).toBeGreaterThanOrEqual(1);
    expect(probe.calls()).toBeLessThanOrEqual(8);
    probe.restore();
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\nv1.1.0\n');
    expect((await fs.readdir(tmp)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a refresh called during a running rewrite runs again afterwards and sees the newer files', async () => {
    await publish(MOD, 'v1.0.0');
    const probe = instrument();
    const release = probe.hold(1);
    const first = writer.refreshModuleIndex(MOD);
    await vi.waitFor(async () => expect(await exists(`${ESC}/@v/list`)).toBe(true));
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
    await publish(MOD, 'v1.1.0'); // lands after rewrite 1 read the directory
    const second = writer.refreshModuleIndex(MOD);
    const third = writer.refreshModuleIndex(MOD);
    await new Promise((r) => setTimeout(r, 20));
    expect(probe.calls()).toBe(1); // rewrite 2 waits for rewrite 1
    release();
    await Promise.all([first, second, third]);
    expect(probe.maxActive()).toBe(1);
    expect(probe.calls()).toBe(2);
    probe.restore();
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\nv1.1.0\n');
  });

  it('a failed rewrite rejects its callers but does not block later refreshes', async () => {
    await publish(MOD, 'v1.0.0');
    const target = writer as unknown as { rewriteIndex(m: string): Promise<void> };
    const spy = vi.spyOn(target, 'rewriteIndex').mockRejectedValueOnce(new Error('injected failure'));
    await expect(writer.refreshModuleIndex(MOD)).rejects.toThrow('injected failure');
    spy.mockRestore();
    await writer.refreshModuleIndex(MOD);
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
  });

  it('concurrent publish + refresh of many versions ends with the complete list', async () => {
    const versions = Array.from({ length: 12 }, (_, i) => `v1.${i}.0`);
    await Promise.all(
      versions.map(async (v) => {
        await publish(MOD, v);
        await writer.refreshModuleIndex(MOD);
      }),
    );
    expect(await read(`${ESC}/@v/list`)).toBe(versions.map((v) => `${v}\n`).join(''));
  });
});

describe('TreeWriter.publishVersion beforeRename', () => {
  it('runs beside the temp writes and renames nothing until it has succeeded', async () => {
    const v = await verified(MOD, 'v1.0.0', true, 'bytes');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const publishing = writer.publishVersion(v, infoOf('v1.0.0'), async () => {
      started = true;
      await gate;
    });
    await vi.waitFor(() => expect(started).toBe(true));
    // temps are written meanwhile, nothing is visible yet
    await vi.waitFor(async () => expect((await fs.readdir(tmp)).filter((n) => n.endsWith('.tmp')).length).toBe(3));
    expect(await exists(`${ESC}/@v/v1.0.0.info`)).toBe(false);
    expect(await exists(`${ESC}/@v/v1.0.0.zip`)).toBe(false);
    release();
    await publishing;
    expect(await writer.isPublished(MOD, 'v1.0.0', true)).toBe(true);
  });

  it('when it fails, publishes nothing and leaves no temp file behind', async () => {
    const v = await verified(MOD, 'v1.0.0', true, 'bytes');
    const before = await fs.readdir(tmp);
    const err = new GomirrorError(ErrorCodes.IO, 'journal full', { op: 'sumdbtree.journal' });
    await expect(writer.publishVersion(v, infoOf('v1.0.0'), () => Promise.reject(err))).rejects.toBe(err);
    expect(await exists(ESC)).toBe(false);
    expect(await fs.readdir(tmp)).toEqual(before);
  });
});

describe('TreeWriter.touchModule + checkpoint', () => {
  it('rewrites the lists of touched modules at the checkpoint, not before', async () => {
    const OTHER = 'example.com/other';
    await publish(MOD, 'v1.0.0');
    await publish(OTHER, 'v0.1.0');
    writer.touchModule(MOD);
    writer.touchModule(OTHER);
    expect(await exists(`${ESC}/@v/list`)).toBe(false);
    await writer.checkpoint();
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
    expect(await read(`${OTHER}/@v/list`)).toBe('v0.1.0\n');
    // a later checkpoint with nothing touched rewrites nothing
    await publish(MOD, 'v1.1.0');
    await writer.checkpoint();
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
  });

  it('a failed checkpoint keeps the modules touched for the next one', async () => {
    await publish(MOD, 'v1.0.0');
    writer.touchModule(MOD);
    const target = writer as unknown as { rewriteIndex(m: string): Promise<void> };
    const spy = vi
      .spyOn(target, 'rewriteIndex')
      .mockRejectedValueOnce(new GomirrorError(ErrorCodes.NO_SPACE, 'disk full', { op: 'store.write' }));
    expect((await rejection(writer.checkpoint())).code).toBe(ErrorCodes.NO_SPACE);
    spy.mockRestore();
    expect(await exists(`${ESC}/@v/list`)).toBe(false);
    await writer.checkpoint();
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\n');
  });

  it('checkpoints run one at a time: the second sees modules touched during the first', async () => {
    await publish(MOD, 'v1.0.0');
    writer.touchModule(MOD);
    const first = writer.checkpoint();
    await publish(MOD, 'v1.1.0');
    writer.touchModule(MOD);
    await Promise.all([first, writer.checkpoint()]);
    expect(await read(`${ESC}/@v/list`)).toBe('v1.0.0\nv1.1.0\n');
  });
});

describe('TreeWriter and symlinks planted in the tree', () => {
  it('refuses to publish through a symlinked module dir or one above it (UNSAFE_PATH); nothing outside', async () => {
    const outside = join(dir, 'outside');
    await fs.mkdir(outside);
    for (const planted of [ESC, 'example.com', `${ESC}/@v`]) {
      await fs.rm(root, { recursive: true, force: true });
      await fs.mkdir(join(root, planted, '..'), { recursive: true });
      await fs.symlink(outside, join(root, planted));
      const err = await rejection(publish(MOD, 'v1.0.0'));
      expect(err.code, planted).toBe(ErrorCodes.UNSAFE_PATH);
      expect(err.message, planted).toContain(`${join(root, planted)} is a symbolic link inside the tree`);
      expect(err.detail?.['path'], planted).toBe(planted);
      expect(await fs.readdir(outside), planted).toEqual([]);
    }
  });

  it('refuses a file where a directory belongs, and index rewrites through a symlink', async () => {
    await fs.mkdir(join(root, ESC), { recursive: true });
    await fs.writeFile(join(root, ESC, '@v'), 'not a dir');
    expect((await rejection(publish(MOD, 'v1.0.0'))).message).toMatch(/@v is not a directory inside the tree/);
    const outside = join(dir, 'outside2');
    await fs.mkdir(join(outside, '@v'), { recursive: true });
    await fs.rm(join(root, ESC), { recursive: true });
    await fs.symlink(outside, join(root, ESC));
    expect((await rejection(writer.refreshModuleIndex(MOD))).code).toBe(ErrorCodes.UNSAFE_PATH);
    expect(await fs.readdir(join(outside, '@v'))).toEqual([]);
  });

  it('accepts a tree root that is itself a symlink (the operator chose it)', async () => {
    const real = join(dir, 'real-tree');
    await fs.mkdir(real);
    await fs.symlink(real, join(dir, 'link-tree'));
    writer = new TreeWriter(new FsTreeStorage(join(dir, 'link-tree'), tmp));
    await publish(MOD, 'v1.0.0');
    expect(await fs.readdir(join(real, ESC, '@v'))).toContain('v1.0.0.info');
  });
});
