// Temporary folders for tests, and exact before/after pictures of a folder.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/** Runs `fn` with a fresh temp folder and always removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-test-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Entry { mode: number; sha256?: string; mtimeMs: number; ino: number }

/**
 * Every file and folder under `dir` (relative path → mode, content hash, mtime, inode).
 * Equal snapshots mean nothing was written, replaced, re-moded or added.
 */
export function snapshotDir(dir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const top = statSync(dir);
  out.set('.', { mode: top.mode & 0o7777, mtimeMs: top.mtimeMs, ino: top.ino });
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    const st = statSync(path);
    const entry: Entry = { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, ino: st.ino };
    if (e.isFile()) entry.sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    out.set(relative(dir, path), entry);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** Relative paths of the files under `dir`, sorted; [] when `dir` does not exist (a golden not written yet). */
export function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)))
      .sort();
  } catch {
    return [];
  }
}
