/**
 * Fixtures for tests that need real `Verified` certificates: a small module
 * zip and go.mod written to temp files, and a fake RecordSource that answers
 * with their correct h1 hashes (or with hashes the test chooses).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordSource } from '../../src/version/verified.js';
import { hashGoMod } from '../../src/zip/h1.js';
import { buildZip, referenceH1 } from '../zip/fixtures.js';

/** What the fake checksum database says about one module version. */
export interface FakeRecord {
  id: number;
  modHash: string;
  zipHash: string;
  recordText: string;
  treeSize: number;
}

/** Temp files of one downloaded version plus the record that proves them. */
export interface VersionFiles {
  module: string;
  version: string;
  modPath: string;
  zipPath: string;
  modContent: Buffer;
  record: FakeRecord;
}

let counter = 0;

/** Writes a module zip and go.mod for module@version into dir and computes their h1 hashes. */
export async function makeVersionFiles(dir: string, module: string, version: string, id = 1): Promise<VersionFiles> {
  const modContent = Buffer.from(`module ${module}\n\ngo 1.21\n`);
  const src = Buffer.from(`package m\n\nconst V = ${JSON.stringify(version)}\n`);
  const prefix = `${module}@${version}/`;
  const zip = await buildZip([
    { name: `${prefix}go.mod`, data: modContent },
    { name: `${prefix}m.go`, data: src },
  ]);
  const n = counter++;
  const modPath = join(dir, `f${n}.mod`);
  const zipPath = join(dir, `f${n}.zip`);
  await writeFile(modPath, modContent);
  await writeFile(zipPath, zip);
  const modHash = hashGoMod(modContent);
  const zipHash = referenceH1([
    [`${prefix}go.mod`, modContent],
    [`${prefix}m.go`, src],
  ]);
  const recordText = `${module} ${version} ${zipHash}\n${module} ${version}/go.mod ${modHash}\n`;
  return {
    module,
    version,
    modPath,
    zipPath,
    modContent,
    record: { id, modHash, zipHash, recordText, treeSize: id + 10 },
  };
}

/** A RecordSource answering from a map keyed "module@version"; unknown versions reject. */
export function fakeSource(records: Map<string, FakeRecord>): RecordSource & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    lookup(module, version) {
      const key = `${module}@${version}`;
      calls.push(key);
      const r = records.get(key);
      if (r === undefined) return Promise.reject(new Error(`no record for ${key}`));
      return Promise.resolve({
        id: r.id,
        modHash: r.modHash,
        zipHash: r.zipHash,
        recordText: Buffer.from(r.recordText),
        head: { tree: { size: r.treeSize } },
      });
    },
  };
}

/** A RecordSource for exactly the given versions, with their true hashes. */
export function sourceFor(...files: VersionFiles[]): RecordSource & { calls: string[] } {
  return fakeSource(new Map(files.map((f) => [`${f.module}@${f.version}`, f.record])));
}
