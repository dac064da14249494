// Planning a write: the tree compared with what is on disk and with the ledger (ledger.ts), by
// reading only. Each file of the tree is unchanged (same content, whoever wrote it), kubebake's
// to create or replace, or a conflict; each file the ledger lists that the tree no longer has is
// stale, removed unless edited by hand. Nothing is changed here: write-apply.ts carries the plan
// out, and write.ts decides whether it may.
//
// An untouched file is recognised by one lstat against the ledger and never read. A built file
// (tree.ts: seed ISOs, tars) over an existing one is built here first to compare them (and once
// more to write it, if they differ: write-apply.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { pathError } from '../diagnostics/io.js';
import { contentDigests, sha256Hex } from '../util/digest.js';
import { FileDigest, fileDigest } from './file-digest.js';
import { io, lstatOrUndefined, type Stat } from './file-io.js';
import { readLedger, sameStat, type LedgerEntry, type LoadedLedger } from './ledger.js';
import type { Chunks, FileTree, TreeFile } from './tree.js';

/** Folders: readable by others unless something below them is private (user-data, admin.conf). */
export const DIR_MODE = 0o755;
export const PRIVATE_DIR_MODE = 0o700;

export type Action = 'create' | 'replace' | 'unchanged';
/** hash: of the new content; not known yet for a built file the run creates (it is hashed as it is written). */
export interface Planned { file: TreeFile; hash?: string; action: Action; current?: string; st?: Stat }
/** A file to remove: the ledger lists it, the tree no longer has it. current: the digest of what it holds (none for a link --force removes). */
export interface Stale { path: string; current?: string }

export interface WritePlan {
  /** The output folder without a trailing slash: a file's target is `${root}/${path}`. */
  root: string;
  /** The ledger of the previous run, if there is one kubebake wrote. */
  ledger: LoadedLedger | undefined;
  /** Every file of the tree, in its order, and what to do with it. */
  planned: Planned[];
  stale: Stale[];
  /** Listed, no longer produced, already gone (an interrupted run removed it): only its empty folders remain to remove. */
  gone: string[];
  /** The mode each folder must have ('' is the output folder). */
  dirModes: Map<string, number>;
  /** Each folder of dirModes that is a real folder already ('dir') or not there yet ('missing'). */
  dirState: Map<string, 'missing' | 'dir'>;
  /** The mode each existing folder has now. */
  dirModeNow: Map<string, number>;
  /** Hand edits and things in the way: any one of them refuses the whole write. */
  conflicts: Diagnostic[];
  warnings: Diagnostic[];
}

/**
 * Classifies every file of `tree` against the folder `dir` (which need not exist yet); changes
 * nothing. force: files edited by hand (and links) are planned to be replaced, not conflicts.
 */
