// One error channel. Errors are data: a pure stage (load, rules, plan, render, verify) returns
// Diagnostics instead of throwing, and the CLI prints them all at once, compiler style. Code that
// does I/O (files, the network, processes) and cannot go on throws a DiagnosticError carrying
// those same Diagnostics; the CLI catches it once, at its edge (cli/program.ts main), prints it
// like any other diagnostic and exits with its exit code. A command that tells kinds of failure
// apart (a busy lock, an interrupted write) does so by the diagnostic's `code`, never by another
// Error class. Every message comes from the catalogue (messages.ts), every exit code is named
// (exit.ts). Anything else thrown is a bug: "internal error", EXIT.internal.
// test/source/error-channel.test.ts holds src/ to this.
import { EXIT } from './exit.js';
import type { Message } from './messages.js';

export type Severity = 'error' | 'warning';
/** A field path into the topology, e.g. ['hosts', 2, 'ip']. */
export type FieldPath = readonly (string | number)[];

export interface Diagnostic {
  severity: Severity;
  /** Stable identifier, e.g. `etcd-quorum`, `schema.enum`; tests and overrides refer to it. */
  code: string;
  message: string;
  hint?: string;
  path: FieldPath;
  file?: string;
  line?: number;
  col?: number;
  /** Length of the source span to underline. */
  length?: number;
}

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out || '(document)';
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** An error diagnostic from a catalogue message (messages.ts), positioned at `where`. */
export const problem = (m: Message, where: Partial<Pick<Diagnostic, 'file' | 'path'>> = {}): Diagnostic => ({ severity: 'error', path: [], ...where, ...m });

/**
 * The one thing src/ throws: diagnostics from code doing I/O that cannot go on, caught by its
 * caller or, at the latest, by the CLI's edge, which prints them and exits with `exitCode`.
 */
export class DiagnosticError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly exitCode: number = EXIT.invalid,
    /** The error underneath (a failed system call), for callers that must quote it. */
    options?: { cause?: unknown },
  ) {
    super(diagnostics.map((d) => d.message).join('; '), options);
  }
}

/** The diagnostic of `code` a DiagnosticError carries, when `e` is one: how callers tell kinds of failure apart. */
export const diagnosticOf = (e: unknown, code: string): Diagnostic | undefined =>
  e instanceof DiagnosticError ? e.diagnostics.find((d) => d.code === code) : undefined;

/** Bounded Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Words operators bring from other tools and older docs (SEED.md says "master") that no edit
 * distance would connect to ours.
 */
const SYNONYMS: Record<string, string> = {
  master: 'control-plane',
  controller: 'control-plane',
  node: 'worker',
  minion: 'worker',
  lb: 'load-balancer',
  haproxy: 'load-balancer',
  loadbalancer: 'load-balancer',
};

export function didYouMean(value: string, candidates: readonly string[]): string | undefined {
  const synonym = SYNONYMS[value.toLowerCase()];
  if (synonym && candidates.includes(synonym)) return synonym;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(value.toLowerCase(), c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return best !== undefined && bestDist <= Math.max(1, Math.min(3, Math.floor(best.length / 3))) ? best : undefined;
}
