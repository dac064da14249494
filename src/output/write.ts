// Writes a FileTree under a folder. Re-rendering our own output is the normal loop and just
// works; a file a person edited by hand (or that kubebake never wrote) is not silently replaced.
//
// Three steps, a module each: the ledger (ledger.ts) is the writer's record of what it wrote, and
// its recovery rule; planning (write-plan.ts) compares the tree with the folder and the ledger,
// reading only; applying (write-apply.ts) stages, writes, renames and removes. This module decides
// between them: conflicts refuse the write, --check stops after planning, and an unchanged
// re-render writes nothing. Once writing has begun the run finishes anyway (a second signal stops
// it at once, and the pending ledger lets the next run finish the job).
import { DiagnosticError, problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { io } from './file-io.js';
import type { FileTree } from './tree.js';
import { applyWrite, ensureRoot, hasLeftovers } from './write-apply.js';
import { planWrite, PRIVATE_DIR_MODE, upToDate } from './write-plan.js';

export interface WriteOptions {
  /** Replace files edited by hand (and remove stale ones) instead of refusing. */
  force?: boolean;
  /** Classify only (for --check): report conflicts, write nothing. */
  dryRun?: boolean;
  /** Checked before anything is changed: once writing has begun, the run finishes. */
  signal?: AbortSignal;
}
export interface WriteResult { written: string[]; unchanged: string[]; removed: string[]; warnings: Diagnostic[] }
/** Refused (hand edits, file-system failures) or stopped by opts.signal (code `output.interrupted`): diagnostics. */
export type WriteOutcome = WriteResult | { diagnostics: Diagnostic[] };
/** The write was stopped by opts.signal before it changed anything: the signal decides the exit code, not these diagnostics. */
export const interrupted = (outcome: WriteOutcome): boolean => 'diagnostics' in outcome && outcome.diagnostics.some((d) => d.code === 'output.interrupted');

/**
 * Checks first, then writes; see ledger.ts for the recovery rule. The caller holds the folder's
 * lock (acquireLock). File-system failures are returned as diagnostics naming path and cause.
 */
export async function writeTree(dir: string, tree: FileTree, opts: WriteOptions = {}): Promise<WriteOutcome> {
  try {
    return await writeTreeOrThrow(dir, tree, opts);
  } catch (e) {
    if (e instanceof DiagnosticError) return { diagnostics: e.diagnostics };
    throw e;
  }
}

async function writeTreeOrThrow(dir: string, tree: FileTree, opts: WriteOptions): Promise<WriteOutcome> {
  const plan = await planWrite(dir, tree, Boolean(opts.force));
  if (plan.conflicts.length) return { diagnostics: [...plan.conflicts, ...plan.warnings] };
  const result: WriteResult = { written: [], unchanged: [], removed: [], warnings: plan.warnings };
  for (const p of plan.planned) (p.action === 'unchanged' ? result.unchanged : result.written).push(p.file.path);
  result.removed = plan.stale.map((s) => s.path);
  if (opts.dryRun) return result;
  if (opts.signal?.aborted) return { diagnostics: [problem(msg.writeInterrupted(dir), { file: dir })] };
  if (upToDate(plan) && !hasLeftovers(dir)) return result;
  await applyWrite(dir, plan);
  return result;
}

/** Creates the output folder for a caller that must lock it before writing. */
export function ensureOutputFolder(dir: string): void {
  io(dir, () => ensureRoot(dir, PRIVATE_DIR_MODE));
}
