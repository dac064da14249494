// The output writer's file-system calls, shared by planning a write (write-plan.ts), applying it
// (write-apply.ts) and the ledger (ledger.ts): a stat kept small, an lstat for which a missing
// path is an answer, failures as diagnostics naming the path, and creating a file of the tree.
import { lstatSync, type Stats } from 'node:fs';
import { DiagnosticError } from '../diagnostics/diagnostic.js';
import { isErrno, pathError } from '../diagnostics/io.js';
import { createFileSync } from './private-file.js';

/**
 * What the writer keeps of a stat: a few numbers. Thousands of full Stats objects kept alive
 * while the rendered tree fills the heap made garbage collection the largest cost of a re-render.
 */
export interface Stat { size: number; mtimeMs: number; ino: number; mode: number; file: boolean; dir: boolean; link: boolean }
export const toStat = (s: Stats): Stat => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, mode: s.mode & 0o7777, file: s.isFile(), dir: s.isDirectory(), link: s.isSymbolicLink() });

export function lstatOrUndefined(path: string): Stat | undefined {
  try {
    const s = lstatSync(path, { throwIfNoEntry: false });
    return s && toStat(s);
  } catch (e) {
    if (isErrno(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
    throw pathError(path, e, 'cannot read');
  }
}

/** Runs a file operation; a failure becomes a DiagnosticError naming `path`. */
export function io<T>(path: string, fn: () => T, doing = 'cannot write'): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof DiagnosticError ? e : pathError(path, e, doing);
  }
}

/**
 * Writes a file that must not exist yet, with exactly `mode`; returns its stat. `content` may come
 * as pieces (the ledger). Rebuildable: not synced (private-file.ts says why).
 */
export const writeNew = (path: string, mode: number, content: string | Uint8Array | Iterable<string>): Stat =>
  io(path, () => toStat(createFileSync(path, mode, content, 'rebuildable')));

/** Small chunks (a tar's 512-byte headers and paddings) are gathered into writes of about this size. */
export const WRITE_BYTES = 64 * 1024;
