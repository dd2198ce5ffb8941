import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isGomirrorError } from '../../src/errors.js';
import { LOCK_FILE } from '../../src/store/lock.js';
import {
  cursorSaveIntervalMs,
  localStatePlaces,
  openStateSession,
  PUSH_INTERVAL_MS,
  readStateCopy,
} from '../../src/store/state-session.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('gomirror-session-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

describe('state sessions on a directory tree and state', () => {
  it('hold the run lock (a second session is LOCKED) and no bucket lock; close releases it', async () => {
    const places = localStatePlaces(
      { kind: 'fs', dir: nodePath.join(dir, 'tree') },
      nodePath.join(dir, 'tree', '.gomirror'),
    );
    const first = await openStateSession(places, { command: 'sync' });
    expect(first.lost).toBeUndefined();
    expect(() => first.fence()).not.toThrow();
    await first.checkpoint({ force: true }); // nothing to push for a local state
    const err = await openStateSession(places, { command: 'sync' }).catch((e: unknown) => e);
    expect(isGomirrorError(err, ErrorCodes.LOCKED)).toBe(true);
    await first.close();
    await first.close();
    await expect(fs.access(nodePath.join(places.stateDir, LOCK_FILE))).rejects.toThrow();
    const again = await openStateSession(places, { command: 'verify' });
    await again.close();
  });

  it('create the state directory 0700 below a tree directory left 0755', async () => {
    const tree = nodePath.join(dir, 'new-tree');
    const session = await openStateSession(
      localStatePlaces({ kind: 'fs', dir: tree }, nodePath.join(tree, '.gomirror')),
      {
        command: 'sync',
      },
    );
    await session.close();
    expect((await fs.stat(tree)).mode & 0o777).toBe(0o755);
    expect((await fs.stat(nodePath.join(tree, '.gomirror'))).mode & 0o777).toBe(0o700);
  });

  it('read a directory state in place', async () => {
    const places = localStatePlaces({ kind: 'fs', dir }, nodePath.join(dir, '.gomirror'));
    const copy = await readStateCopy(places);
    expect(copy.dir).toBe(places.stateDir);
    await copy.dispose();
  });
});

describe('cursorSaveIntervalMs', () => {
  it('saves a local cursor every second and a bucket cursor as often as the bucket state is pushed', () => {
    expect(cursorSaveIntervalMs({ kind: 'fs', dir: '/s' })).toBe(1000);
    const s3 = { endpoint: undefined, pathStyle: true, region: 'us-east-1', profile: undefined };
    expect(cursorSaveIntervalMs({ kind: 's3', bucket: 'b', prefix: 'p/.gomirror/state', s3 })).toBe(PUSH_INTERVAL_MS);
    expect(PUSH_INTERVAL_MS).toBeGreaterThan(1000);
  });
});
