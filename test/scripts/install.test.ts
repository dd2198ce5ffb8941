/**
 * scripts/install.sh with --root <tmp>: installs the config, the tree
 * directory and the units, and a second run changes nothing (idempotent).
 */
import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/install.sh');
const UNITS = path.resolve(import.meta.dirname, '../../systemd');

async function install(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('bash', [SCRIPT, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Every path under root with its type, mode and content (files), sorted. */
async function snapshot(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const p = path.join(rel, name);
    const st = await lstat(path.join(root, p));
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) out.push(`d ${mode} ${p}`, ...(await snapshot(root, p)));
    else out.push(`f ${mode} ${p} ${JSON.stringify(await readFile(path.join(root, p), 'utf8'))}`);
  }
  return out;
}

describe('scripts/install.sh', () => {
  let root: string;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('is valid bash', async () => {
    await expect(run('bash', ['-n', SCRIPT])).resolves.toBeDefined();
  });

  it('installs config, tree and units under --root, and a second run changes nothing', async () => {
    root = await makeTempDir('gomirror-install-');
    const first = await install('--root', root);
    expect(first.code, first.stderr).toBe(0);
    const before = await snapshot(root);

    expect((await lstat(path.join(root, 'srv/gomirror'))).isDirectory()).toBe(true);
    const config = JSON.parse(await readFile(path.join(root, 'etc/gomirror/config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(config['dest']).toBe('/srv/gomirror');
    for (const unit of await readdir(UNITS)) {
      expect(await readFile(path.join(root, 'etc/systemd/system', unit), 'utf8')).toBe(
        await readFile(path.join(UNITS, unit), 'utf8'),
      );
    }

    const second = await install('--root', root);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toMatch(/installed|wrote/);
    expect(await snapshot(root)).toEqual(before);
    expect(before.filter((l) => /\/\.[^/]*\.[A-Za-z0-9]{6} /.test(l))).toEqual([]); // no temporary files left
  });

  it('never overwrites an edited config file', async () => {
    root = await makeTempDir('gomirror-install-');
    expect((await install('--root', root)).code).toBe(0);
    const conf = path.join(root, 'etc/gomirror/config.json');
    await writeFile(conf, '{"dest":"/data/mirror"}\n');
    expect((await install('--root', root)).code).toBe(0);
    expect(await readFile(conf, 'utf8')).toBe('{"dest":"/data/mirror"}\n');
  });

  it('points the config and ReadWritePaths at --dest', async () => {
    root = await makeTempDir('gomirror-install-');
    expect((await install('--root', root, '--dest', '/data/go-mirror')).code).toBe(0);
    expect(JSON.parse(await readFile(path.join(root, 'etc/gomirror/config.json'), 'utf8'))).toMatchObject({
      dest: '/data/go-mirror',
    });
    const unit = await readFile(path.join(root, 'etc/systemd/system/gomirror-sync.service'), 'utf8');
    expect(unit).toMatch(/^ReadWritePaths=\/data\/go-mirror$/m);
    expect(unit).not.toMatch(/ReadWritePaths=\/srv\/gomirror/);
    expect((await lstat(path.join(root, 'data/go-mirror'))).isDirectory()).toBe(true);
  });

  it.each([['--bogus'], ['--dest', 'relative/dir'], ['--dest', '/srv/a"b']])(
    'refuses %j with exit 2',
    async (...args) => {
      root = await makeTempDir('gomirror-install-');
      const r = await install('--root', root, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/install\.sh:/);
      expect(await readdir(root)).toEqual([]);
    },
  );
});
