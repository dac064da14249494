import { GENERATED } from '../util/generated.js';
// The one small helper for emitting shell: safe quoting. Shell has no structure library, so
// scripts are templates — but every interpolated value goes through q().

/** Quotes a value for POSIX shell (single quotes; embedded ones closed and escaped). */
export function q(value: string | number): string {
  const s = String(value);
  // A shell word cannot hold NUL (bash drops it, or takes the script for a binary file): the
  // topology's patterns keep it out, so one here is a renderer's bug, not input to quote.
  if (s.includes('\u0000')) throw new Error('a NUL character cannot be quoted for the shell');
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `command <<'TAG'`, then `content` verbatim, then TAG: a quoted here-document, so nothing in it
 * is expanded. Its end is the first line that is exactly TAG (bash(1), "Here Documents": with
 * `<<` the delimiter line is compared as it is), so a content line equal to TAG would end it early
 * and run the rest as commands: TAG is `tag`, or `tag_1`, `tag_2`… — the first that is no line of
 * the content. The content ends up with exactly one final newline.
 */
export function heredoc(command: string, content: string, tag = 'EOF_KUBEBAKE'): string {
  if (content.includes('\u0000')) throw new Error('a NUL character cannot travel in a here-document');
  const body = content.endsWith('\n') ? content.slice(0, -1) : content;
  const lines = new Set(body.split('\n'));
  let end = tag;
  for (let n = 1; lines.has(end); n++) end = `${tag}_${n}`;
  return `${command} <<'${end}'\n${body}\n${end}`;
}

/** A standalone bash script with strict mode (operator scripts: govc, qm, virt-install recipes). */
export function script(purpose: string, body: string): string {
  return `#!/bin/bash
# ${purpose}
# ${GENERATED}
set -euo pipefail
${body.trim()}
`;
}
