// Changes to the store, made in two steps so a failed or interrupted render leaves it as it was:
// `stage` writes the new files under temp names, `commit` renames them into place (the CLI commits
// only after the output was written), `discard` removes them. Every file goes through the one
// private-file writer, durable: the store is the only copy of the cluster's identity.
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createFile, renameIntoPlace, syncFolder, tempBeside, TEMP_MARK } from '../output/private-file.js';
import { STORE_FOLDERS } from '../plan/secrets.js';
import { DIR_MODE, FILE_MODE } from './safe-read.js';

/** Changes a render would make to the store, applied only by `commit`. */
export interface PendingSecrets {
  /** Files that change, relative to the store (empty: nothing to commit). */
  changes: string[];
  /** Writes the changes beside their targets (temp names); nothing is replaced yet. */
  stage(): Promise<void>;
  /** Renames the staged changes into place (stages first if needed). */
  commit(): Promise<void>;
  /** Removes staged files; the store stays as it was. */
  discard(): Promise<void>;
}

/** Whether a name in or beside the store is a temp name of ours (of this version or an earlier one). */
export const isTempName = (name: string): boolean => name.includes(TEMP_MARK);

/** Temp files and folders of runs that were interrupted (the caller holds the output lock). */
async function removeStaleTemps(dir: string): Promise<void> {
  const parent = dirname(dir);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (name.startsWith(`.${basename(dir)}${TEMP_MARK}-`)) await rm(join(parent, name), { recursive: true, force: true });
  }
  for (const folder of STORE_FOLDERS) {
    for (const name of await readdir(join(dir, folder)).catch(() => [] as string[])) {
      if (isTempName(name)) await rm(join(dir, folder, name), { force: true });
    }
  }
}

/**
 * A whole new store: written into a private sibling folder, then renamed into place in one step,
 * so an interrupted run leaves either no store or a complete one, never a partial store that
 * would read as damaged. `files`: path relative to the store → text, in the order to write them.
 */
export function newStore(dir: string, files: ReadonlyMap<string, string>): PendingSecrets {
  let tmp: string | undefined;
  const discard = async (): Promise<void> => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    tmp = undefined;
  };
  const stage = async (): Promise<void> => {
    if (tmp) return;
    await removeStaleTemps(dir);
    await mkdir(dirname(dir), { recursive: true });
    tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}${TEMP_MARK}-`));
    try {
      for (const folder of STORE_FOLDERS) {
        await mkdir(join(tmp, folder), { recursive: true, mode: DIR_MODE });
        await chmod(join(tmp, folder), DIR_MODE); // mkdtemp and the umask decide otherwise
      }
      for (const [rel, text] of files) await createFile(join(tmp, rel), FILE_MODE, text, 'durable');
      for (const folder of [...STORE_FOLDERS].reverse()) await syncFolder(join(tmp, folder));
    } catch (e) {
      await discard();
      throw e;
    }
  };
  const commit = async (): Promise<void> => {
    await stage();
    // An empty folder left by someone is replaced (rename only replaces an empty one).
    await renameIntoPlace(tmp!, dir, 'durable');
    tmp = undefined;
  };
  return { changes: [...files.keys()], stage, commit, discard };
}

/** Changed files of an existing store: staged under unpredictable temp names beside their targets, renamed over them on commit. */
export function changedFiles(dir: string, files: ReadonlyMap<string, string>): PendingSecrets {
  let staged: Map<string, string> | undefined;
  const discard = async (): Promise<void> => {
    for (const tmp of staged?.values() ?? []) await rm(tmp, { force: true });
    staged = undefined;
  };
  const stage = async (): Promise<void> => {
    if (staged || files.size === 0) return;
    await removeStaleTemps(dir);
    staged = new Map();
    try {
      for (const [rel, text] of files) {
        const tmp = tempBeside(join(dir, rel));
        staged.set(rel, tmp);
        await createFile(tmp, FILE_MODE, text, 'durable');
      }
    } catch (e) {
      await discard();
      throw e;
    }
  };
  const commit = async (): Promise<void> => {
    if (files.size === 0) return removeStaleTemps(dir); // what a killed run left behind
    await stage();
    for (const [rel, tmp] of staged!) await renameIntoPlace(tmp, join(dir, rel), 'durable');
    staged = undefined;
  };
  return { changes: [...files.keys()], stage, commit, discard };
}
