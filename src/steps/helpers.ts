// Shell functions shared by steps. Each is defined once per host (in the library file every step
// sources) and once per standalone Packer script that uses it. The code and what each helper does
// are in its file, sh/<name>.sh.
import { shellFile } from './sh/template.js';
import type { ShellHelper } from './step.js';

const helper = (name: string, code: string, uses: ShellHelper[] = []): ShellHelper => ({ name, code, uses });

/** apt_problem OUTPUT: what an operator can act on in apt-get's messages (sh/apt_problem.sh). */
export const APT_PROBLEM = helper('apt_problem', shellFile('apt_problem.sh'));

/** apt_get ARGS...: apt-get that waits for the lock, retries what a retry can fix and says why it gave up (sh/apt_get.sh). */
export const APT_GET = helper('apt_get', shellFile('apt_get.sh'), [APT_PROBLEM]);

/** apt_source NAME URL: an apt source signed by its own keyring (sh/apt_source.sh). */
export const APT_SOURCE = helper('apt_source', shellFile('apt_source.sh'));

/** pick_version PACKAGE VERSION: the apt version of PACKAGE for an upstream version or minor (sh/pick_version.sh). */
export const PICK_VERSION = helper('pick_version', shellFile('pick_version.sh'));

/** retry CMD...: up to 10 tries, 5 s more between each (sh/retry.sh). */
export const RETRY = helper('retry', shellFile('retry.sh'));

/** wait_for BUDGET WHAT CMD...: retries CMD with backoff within BUDGET seconds (sh/wait_for.sh). */
export const WAIT_FOR = helper('wait_for', shellFile('wait_for.sh'));
