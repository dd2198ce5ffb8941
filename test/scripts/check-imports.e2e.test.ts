/**
 * The built scripts/check-imports.js as `npm test` runs it: exit 0 on this
 * repository's src/, exit 1 naming the cycle on a tree whose folders import
 * each other (even through a type-only import).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const run = promisify(execFile);
const SCRIPT = path.join(repoRoot, 'dist', 'scripts', 'check-imports.js');

async function check(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run "npm run build" (npm test does)`);
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'gomirror-imports-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
  return root;
}

describe('scripts/check-imports', () => {
  it('passes the repository and prints its folder graph with --print', async () => {
    const r = await check('--print');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^version -> \., module, zip$/m);
    expect(r.stdout).toContain('no import cycle');
  });

  it('fails naming the cycle, a type-only import included', async () => {
    const root = await tree({
      'errors.ts': 'export class E {}\n',
      'store/writer.ts': "import { E } from '../errors.js';\nimport type { V } from '../verify/verified.js';\n",
      'verify/verified.ts': "import {\n  repair,\n} from '../sync/repair.js';\n",
      'sync/repair.ts': "import { writer } from '../store/writer.js';\n",
      'zip/h1.ts': "import { E } from '../errors.js';\n",
    });
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('folder import cycle: store -> verify -> sync -> store');
    expect(r.stderr).toContain('folders that import each other: store, sync, verify');
    expect(r.stderr).not.toContain('zip');
  });
});
