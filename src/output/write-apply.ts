// Applying a write plan (write-plan.ts): the pending ledger first, then folders, files and
// removals, the complete ledger last (ledger.ts has the recovery rule this order keeps).
//
// New files are created in place, exclusively and without following links; replaced files go
// through a private staging folder and a rename. Every call is synchronous: creating a file puts
// it in the page cache, which takes microseconds, while a thread-pool round trip per open, write
// and close cost more than the system calls themselves. Measured on 20,004 files (63 MiB): 0.4 s
// against 1.3 s through the thread pool, 16 at a time, on tmpfs; 0.8 s against 1.2 s on this
// machine's disk, and 1.0 s against 2.4 s while four `dd` processes wrote to it. Built files
// (tree.ts: seed ISOs, tars) are built as they are written, chunk by chunk, and digested on the
// way (file-digest.ts), their zero chunks left as holes.
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { FileDigest } from './file-digest.js';
import { io, lstatOrUndefined, toStat, writeNew, WRITE_BYTES, type Stat } from './file-io.js';
import { LEDGER_FILE, statEntry, writeLedger, type LedgerEntry } from './ledger.js';
import { isLockSideFile, isLeftOverLockFile } from './lock.js';
import { CREATE_NEW, createdMode, umaskNarrows } from './private-file.js';
import { isZeros, RESERVED_PREFIX, type BuiltFile } from './tree.js';
import { DIR_MODE, type Planned, type Stale, type WritePlan } from './write-plan.js';

const STAGING_PREFIX = `${RESERVED_PREFIX}staging-`;
/** The ledger's fixed-name temp file in kubebake versions before ledger v2. */
const LEGACY_LEDGER_TMP = `${LEDGER_FILE}.tmp`;

/** Carries out `plan` in `dir`; the caller holds the folder's lock. Failures throw DiagnosticError. */
export async function applyWrite(dir: string, plan: WritePlan): Promise<void> {
  const { root, planned, stale, gone, dirModes, dirState, dirModeNow } = plan;
  // From here on the folder changes; an interruption is recovered by the next run.
  ensureRoot(dir, dirModes.get('')!);
  removeLeftovers(dir, plan.ledger?.legacy === true ? planned.map((p) => p.file.path) : []);
  const staging = io(dir, () => mkdtempSync(join(dir, STAGING_PREFIX)));
  try {
    writeLedger(dir, staging, false, pendingEntries(planned, stale));
    // Folders, parents first (a parent sorts before its children).
    for (const d of [...dirModes.keys()].filter((d) => d !== '').sort()) {
      const path = join(dir, d);
      const mode = dirModes.get(d)!;
      if (dirState.get(d) === 'missing') io(path, () => mkdirSync(path, { mode }));
      if ((dirModeNow.get(d) ?? createdMode(mode)) !== mode) io(path, () => chmodSync(path, mode));
    }
    const entries: LedgerEntry[] = new Array(planned.length);
    for (const [n, p] of planned.entries()) {
      const target = `${root}/${p.file.path}`;
      if (p.action === 'unchanged') {
        if (p.st && p.st.mode !== p.file.mode) io(target, () => chmodSync(target, p.file.mode));
        entries[n] = statEntry(p.hash!, p.st!, p.file.key);
        continue;
      }
      const tmp = p.action === 'create' ? target : join(staging, String(n));
      const file = p.file;
      entries[n] = file.build === undefined ? statEntry(p.hash!, writeNew(tmp, file.mode, file.content)) : await writeBuilt(tmp, file);
      if (p.action === 'replace') io(target, () => renameSync(tmp, target));
    }
    for (const s of stale) {
      const target = join(dir, s.path);
      io(target, () => unlinkSync(target), 'cannot remove');
      removeEmptyFolders(dir, s.path);
    }
    for (const path of gone) removeEmptyFolders(dir, path);
    writeLedger(dir, staging, true, planned.map((p, n) => [p.file.path, entries[n]!] as const));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Every content each path may hold while the run is under way (ledger.ts: the recovery rule). */
function* pendingEntries(planned: readonly Planned[], stale: readonly Stale[]): Iterable<readonly [string, LedgerEntry]> {
  for (const p of planned) {
    const e: LedgerEntry = p.hash === undefined ? {} : { sha256: p.hash };
    if (p.action === 'replace' && p.current !== undefined) e.accept = [p.current];
    if (p.action === 'create') e.creating = true;
    if (p.action === 'unchanged' && p.st) Object.assign(e, statEntry(p.hash!, p.st, p.file.key));
    yield [p.file.path, e];
  }
  for (const s of stale) yield [s.path, s.current ? { accept: [s.current] } : { creating: true }];
}

/**
 * writeNew for a built file: chunk by chunk as they are built, digested on the way, small chunks
 * gathered into one write (a tar of 20,000 entries came as 60,000 chunks, one system call each);
 * returns its entry. A zero chunk (tree.ts `zeros`) is not written: the file gets a hole there
 * (at its end, by its final size), which reads back as the same zeros.
 */
async function writeBuilt(path: string, file: BuiltFile): Promise<LedgerEntry> {
  const fd = io(path, () => openSync(path, CREATE_NEW, file.mode));
  try {
    const digest = new FileDigest();
    let size = 0; // bytes built so far
    let written = 0; // bytes written (or gathered) so far: the rest of `size` is a hole
    const gathered: Uint8Array[] = [];
    let gatheredBytes = 0;
    const flush = (): void => {
      if (gatheredBytes === 0) return;
      const data = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, gatheredBytes);
      io(path, () => writeAt(fd, data, written - gatheredBytes));
      gathered.length = 0;
      gatheredBytes = 0;
    };
    for await (const chunk of file.build()) {
      digest.update(chunk);
      if (isZeros(chunk)) flush();
      else {
        gathered.push(chunk);
        gatheredBytes += chunk.length;
        written = size + chunk.length;
        if (gatheredBytes >= WRITE_BYTES) flush();
      }
      size += chunk.length;
    }
    flush();
    if (size > written) io(path, () => ftruncateSync(fd, size));
    if (umaskNarrows(file.mode)) io(path, () => fchmodSync(fd, file.mode));
    return statEntry(digest.digest(), io(path, () => toStat(fstatSync(fd))), file.key);
  } finally {
    closeSync(fd);
  }
}

/** All of `chunk` at `position` (a write may take part of it). */
function writeAt(fd: number, chunk: Uint8Array, position: number): void {
  for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done, position + done);
}

