// Steps as shell files. A host's steps share one library file of helpers (each helper once per
// host); a Packer provisioner uploads one file at a time, so its script carries its own helpers.
import { helperClosure, type ShellHelper, type Step } from './step.js';
import { GENERATED } from '../util/generated.js';

/**
 * The strict header of a script that runs on its own: bash, one line saying what it does (and,
 * for a script in the render's output, that kubebake generated it), strict mode. Not a file in
 * sh/: the purpose is free text on a comment line, and placeholders there take shell words only
 * (sh/template.ts); the shebang must also be a file's first line, where sh/ files keep their
 * shellcheck directive.
 */
const strictHeader = (purpose: string, generated: boolean): string =>
  `#!/bin/bash\n# ${purpose}\n${generated ? `# ${GENERATED}\n` : ''}set -euo pipefail\n`;

/** A script that runs on its own: the step's helpers, then its body (Packer's provisioners). */
export function standaloneScript(step: Step): string {
  const helpers = helperClosure([step]).map((h) => `${h.code}\n`).join('');
  return `${strictHeader(step.purpose, true)}${helpers}${step.body.trim()}\n`;
}

/**
 * A step as a host keeps it: the body alone, which the first-boot runner (sh/firstboot.sh)
 * runs with bash -euo pipefail after the host's helper library. Its name (the file's, and its
 * line in the step list) says what it is; a purpose line would repeat it in every host's
 * user-data. Comments in the body say why where it matters; Packer's scripts keep the purpose.
 */
export function hostScript(step: Step): string {
  return `${step.body.trim()}\n`;
}

/** The runner itself is a script of its own (in kubebake's own folder: no "generated" line). */
export function runnerScript(step: Step): string {
  return `${strictHeader(step.purpose, false)}${step.body.trim()}\n`;
}

/** The host's helper library: every helper its steps use, once. Sourced before each step. */
export function libraryScript(helpers: readonly ShellHelper[]): string {
  return `# kubebake steps' shell helpers\n${helpers.map((h) => `${h.code}\n`).join('')}`;
}
