// Creating files and putting them in place: the one way kubebake does it, and its one fsync policy.
//
// A file is always created new (O_EXCL: never an existing file, whoever made it), never through a
// link (O_NOFOLLOW), and with its final mode from the first instant (so a private file is never
// briefly readable by others). A file that replaces another is created under a temp name beside
// it (or in a private staging folder) and renamed over it, so a reader sees the old content or
// the new, never half of one.
//
// Fsync policy, by what the file is:
// - 'durable': the only copy of something kubebake cannot make again (the secrets store, the
//   state `kubebake serve` keeps). The file is synced before it is renamed into place and its
//   folder after, so after a power loss the target holds the old content or the new, whole.
// - 'rebuildable': a file of the output tree. A render makes it again byte for byte, and the
//   writer's pending/complete ledger lets the next run finish an interrupted one (ledger.ts), so
//   nothing is synced: a sync per file would cost more than writing 20,000 files does.
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, writeFileSync, type Stats } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export type Durability = 'durable' | 'rebuildable';

/** A file that must not exist yet, opened for writing without following a link. */
export const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

// Read once: process.umask() without an argument sets and restores it, which is not free.
const umask = process.umask();
/** The mode a file or folder created with `mode` gets: what the umask leaves of it. */
export const createdMode = (mode: number): number => mode & ~umask;
/** Whether the umask took bits of `mode` at creation, so the mode must be set again. */
export const umaskNarrows = (mode: number): boolean => createdMode(mode) !== mode;

/**
 * Creates `path` (which must not exist) with exactly `mode` and `content`, synced when durable;
 * returns its stat (fstat of an open file is answered from the inode in memory). Synchronous: the
 * output writer creates thousands of files, and a thread-pool round trip per call costs more than
 * the call (write-apply.ts). `content` may come in pieces.
 */
export function createFileSync(path: string, mode: number, content: string | Uint8Array | Iterable<string>, durability: Durability): Stats {
  const fd = openSync(path, CREATE_NEW, mode);
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) writeFileSync(fd, content);
    else for (const piece of content) writeFileSync(fd, piece);
    if (umaskNarrows(mode)) fchmodSync(fd, mode);
    if (durability === 'durable') fsyncSync(fd);
    return fstatSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** createFileSync for callers that must not block (a server): the same flags, mode and policy. */
export async function createFile(path: string, mode: number, content: string, durability: Durability): Promise<void> {
  const fh = await open(path, CREATE_NEW, mode);
  try {
    await fh.writeFile(content, 'utf8');
    if (umaskNarrows(mode)) await fh.chmod(mode);
    if (durability === 'durable') await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Renames `from` over `to` (a file or an empty folder); durable: the folder's entry is synced too. */
export async function renameIntoPlace(from: string, to: string, durability: Durability): Promise<void> {
  await rename(from, to);
  if (durability === 'durable') await syncFolder(dirname(to));
}

/** Makes a folder's entries (files created, renamed or removed in it) survive a power loss. */
export async function syncFolder(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Marks the temp names of replaceFile (and of callers that stage files beside their targets). */
export const TEMP_MARK = '.kubebake-tmp';

/** A temp name beside `path` that nobody can predict (a link planted there is never written through anyway). */
export const tempBeside = (path: string): string => join(dirname(path), `.${basename(path)}${TEMP_MARK}-${randomBytes(6).toString('hex')}`);

/** Replaces (or creates) `path` with `content` atomically: a temp file beside it, renamed over it. */
export async function replaceFile(path: string, mode: number, content: string, durability: Durability): Promise<void> {
  const tmp = tempBeside(path);
  try {
    await createFile(tmp, mode, content, durability);
    await renameIntoPlace(tmp, path, durability);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
