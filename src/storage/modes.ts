/**
 * Permission bits gomirror gives what it creates, whatever the umask: the
 * served tree is world-readable and writable only by its owner; the state
 * (trusted head, tile cache, journals, lock) is private to its owner.
 */

/** Files in the served tree. */
export const TREE_FILE_MODE = 0o644;
/** Directories in the served tree. */
export const TREE_DIR_MODE = 0o755;
/** Files in the state directory. */
export const STATE_FILE_MODE = 0o600;
/** Directories in the state directory (and the state directory itself). */
export const STATE_DIR_MODE = 0o700;

/**
 * The mode of a directory holding files of `fileMode`: searchable wherever the files are readable (0644 → 0755, 0600 →
 * 0700). Pure.
 */
export function dirModeFor(fileMode: number): number {
  return fileMode | ((fileMode & 0o444) >> 2);
}
