// The server's state on disk: one JSON file in out/<cluster>/serve-state/, replaced atomically
// (written beside it under a temp name, synced, renamed), so a kill leaves the old or the new
// state, never half of one. Nothing is written anywhere else.
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterStatus } from './state.js';

export const STATE_FILE = 'state.json';

export async function readState(dir: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as unknown;
  } catch {
    return undefined; // none yet, or damaged: start from what the plan says
  }
}

export async function writeState(dir: string, status: ClusterStatus): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${STATE_FILE}.${process.pid}.tmp`);
  // Not through a link someone left at the temp name.
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(status, null, 1)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, join(dir, STATE_FILE));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
