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
export function formatDiagnostic(raw: Diagnostic, source?: string): string {
  const d = redactDiagnostic(raw);
  const out = [`${d.severity}[${formatPath(d.path)}]: ${d.message}`];
  if (d.file !== undefined) {
    const where = d.line !== undefined ? `${d.file}:${d.line}:${d.col ?? 1}` : d.file;
    out.push(`  --> ${where}`);
  }
  const gutter = String(d.line ?? '').length;
  const pad = ' '.repeat(gutter);
  if (source !== undefined && d.line !== undefined) {
    const lineText = source.split(/\r?\n/)[d.line - 1];
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

export function formatDiagnostics(ds: readonly Diagnostic[], source?: string): string {
  const errors = ds.filter((d) => d.severity === 'error').length;
  const warnings = ds.length - errors;
  const body = ds.map((d) => formatDiagnostic(d, source)).join('\n\n');
  const summary = [errors && `${errors} error${errors > 1 ? 's' : ''}`, warnings && `${warnings} warning${warnings > 1 ? 's' : ''}`]
    .filter(Boolean)
    .join(', ');
  return ds.length ? `${body}\n\n${summary}\n` : '';
}
