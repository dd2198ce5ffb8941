/**
 * The --config file at the CLI edge: a missing, unreadable, directory or
 * non-object file, or a value of the wrong kind, exits 2 with one line naming
 * the file (and the key); an unknown key is a warning and the command runs.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gomirror-config-file-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return file;
}

/** Asserts exit 2 and exactly one stderr line: a CONFIG error naming `file` and matching `text`. */
function expectOneLine(r: { code: number | null; stderr: string }, file: string, text: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`config file ${file}`);
  expect(lines[0]).toMatch(text);
  expect(lines[0]).toMatch(/\[GOMIRROR_CONFIG\]$/);
}

describe('gomirror --config FILE', () => {
  it('a missing file, a directory, a file not JSON or not an object: exit 2, one line naming the file', async () => {
    const missing = path.join(dir, 'missing.json');
    expectOneLine(await runCli(['status', '--config', missing]), missing, /does not exist/);
    expectOneLine(await runCli(['status', `--config=${dir}`]), dir, /is a directory/);
    const bad = await writeConfig('bad.json', '{"dest": ');
    expectOneLine(await runCli(['sync', '--config', bad]), bad, /is not valid JSON/);
    // Unreadable: a path through a file (ENOTDIR); permission bits do not stop root, so this stands in for EACCES.
    const unreadable = path.join(bad, 'inner.json');
    expectOneLine(await runCli(['status', '--config', unreadable]), unreadable, /cannot be read \(ENOTDIR\)/);
    const list = await writeConfig('list.json', '["--dest", "/srv"]');
    expectOneLine(await runCli(['status', '--config', list]), list, /must hold a JSON object/);
    // GOMIRROR_CONFIG names the file as --config does.
    expectOneLine(await runCli(['status'], { GOMIRROR_CONFIG: missing }), missing, /does not exist/);
  });

  it('a number or a list where a single string belongs exits 2 naming the key, and writes nothing', async () => {
    const num = await writeConfig('num.json', '{"dest": 123}');
    const r = await runCli(['sync', '--config', num, '--dry-run']);
    expectOneLine(r, num, /"dest": expected a string, got 123/);
    const listed = await writeConfig(
      'listed.json',
      JSON.stringify({ dest: [path.join(dir, 'a'), path.join(dir, 'b')] }),
    );
    expectOneLine(await runCli(['status', '--config', listed]), listed, /"dest": expected a string, got a list/);
    const entries = await fs.readdir(dir);
    expect(entries.filter((e) => !e.endsWith('.json'))).toEqual([]);
    expect(entries).not.toContain('123');
  });

  it('an unknown key is a warning naming it; the command runs with the rest', async () => {
    const dest = path.join(dir, 'tree');
    const file = await writeConfig('typo.json', JSON.stringify({ dest, 'log-levle': 'debug', concurrency: 4 }));
    const r = await runCli(['status', '--config', file, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`gomirror: warning: config file ${file}: unknown key "log-levle" ignored\n`);
    expect(JSON.parse(r.stdout)).toMatchObject({ dest, synced: false });
  });

  it('flags and the environment still win over the file', async () => {
    const file = await writeConfig('dest.json', JSON.stringify({ dest: path.join(dir, 'from-file') }));
    const flagged = await runCli(['status', '--config', file, '--dest', path.join(dir, 'from-flag'), '--json']);
    expect(JSON.parse(flagged.stdout)).toMatchObject({ dest: path.join(dir, 'from-flag') });
    const env = await runCli(['status', '--config', file, '--json'], { GOMIRROR_DEST: path.join(dir, 'from-env') });
    expect(JSON.parse(env.stdout)).toMatchObject({ dest: path.join(dir, 'from-env') });
  });
});
