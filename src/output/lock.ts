// One render per output folder at a time. Two renders into the same cluster folder would each
// believe their ledger, and the last rename wins file by file: a mixed tree.
//
// The lock is a file created in one step (a complete temp file hard-linked to the lock name, so
// it is never seen half-written) that names its owner: pid, host, start time and a nonce. A lock
// whose process is gone on this host is stale (a SIGKILLed render) and is taken over; taking it
// over renames it to a private name first and checks it is still the stale one, so two waiters
// that both saw it stale cannot remove each other's fresh lock.
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DiagnosticError, problem } from '../diagnostics/diagnostic.js';
import { pathError } from '../diagnostics/io.js';
import { msg, type LockOwner, type Message } from '../diagnostics/messages.js';
import { createFile } from './private-file.js';
import { RESERVED_PREFIX } from './tree.js';

export const LOCK_FILE = `${RESERVED_PREFIX}lock`;
/** How long a render waits for another one into the same folder; overridable for scripts. */
export const LOCK_WAIT_ENV = 'KUBEBAKE_LOCK_WAIT_SECONDS';
const DEFAULT_WAIT_SECONDS = 120;

interface Owner extends LockOwner { nonce: string }

export interface LockOptions {
  /** Seconds to wait for a live owner; default $KUBEBAKE_LOCK_WAIT_SECONDS or 120. */
  waitSeconds?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: (owner: Owner | undefined) => void;
  /** What to say when the lock stays busy (code output.locked); default: another render writes into the folder. */
  busy?: (lockFile: string, owner: LockOwner | undefined) => Message;
}

/** Whether a process of this pid runs on this host. */
export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
};

// The lock's side files, named here only: a waiter's candidate (its pid and nonce), and a stale
// lock moved aside during a takeover.
const candidateName = (pid: number, nonce: string): string => `${LOCK_FILE}.${pid}.${nonce}`;
const STALE_ASIDE = `${LOCK_FILE}.stale.`;
const asideName = (): string => `${STALE_ASIDE}${randomBytes(8).toString('hex')}`;
const candidatePid = (name: string): number | undefined => {
  const [pid, nonce, ...rest] = name.startsWith(`${LOCK_FILE}.`) ? name.slice(LOCK_FILE.length + 1).split('.') : [];
  return rest.length === 0 && /^\d+$/.test(pid ?? '') && /^[0-9a-f]+$/.test(nonce ?? '') ? Number(pid) : undefined;
};

/** A side file of the lock (a waiter's candidate, a stale lock moved aside), live or not. */
export const isLockSideFile = (name: string): boolean => name.startsWith(`${LOCK_FILE}.`);

/**
 * A side file nobody will remove: the candidate of a waiter that died, or a stale lock whose
 * takeover was killed. Only the lock's holder may remove them (no takeover can be under way then).
 */
export function isLeftOverLockFile(name: string): boolean {
  if (name.startsWith(STALE_ASIDE)) return true;
  const pid = candidatePid(name);
  return pid !== undefined && !pidAlive(pid);
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await readFile(path, 'utf8')) as Owner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' && typeof o.nonce === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock of `dir` (which must exist). Returns the release function; throws a
 * DiagnosticError: code output.locked when another kubebake still holds it after waiting, an
 * io.* diagnostic ("cannot lock <dir>") when the lock file cannot be made.
 */
export async function acquireLock(dir: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  const lockFile = join(dir, LOCK_FILE);
  const envWait = Number(process.env[LOCK_WAIT_ENV]);
  const waitMs = 1000 * (opts.waitSeconds ?? (Number.isFinite(envWait) && envWait >= 0 ? envWait : DEFAULT_WAIT_SECONDS));
  const deadline = Date.now() + waitMs;
  const me: Owner = { pid: process.pid, host: hostname(), started: new Date().toISOString(), nonce: randomBytes(12).toString('hex') };
  const candidate = join(dir, candidateName(me.pid, me.nonce));
  try {
    await createFile(candidate, 0o600, JSON.stringify(me) + '\n', 'rebuildable');
  } catch (e) {
    throw pathError(dir, e, 'cannot lock');
  }
  let waited = false;
  try {
    for (;;) {
      try {
        await link(candidate, lockFile);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw pathError(dir, e, 'cannot lock');
      }
      const owner = await readOwner(lockFile);
      if (owner && owner.host === me.host && !pidAlive(owner.pid) && (await takeOverStale(dir, lockFile, owner))) continue;
      if (Date.now() >= deadline) {
        const busy = opts.busy ?? ((f, o) => msg.lockHeld(f, o, LOCK_WAIT_ENV));
        throw new DiagnosticError([problem(busy(lockFile, owner), { file: lockFile })]);
      }
      if (!waited) opts.onWait?.(owner);
      waited = true;
      await sleep(100 + Math.random() * 100);
    }
  } finally {
    await unlink(candidate).catch(() => undefined);
  }
  return async () => {
    const owner = await readOwner(lockFile);
    if (owner?.nonce === me.nonce) await unlink(lockFile).catch(() => undefined);
  };
}

/** Removes a dead owner's lock; false when someone else got there first. */
async function takeOverStale(dir: string, lockFile: string, stale: Owner): Promise<boolean> {
  const aside = join(dir, asideName());
  try {
    await rename(lockFile, aside);
  } catch {
    return false; // gone already: simply try again
  }
  const got = await readOwner(aside);
  if (got?.nonce === stale.nonce) {
    await unlink(aside).catch(() => undefined);
    return true;
  }
  // We moved a live, fresh lock: put it back unless a third process has locked meanwhile.
  await link(aside, lockFile).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return false;
}
