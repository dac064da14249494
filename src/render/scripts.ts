// Steps as shell files. A host's steps share one library file of helpers (each helper once per
// host); a Packer provisioner uploads one file at a time, so its script carries its own helpers.
import { HOST_PATHS } from '../plan/host-paths.js';
import { helperClosure, type ShellHelper, type Step } from '../steps/step.js';
import { GENERATED } from '../util/generated.js';

const header = (purpose: string): string => `#!/bin/bash\n# ${purpose}\n# ${GENERATED}\nset -euo pipefail\n`;

/** A script that runs on its own: the step's helpers, then its body (Packer's provisioners). */
export function standaloneScript(step: Step): string {
  const helpers = helperClosure([step]).map((h) => `${h.code}\n`).join('');
  return `${header(step.purpose)}${helpers}${step.body.trim()}\n`;
}

/**
 * A step as first boot runs it, sourcing the host's library (see libraryScript). The host's
 * user-data says once that its files are generated; each script does not repeat it.
 */
export function hostScript(step: Step): string {
  const source = step.helpers.length ? `. ${HOST_PATHS.library}\n` : '';
  return `#!/bin/bash\n# ${step.purpose}\nset -euo pipefail\n${source}${step.body.trim()}\n`;
}

/** The host's helper library: every helper its steps use, once. Sourced, never run. */
export function libraryScript(helpers: readonly ShellHelper[]): string {
  return `# Shell helpers the kubebake steps of this host source.\n# ${GENERATED}\n${helpers.map((h) => `${h.code}\n`).join('')}`;
}
