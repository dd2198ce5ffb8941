/**
 * Builds Go module zips with yazl: every entry is `path@version/<file>` with
 * the unescaped module path, no directory entries, fixed mtimes so the bytes
 * are deterministic.
 */
import yazl from 'yazl';

/** One file of a module version, relative to the module root. */
export interface ModuleFile {
  name: string;
  data: Buffer;
}

const FIXED_MTIME = new Date(Date.UTC(2019, 0, 1, 0, 0, 0));

/** Resolves to the bytes of a module zip holding `files` under `modPath@version/`. */
export function buildModuleZip(modPath: string, version: string, files: readonly ModuleFile[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
    for (const f of files) {
      zip.addBuffer(f.data, `${modPath}@${version}/${f.name}`, {
        mtime: FIXED_MTIME,
        mode: 0o644,
        compress: true,
        forceDosTimestamp: true,
      });
    }
    zip.end();
  });
}

/**
 * The same files with one file's content changed (a non-go.mod file when there
 * is one), for the 'corrupt' fault: still a valid module zip, different h1.
 */
export function corruptFiles(files: readonly ModuleFile[]): ModuleFile[] {
  const victim = files.findIndex((f) => f.name !== 'go.mod');
  const at = victim === -1 ? 0 : victim;
  return files.map((f, i) =>
    i === at
      ? { name: f.name, data: Buffer.concat([f.data, Buffer.from('\n// corrupted by the fake upstream\n')]) }
      : f,
  );
}
