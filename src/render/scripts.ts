// Steps as shell files. A host's steps share one library file of helpers (each helper once per
// host); a Packer provisioner uploads one file at a time, so its script carries its own helpers.
import { helperClosure, type ShellHelper, type Step } from '../steps/step.js';
import { GENERATED } from '../util/generated.js';

const header = (purpose: string): string => `#!/bin/bash\n# ${purpose}\n# ${GENERATED}\nset -euo pipefail\n`;

/** A script that runs on its own: the step's helpers, then its body (Packer's provisioners). */
export function standaloneScript(step: Step): string {
  const helpers = helperClosure([step]).map((h) => `${h.code}\n`).join('');
  return `${header(step.purpose)}${helpers}${step.body.trim()}\n`;
}

/**
 * A step as a host keeps it: the body alone, which the first-boot runner (steps/firstboot.ts)
 * runs with bash -euo pipefail after the host's helper library. The user-data says once that
 * its files are generated; a step does not repeat it.
 */
export function hostScript(step: Step): string {
  return `# ${step.purpose}\n${step.body.trim()}\n`;
}

/** The runner itself is a script of its own. */
export function runnerScript(step: Step): string {
  return `#!/bin/bash\n# ${step.purpose}\n# ${GENERATED}\nset -euo pipefail\n${step.body.trim()}\n`;
}

/** The host's helper library: every helper its steps use, once. Sourced before each step. */
export function libraryScript(helpers: readonly ShellHelper[]): string {
  return `# Shell helpers of this host's kubebake steps.\n${helpers.map((h) => `${h.code}\n`).join('')}`;
}
