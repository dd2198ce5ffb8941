/**
 * Directories inside the served tree are used only when they are real
 * directories: every component between the tree root and a target's
 * directory is checked with lstat (missing ones are created one level at a
 * time), and a symbolic link or a non-directory there is refused with
 * UNSAFE_PATH naming it, never followed, so nothing is ever written outside
 * the tree through a link planted inside it. The root itself may be a link
 * (an operator's choice). A link planted between this check and the rename
 * that follows is not caught: the check stops planted files, not a process
 * racing the writer with write access to the tree.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { ErrorCodes, GomirrorError } from '../errors.js';
import { ioError } from './atomic.js';
import { TREE_DIR_MODE } from './modes.js';

function unsafe(root: string, p: string, what: string): GomirrorError {
  const rel = nodePath.relative(root, p).split(nodePath.sep).join('/');
  return new GomirrorError(
    ErrorCodes.UNSAFE_PATH,
    `${p} ${what} inside the tree ${root}: refusing to write through it (remove it, or run gomirror verify --repair)`,
    {
      op: 'store.dir',
      detail: { root, path: rel },
    },
  );
}

/** mkdir -p with every directory it creates 0755, whatever the umask. */
async function mkdirs(dir: string): Promise<void> {
  const parent = nodePath.dirname(dir);
  if (parent !== dir && !fs.existsSync(parent)) await mkdirs(parent);
  await makeDir(dir);
}

/**
 * mkdir(2) of one directory with mode 0755 whatever the umask; true when it was created, false when it existed. On the
 * thread pool: mkdir waits for the filesystem's journal.
 */
async function makeDir(dir: string): Promise<boolean> {
  try {
    await fsp.mkdir(dir, TREE_DIR_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  await fsp.chmod(dir, TREE_DIR_MODE);
  return true;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

/**
 * Checks (and creates where missing, mode 0755) every directory from root
 * down to dir; see the module comment. The checks are lstat calls made
 * synchronously (they never wait for the disk's journal); creating a
 * directory goes to the thread pool.
 */
export async function ensureTreeDir(root: string, dir: string): Promise<void> {
  try {
    const rel = nodePath.relative(root, dir);
    if (rel === '') return;
    if (rel.startsWith('..') || nodePath.isAbsolute(rel)) throw unsafe(root, dir, 'is not');
    // the root (and above it) is the operator's: created 0755 when missing
    if (!fs.existsSync(root)) await mkdirs(root);
    let cur = root;
    for (const name of rel.split(nodePath.sep)) {
      cur = nodePath.join(cur, name);
      let st = lstatOrUndefined(cur);
      if (st === undefined) {
        try {
          await makeDir(cur);
        } catch (err) {
          throw ioError(err, 'store.dir', `cannot create directory ${cur}`, { dir: cur });
        }
        st = fs.lstatSync(cur);
      }
      if (st.isSymbolicLink()) throw unsafe(root, cur, 'is a symbolic link');
      if (!st.isDirectory()) throw unsafe(root, cur, 'is not a directory');
    }
  } catch (err) {
    throw ioError(err, 'store.dir', `cannot check directory ${dir}`, { dir });
  }
}
