// The store is used only where nobody else can change it: whoever can replace a file in it (or
// swap the folder for another) decides the cluster's CA and learns its keys. So the cluster folder,
// the store and its folders and files must belong to the user running kubebake (or to root, who
// can read everything anyway) and be writable by nobody else, and no link inside the store is
// followed (as OpenSSH's StrictModes treats ~/.ssh). Files readable by others are used, with a
// warning: the secrets may already have leaked, and refusing would not undo that.
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import { isErrno } from '../diagnostics/io.js';
import type { EntryRead } from '../plan/secrets-check.js';
import { STORE_FOLDERS } from '../plan/secrets.js';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

const error = (m: Message, file: string): Diagnostic => ({ severity: 'error', path: [], file, ...m });
const warning = (m: Message, file: string): Diagnostic => ({ severity: 'warning', path: [], file, ...m });

const me = process.geteuid?.();

/** Refusals for a path another user owns (root excepted) or its group or everyone may write. */
function untrusted(path: string, st: Stats): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (me !== undefined && st.uid !== me && st.uid !== 0) out.push(error(msg.storeForeignOwner(path, st.uid, me), path));
  if (st.mode & 0o022) out.push(error(msg.storeWritable(path, st.mode & 0o7777), path));
  return out;
}

/** A warning for a path others may read (files 0600, folders 0700 expected). */
function loose(path: string, st: Stats, want: number): Diagnostic[] {
  return st.mode & 0o077 ? [warning(msg.storeReadable(path, st.mode & 0o777, want), path)] : [];
}

async function statOrUndefined(path: string, follow: boolean): Promise<Stats | undefined> {
  try {
    return await (follow ? stat(path) : lstat(path));
  } catch (e) {
    if (isErrno(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
    throw e;
  }
}

export interface FolderCheck {
  /** Reasons not to use the store at all. */
  refusals: Diagnostic[];
  /** Store folders others may read. */
  warnings: Diagnostic[];
}

/**
 * The cluster folder, the store and the store's folders. The store itself may be a link (to an
 * encrypted volume, say): what it points at is checked; a folder inside it may not.
 */
export async function checkFolders(dir: string): Promise<FolderCheck> {
  const result: FolderCheck = { refusals: [], warnings: [] };
  const cluster = await statOrUndefined(dirname(dir), true);
  if (cluster) result.refusals.push(...untrusted(dirname(dir), cluster));
  for (const rel of STORE_FOLDERS) {
    const path = join(dir, rel);
    const st = await statOrUndefined(path, rel === '');
    if (!st || (rel === '' && !st.isDirectory())) continue; // missing, or reported as "not a folder"
    if (st.isSymbolicLink()) result.refusals.push(error(msg.storeLink(path), path));
    else if (st.isDirectory()) {
      result.refusals.push(...untrusted(path, st));
      result.warnings.push(...loose(path, st, DIR_MODE));
    }
    // A file where a folder should be: reading the files below it says so.
  }
  return result;
}

/**
 * A store file's text, never through a link (O_NOFOLLOW; the folders on the way were checked by
 * checkFolders, and nobody else can change them). Refusals and warnings are added to `found`.
 */
export async function readStoreFile(path: string, found: { refusals: Diagnostic[]; warnings: Diagnostic[] }): Promise<EntryRead> {
  let fh;
  try {
    // O_NONBLOCK: a FIFO planted here must not hang the run; it changes nothing for a regular file.
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = isErrno(e) ? e.code : undefined;
    if (code === 'ENOENT') return { missing: true };
    if (code === 'ELOOP') {
      found.refusals.push(error(msg.storeLink(path), path));
      return { refused: true };
    }
    return { unreadable: code ?? 'error' };
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return { unreadable: 'EISDIR' };
    if (!st.isFile()) {
      found.refusals.push(error(msg.storeNotRegular(path), path));
      return { refused: true };
    }
    const refusals = untrusted(path, st);
    if (refusals.length) {
      found.refusals.push(...refusals);
      return { refused: true };
    }
    found.warnings.push(...loose(path, st, FILE_MODE));
    return { text: await fh.readFile('utf8') };
  } finally {
    await fh.close();
  }
}
