/**
 * Targeted mirroring end to end: --from-gomod mirrors the transitive require
 * graph, --module mirrors exactly what it names, --dry-run writes nothing.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath, escapeVersion } from '../../src/module/index.js';
import { runCli, upstreamArgs } from '../helpers/cli.js';
import { snapshotTree } from '../helpers/tree.js';
import { startUpstream, type CorpusVersion, type FakeUpstream } from '../upstream/index.js';
import { makeTempDir } from '../helpers/tmp.js';

function args(up: FakeUpstream, dest: string, extra: string[]): string[] {
  return ['sync', '--dest', dest, ...upstreamArgs(up), '--log-format', 'json', ...extra];
}

/** The require lines of a go.mod, read independently of src/. */
function requires(mod: string): string[] {
  const out: string[] = [];
  for (const m of mod.matchAll(/^\s+(\S+)\s+(v\S+)\s*$/gm)) out.push(`${m[1]}@${m[2]}`);
  for (const m of mod.matchAll(/^require\s+(\S+)\s+(v\S+)\s*$/gm)) out.push(`${m[1]}@${m[2]}`);
  return out;
}

function closure(roots: string[], byKey: Map<string, CorpusVersion>): Set<string> {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const k = todo.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    const v = byKey.get(k);
    if (v) todo.push(...requires(v.mod.toString()));
  }
  return seen;
}

function zipFile(k: string): string {
  const at = k.lastIndexOf('@');
  return `${escapePath(k.slice(0, at))}/@v/${escapeVersion(k.slice(at + 1))}.zip`;
}

describe('targeted mirroring', () => {
  let up: FakeUpstream;
  let dir: string;

  beforeAll(async () => {
    up = await startUpstream({ seed: 1 });
    dir = await makeTempDir('gomirror-targeted-');
  });
  afterAll(async () => {
    await up?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--from-gomod mirrors exactly the transitive module graph', async () => {
    const byKey = new Map(up.versions().map((v) => [`${v.path}@${v.version}`, v]));
    const roots = ['github.com/Sirupsen/Logrus@v1.1.0', 'example.net/util@v0.2.0'];
    expect(roots.every((r) => byKey.has(r))).toBe(true);
    const want = closure(roots, byKey);
    expect(want.size).toBeGreaterThan(roots.length + 3);
    const gomod = path.join(dir, 'go.mod');
    await fs.writeFile(
      gomod,
      `module example.org/app\n\ngo 1.16\n\nrequire ` +
        `(\n${roots.map((r) => `\t${r.replace('@', ' ')} // indirect`).join('\n')}\n)\n`,
    );
    const dest = path.join(dir, 'gomod-tree');
    const r = await runCli(args(up, dest, ['--from-gomod', gomod]));
    expect(r.code, r.stderr).toBe(0);
    const zips = [...(await snapshotTree(dest)).keys()].filter((f) => f.endsWith('.zip')).sort();
    expect(zips).toEqual([...want].map(zipFile).sort());
  });

  it('--module mirrors exactly the named versions', async () => {
    const picks = up.versions().slice(3, 6);
    const dest = path.join(dir, 'module-tree');
    const r = await runCli(
      args(
        up,
        dest,
        picks.flatMap((v) => ['--module', `${v.path}@${v.version}`]),
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    const zips = [...(await snapshotTree(dest)).keys()].filter((f) => f.endsWith('.zip')).sort();
    expect(zips).toEqual(picks.map((v) => zipFile(`${v.path}@${v.version}`)).sort());
  });

  it('--module with an invalid or unknown version exits 1 naming it', async () => {
    const dest = path.join(dir, 'bad-tree');
    const r = await runCli(args(up, dest, ['--module', 'example.com/nope@v9.9.9']));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('example.com/nope');
  });

  it('--dry-run lists what would be fetched with sizes and writes nothing', async () => {
    const dest = path.join(dir, 'dry-tree');
    const r = await runCli(args(up, dest, ['--since', '1970-01-01T00:00:00Z', '--dry-run']));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const total = lines.pop()!;
    expect(lines).toHaveLength(up.versions().length);
    expect(lines.every((l) => /^\S+@\S+\t\d+$/.test(l))).toBe(true);
    const sum = lines.reduce((n, l) => n + Number(l.split('\t')[1]), 0);
    expect(total).toBe(`would fetch ${lines.length} versions, about ${(sum / 1e6).toFixed(1)} MB`);
    await expect(fs.access(dest)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
