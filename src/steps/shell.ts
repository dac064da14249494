import { GENERATED } from '../util/generated.js';
// The one small helper for emitting shell: safe quoting. Shell has no structure library, so
// scripts are templates — but every interpolated value goes through q().

/** Quotes a value for POSIX shell (single quotes; embedded ones closed and escaped). */
export function q(value: string | number): string {
  const s = String(value);
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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
