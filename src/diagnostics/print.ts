import { formatPath, type Diagnostic } from './diagnostic.js';
import { escapeControl, safeMessage, safeSourceLine } from './escape.js';

/** The diagnostic as it may be shown: input-derived text escaped, key material hidden (also for --json). */
export function redactDiagnostic(d: Diagnostic): Diagnostic {
  return {
    ...d,
    message: safeMessage(d.message),
    ...(d.hint !== undefined ? { hint: safeMessage(d.hint) } : {}),
    ...(d.file !== undefined ? { file: escapeControl(d.file) } : {}),
    path: d.path.map((p) => (typeof p === 'string' ? safeMessage(p) : p)),
  };
}

/**
 * Prints a diagnostic like a compiler (after Butane / rustc):
 *   error[hosts[2].ip]: 10.3.0.5 is outside the node subnet 10.2.47.0/24
 *     --> cluster.yaml:14:9
 *      |
 *   14 |     ip: 10.3.0.5
 *      |         ^^^^^^^^
 *      = hint: ...
 */
export function formatDiagnostic(raw: Diagnostic, source?: string | readonly string[]): string {
  const d = redactDiagnostic(raw);
  const out = [`${d.severity}[${formatPath(d.path)}]: ${d.message}`];
  if (d.file !== undefined) {
    const where = d.line !== undefined ? `${d.file}:${d.line}:${d.col ?? 1}` : d.file;
    out.push(`  --> ${where}`);
  }
  const gutter = String(d.line ?? '').length;
  const pad = ' '.repeat(gutter);
  if (source !== undefined && d.line !== undefined) {
    const lineText = (typeof source === 'string' ? source.split(/\r?\n/) : source)[d.line - 1];
    const text = lineText === undefined ? undefined : safeSourceLine(lineText);
    if (lineText !== undefined && text === undefined) out.push(` ${pad} |`, ` ${d.line} | (line not shown: it looks like private key material)`);
    else if (text !== undefined && text.length <= 500) {
      const col = Math.max(1, d.col ?? 1);
      const width = Math.max(1, Math.min(d.length ?? 1, text.length - col + 1, 80));
      out.push(` ${pad} |`, ` ${d.line} | ${text}`, ` ${pad} | ${' '.repeat(col - 1)}${'^'.repeat(width)}`);
    }
  }
  if (d.hint) out.push(` ${pad} = hint: ${d.hint}`);
  return out.join('\n');
}

/** Diagnostics of one kind shown in full; the rest of that kind are counted on one line. */
export const SHOWN_PER_KIND = 5;

/**
 * All diagnostics, each kind (severity and code) at most SHOWN_PER_KIND times in full: a 5,000-host
 * topology whose hosts all lack a MAC says so five times and counts the rest, instead of printing
 * 35,000 lines. --json keeps every one.
 */
export function formatDiagnostics(ds: readonly Diagnostic[], source?: string): string {
  const lines = source?.split(/\r?\n/);
  const errors = ds.filter((d) => d.severity === 'error').length;
  const warnings = ds.length - errors;
  const kinds = new Map<string, Diagnostic[]>();
  for (const d of ds) {
    const kind = `${d.severity}\0${d.code}`;
    const group = kinds.get(kind);
    if (group) group.push(d);
    else kinds.set(kind, [d]);
  }
  const parts: string[] = [];
  const shown = new Set<Diagnostic>();
  for (const group of kinds.values()) for (const d of group.slice(0, SHOWN_PER_KIND)) shown.add(d);
  const counted = new Set<string>();
  for (const d of ds) {
    if (shown.has(d)) {
      parts.push(formatDiagnostic(d, lines));
      continue;
    }
    const kind = `${d.severity}\0${d.code}`;
    if (counted.has(kind)) continue;
    counted.add(kind);
    const rest = kinds.get(kind)!.slice(SHOWN_PER_KIND);
    const where = rest.slice(0, 3).map((r) => escapeControl(formatPath(r.path))).join(', ');
    parts.push(`${d.severity}[${d.code}]: ${rest.length} more like the above (${where}${rest.length > 3 ? ', …' : ''}); --json lists every one`);
  }
  const summary = [errors && `${errors} error${errors > 1 ? 's' : ''}`, warnings && `${warnings} warning${warnings > 1 ? 's' : ''}`]
    .filter(Boolean)
    .join(', ');
  return ds.length ? `${parts.join('\n\n')}\n\n${summary}\n` : '';
}
