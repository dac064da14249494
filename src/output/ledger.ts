// The ledger: the output writer's record, at the top of the output folder, of every file it wrote
// there (`.kubebake-manifest.json`, its name on disk since the first version). It decides what a
// run may replace or remove without asking: a file whose content the ledger lists is kubebake's;
// any other is a hand edit (or was never kubebake's) and is not silently replaced.
//
// Recovery rule: a run may stop anywhere (SIGKILL, full disk). Before it changes anything it
// writes a *pending* ledger that lists, per path, every content the path may hold while the
// run is under way (the old one and the new one; "anything" for a file this run creates from
// nothing, which an interruption may leave half-written). So the next run recognises every file
// an interrupted run touched as its own and simply finishes the job. The complete ledger
// replaces the pending one last (write-apply.ts).
//
// Speed (15,000 files): the ledger keeps size, mtime and inode per file, like git's index, so
// an untouched file is recognised by one lstat and never read; a file whose stat changed is read
// and hashed (hand-edit detection).
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import { io, lstatOrUndefined, writeNew, WRITE_BYTES, type Stat } from './file-io.js';
import { isTreePath, RESERVED_PREFIX, type FileTree } from './tree.js';

/** The ledger's file name: kept from the versions that called the ledger a manifest. */
export const LEDGER_FILE = `${RESERVED_PREFIX}manifest.json`;
const LEDGER_MODE = 0o644;

/** What the ledger records of one path. */
export interface LedgerEntry {
  /** The content's digest (file-digest.ts: a sha256, with trailing zero bytes counted). */
  sha256?: string;
  size?: number;
  /** As the kernel reports it, in milliseconds with the nanoseconds as a fraction (JSON keeps doubles exactly). */
  mtimeMs?: number;
  ino?: number;
  /** A built file's key (tree.ts): with the stat unchanged, its bytes are those this key builds. */
  key?: string;
  /** Pending ledger only: other contents (hashes) the path may hold while a run is under way. */
  accept?: string[];
  /** Pending ledger only: the run creates this file from nothing, so any content is a half-written one. */
  creating?: true;
}
/** The ledger as written on disk. */
interface Ledger { generator: 'kubebake'; version: 2; complete: boolean; files: Record<string, LedgerEntry> }
/** The ledger as read back: its entries, and what a run needs to know of the file itself. */
export interface LoadedLedger { files: Map<string, LedgerEntry>; mtimeMs: number; legacy: boolean; complete: boolean }

export const sameStat = (e: LedgerEntry, st: Stat): boolean => e.sha256 !== undefined && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ino === st.ino;

export const statEntry = (hash: string, st: Stat, key?: string): LedgerEntry => ({ sha256: hash, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, ...(key === undefined ? {} : { key }) });

export function readLedger(dir: string, tree: FileTree, warnings: Diagnostic[]): LoadedLedger | undefined {
  const path = join(dir, LEDGER_FILE);
  const st = lstatOrUndefined(path);
  if (!st) return undefined;
  let raw: unknown; // not a regular file, or not JSON: no ledger, as below
  try {
    raw = st.file ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
  } catch {
    raw = undefined;
  }
  const m = raw as Partial<Ledger> & { files?: unknown };
  if (m?.generator !== 'kubebake' || typeof m.files !== 'object' || m.files === null || Array.isArray(m.files)) {
    warnings.push(warning(msg.ledgerNotOurs(path), path));
    return undefined;
  }
  const files = new Map<string, LedgerEntry>();
  const rejected: string[] = [];
  // The keys decide what a run may replace or delete: only paths kubebake could have written
  // (a path of this tree is one already). The values are only ever compared with ===, so a
  // malformed hash or stat can do no more than make a file look edited: it is then read and hashed.
  const entries = m.files as Record<string, unknown>;
  for (const key in entries) {
    const value = entries[key];
    if (!tree.get(key) && !isTreePath(key)) {
      rejected.push(key);
      continue;
    }
    if (typeof value === 'string') files.set(key, { sha256: value }); // version 1: path → sha256
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) files.set(key, value as LedgerEntry);
  }
  if (rejected.length) {
    const shown = rejected.slice(0, 3).map((k) => JSON.stringify(k)).join(', ');
    warnings.push(warning(msg.ledgerForeignPaths(path, rejected.length, shown), path));
  }
  return { files, mtimeMs: st.mtimeMs, legacy: m.version !== 2, complete: m.version === 2 && m.complete === true && rejected.length === 0 };
}

const warning = (m: Message, file: string): Diagnostic => ({ severity: 'warning', path: [], file, ...m });

/**
 * The ledger as `JSON.stringify(ledger) + "\n"` would write it (readLedger parses it so),
 * written a batch of entries at a time: 70,000 files' ledger held as one object and one string
 * was 40 MiB of a render's peak memory. Written in `staging` and renamed into place.
 */
export function writeLedger(dir: string, staging: string, complete: boolean, files: Iterable<readonly [string, LedgerEntry]>): void {
  const tmp = join(staging, LEDGER_FILE);
  rmSync(tmp, { force: true });
  writeNew(tmp, LEDGER_MODE, ledgerText({ generator: 'kubebake', version: 2, complete }, files));
  io(join(dir, LEDGER_FILE), () => renameSync(tmp, join(dir, LEDGER_FILE)));
}

function* ledgerText(head: Omit<Ledger, 'files'>, files: Iterable<readonly [string, LedgerEntry]>): Iterable<string> {
  let text = `${JSON.stringify(head).slice(0, -1)},"files":{`;
  let first = true;
  for (const [path, entry] of files) {
    text += `${first ? '' : ','}${JSON.stringify(path)}:${JSON.stringify(entry)}`;
    first = false;
    if (text.length >= WRITE_BYTES) {
      yield text;
      text = '';
    }
  }
  yield `${text}}}\n`;
}