export async function planWrite(dir: string, tree: FileTree, force: boolean): Promise<WritePlan> {
  const warnings: Diagnostic[] = [];
  const conflicts: Diagnostic[] = [];
  const files = tree.files();
  const rootSt = lstatOrUndefined(dir);
  if (rootSt && !rootSt.dir && !rootSt.link) throw pathError(dir, { code: 'ENOTDIR' }, 'cannot write into');
  const ledger = rootSt ? readLedger(dir, tree, warnings) : undefined;
  const root = dir.endsWith('/') && dir.length > 1 ? dir.slice(0, -1) : dir;
  const known = ledger?.files ?? new Map<string, LedgerEntry>();

  // Folders: every one must be a real folder (never a link out of the output) or not exist yet.
  const dirModes = folderModes(files);
  const dirState = new Map<string, 'missing' | 'dir'>([['', rootSt ? 'dir' : 'missing']]);
  const dirModeNow = new Map<string, number>(rootSt ? [['', rootSt.mode]] : []);
  for (const d of [...dirModes.keys()].filter((d) => d !== '').sort()) {
    const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    if (dirState.get(parent) === 'missing') {
      dirState.set(d, 'missing');
      continue;
    }
    const st = lstatOrUndefined(join(dir, d));
    if (!st) dirState.set(d, 'missing');
    else if (st.dir) {
      dirState.set(d, 'dir');
      dirModeNow.set(d, st.mode);
    } else conflicts.push(notAFolder(join(dir, d), st.link));
  }

  // Files: unchanged (same content, whoever wrote it), ours to replace, or a conflict.
  // As git's index: a file modified in the same clock tick as the ledger may have changed unseen.
  const racy = (e: LedgerEntry): boolean => ledger !== undefined && e.mtimeMs !== undefined && e.mtimeMs >= ledger.mtimeMs;
  const ours = (entry: LedgerEntry | undefined, hash: string): boolean =>
    entry !== undefined && (entry.sha256 === hash || (Array.isArray(entry.accept) && entry.accept.includes(hash)) || entry.creating === true);
  /** The digest of what is on disk now, from the ledger when the stat proves it untouched. */
  const currentHash = (path: string, st: Stat, entry: LedgerEntry | undefined): string => {
    if (entry && sameStat(entry, st) && !racy(entry)) return entry.sha256!;
    const bytes = io(join(dir, path), () => readFileSync(join(dir, path)), 'cannot read');
    const digest = fileDigest(bytes);
    // Ledgers before file-digest.ts hold the plain sha256 of a file that ends in zeros (a seed
    // ISO): that file is still ours, under its new digest.
    if (entry && digest.includes('+') && !ours(entry, digest) && ours(entry, sha256Hex(bytes))) entry.accept = [...(Array.isArray(entry.accept) ? entry.accept : []), digest];
    return digest;
  };

  const planned: Planned[] = [];
  // Contents several files share (a host's user-data in hosts/ and pxe/nocloud/) are hashed once.
  // (Encoding them once too saved nothing measurable, and keeping the bytes of contents that only
  // two files share, until the second was written, cost 70 MiB.)
  const contentHash = contentDigests(fileDigest);
  let i = 0;
  for (const file of files) {
    if (++i % 1000 === 0) await yieldToEventLoop();
    // A built file (a seed ISO) is built here only to compare it with one on disk.
    let hash = file.build === undefined ? contentHash(file.content) : undefined;
    const folder = file.path.includes('/') ? file.path.slice(0, file.path.lastIndexOf('/')) : '';
    if (dirState.get(folder) !== 'dir') {
      planned.push({ file, hash, action: 'create' });
      continue;
    }
    const target = `${root}/${file.path}`; // a tree path needs no normalising (isTreePath)
    const st = lstatOrUndefined(target);
    if (!st) {
      planned.push({ file, hash, action: 'create' });
      continue;
    }
    if (st.dir) {
      conflicts.push(problem(msg.folderWhereFile(target), { file: target }));
      continue;
    }
    if (!st.file) {
      // A link (or a device, a pipe): never written through. --force replaces the link itself.
      if (!force) conflicts.push(problem(msg.notRegularOutput(target, st.link), { file: target }));
      planned.push({ file, hash, action: 'replace', st });
      continue;
    }
    const entry = known.get(file.path);
    // A built file found as it was last written, under the same key: those bytes, not built again.
    if (file.key !== undefined && entry !== undefined && entry.key === file.key && sameStat(entry, st) && !racy(entry)) {
      planned.push({ file, hash: entry.sha256!, action: 'unchanged', current: entry.sha256, st });
      continue;
    }
    const current = currentHash(file.path, st, entry);
    if (file.build !== undefined) hash = await hashChunks(file.build());
    if (current === hash) planned.push({ file, hash, action: 'unchanged', current, st });
    else if (ours(entry, current) || force) planned.push({ file, hash, action: 'replace', current, st });
    else conflicts.push(problem(msg.editedOutput(target, entry !== undefined), { file: target }));
  }

  // Files the ledger lists that this tree no longer has: removed, unless edited by hand.
  const stale: Stale[] = [];
  const gone: string[] = [];
  for (const [path, entry] of known) {
    if (tree.get(path)) continue;
    const target = join(dir, path);
    if (!parentsAreFolders(dir, path)) continue; // a link or file on the way: not ours to follow
    const st = lstatOrUndefined(target);
    if (!st) {
      gone.push(path);
      continue;
    }
    if (!st.file) {
      if (force && st.link) stale.push({ path });
      continue; // a folder or a link where our file was: leave it alone
    }
    const current = currentHash(path, st, entry);
    if (ours(entry, current) || force) stale.push({ path, current });
    else conflicts.push(problem(msg.staleEdited(target), { file: target }));
  }

  return { root, ledger, planned, stale, gone, dirModes, dirState, dirModeNow, conflicts, warnings };
}

/**
 * An unchanged re-render writes nothing at all: every file has its content and mode and the
 * stat the complete ledger records, every folder its mode, and nothing is left to remove. (Nor
 * may an interrupted run have left anything: the caller asks write-apply.ts `hasLeftovers`.)
 */
export function upToDate(plan: WritePlan): boolean {
  const { ledger, planned } = plan;
  if (!ledger?.complete) return false;
  for (const p of planned) {
    if (p.action !== 'unchanged' || !p.st || p.st.mode !== p.file.mode) return false;
    const entry = ledger.files.get(p.file.path) ?? {};
    if (!sameStat(entry, p.st) || entry.key !== p.file.key) return false; // a key not yet recorded is written down
  }
  for (const [d, mode] of plan.dirModes) if (plan.dirModeNow.get(d) !== mode) return false;
  return plan.gone.length === 0 && ledger.files.size === planned.length;
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function hashChunks(chunks: Chunks): Promise<string> {
  const digest = new FileDigest();
  for await (const chunk of chunks) digest.update(chunk);
  return digest.digest();
}

/** Each folder's mode: private when any file below it is not readable by others. */
function folderModes(files: readonly TreeFile[]): Map<string, number> {
  const modes = new Map<string, number>([['', DIR_MODE]]);
  const mark = (folder: string, isPrivate: boolean): void => {
    for (let d = folder; ; d = d.slice(0, Math.max(0, d.lastIndexOf('/')))) {
      const had = modes.get(d);
      if (had === PRIVATE_DIR_MODE || (had === DIR_MODE && !isPrivate)) return; // ancestors already marked
      modes.set(d, isPrivate ? PRIVATE_DIR_MODE : DIR_MODE);
      if (d === '') return;
    }
  };
  for (const f of files) mark(f.path.slice(0, Math.max(0, f.path.lastIndexOf('/'))), (f.mode & 0o004) === 0);
  return modes;
}

/** True when every folder between `dir` and `path` is a real folder (no link, no file). */
function parentsAreFolders(dir: string, path: string): boolean {
  const parts = path.split('/').slice(0, -1);
  for (let k = 1; k <= parts.length; k++) {
    const st = lstatOrUndefined(join(dir, ...parts.slice(0, k)));
    if (!st || !st.dir) return false;
  }
  return true;
}

function notAFolder(path: string, link: boolean): Diagnostic {
  return problem(link ? msg.linkWhereFolder(path) : msg.fileWhereFolder(path), { file: path });
}
