import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { it, expect } from 'vitest';
import { buildZip } from './fixtures.js';
import { hashModuleZip } from '../../src/zip/modzip.js';
const P = 'example.com/m@v1.0.0/';
it('cross', async () => {
  const cases = [
    [{ name: P + 'go.mod', data: 'module example.com/m\n' }, { name: P + 'a.go', data: 'package m\n' }, { name: P + 'r', data: randomBytes(100000) }],
    [{ name: P + 'sub', dir: true }, { name: P + 'sub/a.go', data: 'x' }],
    [{ name: P + '\uFF21', data: 'f' }, { name: P + '\u{20000}', data: 'e' }, { name: P + 'é', data: '' }],
  ];
  for (const [i, c] of cases.entries()) {
    const p = `/tmp/gocheck/c${i}.zip`;
    writeFileSync(p, await buildZip(c as any));
    const go = execFileSync('/tmp/gocheck/gocheck', [p]).toString().trim();
    const ours = (await hashModuleZip(p, 'example.com/m', 'v1.0.0')).h1;
    console.log(i, go, ours);
    expect(ours).toBe(go);
  }
});
