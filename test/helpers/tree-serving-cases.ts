/**
 * The shared expectations for serving a gomirror tree: a hand-built tree and
 * the tables of paths with what each must answer. Used by both the nginx
 * end-to-end test (scripts/nginx.conf) and the built-in `gomirror serve`
 * test, so the two stay the same behaviour.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const SHORT = 'public, max-age=60';
export const MOD = 'github.com/!burnt!sushi/toml';
export const SUMDB = 'sumdb/sum.golang.org';
export const ZIP_BYTES = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x10, 0x80]);

/** Served files: path -> content. */
export const FILES: Record<string, string | Buffer> = {
  [`${MOD}/@v/list`]: 'v1.2.0\nv1.3.0\n',
  [`${MOD}/@v/v1.3.0.info`]: '{"Version":"v1.3.0","Time":"2023-01-01T00:00:00Z"}',
  [`${MOD}/@v/v1.3.0.mod`]: 'module github.com/BurntSushi/toml\n',
  [`${MOD}/@v/v1.3.0.zip`]: ZIP_BYTES,
  'example.com/pseudo/@latest': '{"Version":"v0.0.0-20230101000000-abcdefabcdef"}',
  [`${SUMDB}/supported`]: '',
  [`${SUMDB}/latest`]: 'go.sum database tree\n42\nroot=\n\n— sum.golang.org sig\n',
  [`${SUMDB}/lookup/${MOD}@v1.3.0`]: '7\ngithub.com/BurntSushi/toml v1.3.0 h1:x=\n',
  [`${SUMDB}/lookup/example.com/m@v1.0.0-x.zip`]: '8\nexample.com/m v1.0.0-x.zip h1:y=\n',
  [`${SUMDB}/tile/8/0/000`]: 'full tile',
  [`${SUMDB}/tile/8/0/x001/234`]: 'full tile 1234',
  [`${SUMDB}/tile/8/1/000.p/5`]: 'partial tile',
};

/** Files that exist in the tree but must never be served. */
export const HIDDEN: Record<string, string> = {
  '.gomirror/state.json': '{"cursor":"secret"}',
  '.gomirror/x/@v/list': 'state dir shaped like a list',
  [`${MOD}/@v/.tmp-xyz`]: 'temp',
  [`${MOD}/@v/.v1.4.0.zip.tmp-xyz`]: 'temp zip',
  [`${MOD}/.b/@v/list`]: 'nested dot dir',
  'a/.b/c': 'nested dot dir',
  'README.txt': 'not a GOPROXY file',
};

/** A symlink inside the tree (to a file outside it) that must answer 404. */
export const SYMLINK_PATH = `${MOD}/@v/v9.9.9.mod`;

/** Writes FILES, HIDDEN and the symlink under root. */
export async function buildTree(root: string): Promise<void> {
  for (const [rel, content] of Object.entries({ ...FILES, ...HIDDEN })) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  await symlink('/etc/hostname', path.join(root, SYMLINK_PATH));
}

/** Served paths with their content type and Cache-Control. */
export const KINDS: Array<[string, string, string]> = [
  [`${MOD}/@v/list`, 'text/plain', SHORT],
  [`${MOD}/@v/v1.3.0.info`, 'application/json', IMMUTABLE],
  [`${MOD}/@v/v1.3.0.mod`, 'text/plain', IMMUTABLE],
  [`${MOD}/@v/v1.3.0.zip`, 'application/zip', IMMUTABLE],
  ['example.com/pseudo/@latest', 'application/json', SHORT],
  [`${SUMDB}/supported`, 'text/plain', SHORT],
  [`${SUMDB}/latest`, 'text/plain', SHORT],
  [`${SUMDB}/lookup/${MOD}@v1.3.0`, 'text/plain', SHORT],
  [`${SUMDB}/lookup/example.com/m@v1.0.0-x.zip`, 'text/plain', SHORT],
  [`${SUMDB}/tile/8/0/000`, 'application/octet-stream', IMMUTABLE],
  [`${SUMDB}/tile/8/0/x001/234`, 'application/octet-stream', IMMUTABLE],
  [`${SUMDB}/tile/8/1/000.p/5`, 'application/octet-stream', SHORT],
];

/** The same files as KINDS, requested with `%21` instead of `!`. */
export const ENCODED_BANG: Array<[string, string]> = [
  ['/github.com/%21burnt%21sushi/toml/@v/v1.3.0.zip', `${MOD}/@v/v1.3.0.zip`],
  [`/${SUMDB}/lookup/github.com/%21burnt%21sushi/toml@v1.3.0`, `${SUMDB}/lookup/${MOD}@v1.3.0`],
];

/** Methods that answer 405 with `Allow: GET, HEAD`. */
export const DISALLOWED_METHODS = ['POST', 'PUT', 'DELETE', 'OPTIONS'];

/** Allowed shapes whose file does not exist: 404 without Cache-Control. */
export const MISSING = [
  `${MOD}/@v/v9.0.0.zip`,
  `${MOD}/@v/v9.0.0.info`,
  'example.com/none/@v/list',
  `${SUMDB}/tile/8/0/001`,
];

/** Directories: 404, no listing, no redirect. */
export const DIRECTORIES = [
  '/',
  `/${MOD}`,
  `/${MOD}/`,
  `/${MOD}/@v`,
  `/${MOD}/@v/`,
  `/${SUMDB}/tile/8/0/x001`,
  `/${SUMDB}/lookup/github.com`,
];

/** State, temporary, dot and unknown paths: 404 and none of HIDDEN's content. */
export const HIDDEN_PATHS = [
  '/.gomirror/state.json',
  '/.gomirror/x/@v/list',
  '/.gomirror/',
  '/%2egomirror/state.json',
  `/${MOD}/@v/.tmp-xyz`,
  `/${MOD}/@v/.v1.4.0.zip.tmp-xyz`,
  `/${MOD}/.b/@v/list`,
  '/a/.b/c',
  '/a/%2eb/c',
  '/README.txt',
];
/** What a leaked hidden file would contain. */
export const HIDDEN_CONTENT = /secret|temp|nested|not a GOPROXY/;

/** Traversal attempts: 404 and never /etc/passwd. */
export const TRAVERSAL = [
  '/%2e%2e/etc/passwd',
  '/%2E%2E/etc/passwd',
  '/..%2f',
  '/..%2fetc/passwd',
  '/../etc/passwd',
  `/${MOD}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
  `/${MOD}/@v/list%00`,
];
