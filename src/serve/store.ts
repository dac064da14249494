// The server's state on disk: one JSON file in out/<cluster>/serve-state/, replaced atomically and
// durably (output/private-file.ts), so a kill or a power loss leaves the old or the new state,
// never half of one. Nothing is written anywhere else.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../output/private-file.js';
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
  await replaceFile(join(dir, STATE_FILE), 0o600, `${JSON.stringify(status, null, 1)}\n`, 'durable');
}