function fixMode(path: string, mode: number, st: Stat | undefined): void {
  const now = st ? st.mode : createdMode(mode);
  if (now !== mode) io(path, () => chmodSync(path, mode));
}

/** Creates the output folder (and missing parents, 0755) if needed; its own mode is set explicitly. */
export function ensureRoot(dir: string, mode: number): void {
  const st = lstatOrUndefined(dir);
  if (!st) {
    const parent = dirname(dir);
    if (parent !== dir && !lstatOrUndefined(parent)) ensureRoot(parent, DIR_MODE);
    io(dir, () => mkdirSync(dir, { mode }));
  }
  if (!st || !st.link) fixMode(dir, mode, st);
}

/** Whether an interrupted run (or a waiter for the lock) left anything removeLeftovers would clear. */
export function hasLeftovers(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n.startsWith(STAGING_PREFIX) || isLockSideFile(n) || n === LEGACY_LEDGER_TMP);
  } catch {
    return true;
  }
}

/**
 * Staging folders of interrupted runs (the caller holds the lock, so none is live), lock files of
 * dead waiters, and the fixed-name temp files of kubebake versions before the ledger v2.
 */
function removeLeftovers(dir: string, legacyPaths: string[]): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(STAGING_PREFIX)) rmSync(join(dir, name), { recursive: true, force: true });
    if (isLeftOverLockFile(name)) rmSync(join(dir, name), { force: true });
  }
  if (names.includes(LEGACY_LEDGER_TMP)) rmSync(join(dir, LEGACY_LEDGER_TMP), { force: true });
  for (const p of legacyPaths) {
    const tmp = join(dir, `${p}.kubebake-tmp`); // the name those versions used
    if (lstatOrUndefined(tmp)) rmSync(tmp, { force: true }); // unlinks a link itself, never its target
  }
}

/** After removing `path`, removes the folders it leaves empty (hosts/<gone-host>/), never `dir` itself. */
function removeEmptyFolders(dir: string, path: string): void {
  const parts = path.split('/').slice(0, -1);
  for (let k = parts.length; k >= 1; k--) {
    try {
      rmdirSync(join(dir, ...parts.slice(0, k)));
    } catch {
      return; // not empty (or gone): stop climbing
    }
  }
}
