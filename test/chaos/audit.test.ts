/**
 * The chaos suite's yardstick: auditTree must count every byte of a .zip or
 * .mod that does not hash to the corpus, and report visible temp files and
 * listed versions that are not complete.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { auditTree, corpusIndex, parseVersionFile } from './audit.js';
import { treeFile } from './fixture.js';
import { formatTable } from './scoreboard.js';
import { writeZip } from './zips.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('auditTree', () => {
  let up: FakeUpstream;
  let root: string;
  beforeAll(async () => {
    up = await startUpstream({ seed: 2, modules: 3 });
    root = await makeTempDir('gomirror-chaos-audit-');
  });
  afterAll(async () => {
    await up.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  async function put(rel: string, data: Buffer | string): Promise<number> {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), data);
    return Buffer.byteLength(data);
  }

  it('passes a correct tree and counts every unverified byte, temp file and dangling list entry', async () => {
    const [good, bad, other] = up.versions() as [CorpusVersion, CorpusVersion, CorpusVersion];
    const corpus = corpusIndex(up.versions());
    await put(treeFile(good, 'zip'), await up.zip(good));
    await put(treeFile(good, 'mod'), good.mod);
    await put(treeFile(good, 'info'), JSON.stringify({ Version: good.version, Time: good.time }));
    expect(await auditTree(root, corpus)).toEqual({ zips: 1, mods: 1, unverifiedBytes: 0, problems: [] });

    const zipBytes = await put(
      treeFile(bad, 'zip'),
      writeZip([{ name: `${bad.path}@${bad.version}/go.mod`, data: bad.mod }]),
    );
    const modBytes = await put(treeFile(other, 'mod'), Buffer.concat([other.mod, Buffer.from('// tampered\n')]));
    await put(path.join('x', 'y.zip.123.tmp'), 'partial');
    const list = path.join(path.dirname(treeFile(other, 'mod')), 'list');
    await put(list, `${other.version}\n`);
    const a = await auditTree(root, corpus);
    expect(a.unverifiedBytes).toBe(zipBytes + modBytes);
    expect(a.problems.join('\n')).toContain('temporary or hidden file visible');
    expect(a.problems.filter((p) => p.includes('is missing'))).toHaveLength(2);
    expect(a.problems.filter((p) => p.includes('corpus says'))).toHaveLength(2);
  });

  it('parses case-encoded version file paths', () => {
    expect(parseVersionFile('github.com/!azure/x/@v/v1.0.0-!beta.zip')).toEqual({
      module: 'github.com/Azure/x',
      version: 'v1.0.0-Beta',
      ext: 'zip',
    });
    expect(parseVersionFile('github.com/x/@v/list')).toBeUndefined();
  });

  it('prints a table with the totals', () => {
    const t = formatTable([
      { group: 'g', name: 'a', outcome: 'passed', unverifiedBytes: 0, durationMs: 1000 },
      { group: 'g', name: 'b', outcome: 'failed', unverifiedBytes: 12, durationMs: 500, note: 'bad' },
      { group: 'g', name: 'c', outcome: 'skipped', unverifiedBytes: 0, durationMs: 0 },
    ]);
    expect(t).toContain('scenarios run: 2   passed: 1   failed: 1   skipped: 1   unverified bytes published: 12');
  });
});
