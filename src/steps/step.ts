/**
 * A shell function several steps call. A host gets each helper once, in its library file; a
 * standalone script (a Packer provisioner) carries the helpers it uses.
 */
export interface ShellHelper {
  name: string;
  code: string;
  /** Helpers this one calls. */
  uses?: readonly ShellHelper[];
}

/**
 * A shell step run on a host: by first boot, and (for image steps) by Packer. The same object is
 * serialised for both, so "the image runs the first-boot steps" holds by construction.
 */
export interface Step {
  /** File name stem on the host: /usr/local/lib/kubebake/<name>.sh */
  name: string;
  /** One line: what the step does, for the script's header. */
  purpose: string;
  /** The script body, run under `set -euo pipefail` after the helpers are defined. */
  body: string;
  helpers: readonly ShellHelper[];
}

/** The helpers a set of steps needs, each once, dependencies before their users, in first-use order. */
export function helperClosure(steps: readonly { helpers: readonly ShellHelper[] }[]): ShellHelper[] {
  const out: ShellHelper[] = [];
  const seen = new Set<ShellHelper>();
  const visit = (h: ShellHelper): void => {
    if (seen.has(h)) return;
    seen.add(h);
    for (const dep of h.uses ?? []) visit(dep);
    out.push(h);
  };
  for (const s of steps) for (const h of s.helpers) visit(h);
  return out;
}
