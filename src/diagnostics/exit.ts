/**
 * One set of exit codes for every command: 0 ok, 1 invalid input (or a refused write, or a refused
 * day-2 change: nothing was changed), 2 usage. What a script driving a running cluster needs to
 * tell apart: 3 a host failed (`status`; `upgrade apply`, `node remove`/`replace`: an action on a
 * node failed, the message names the node, the action and the cause), 4 a bounded wait ran out
 * (`status --wait`; a drain a PodDisruptionBudget blocks, an upgrade step that does not end, a node
 * that does not come back Ready). `certs check`: 5 a certificate expires within --warn-days, 6 one
 * has expired. 70 an internal error (a bug), as sysexits.h EX_SOFTWARE.
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, clusterFailed: 3, waitTimedOut: 4, certsExpiring: 5, certsExpired: 6, internal: 70 } as const;

/** Exit codes after SIGINT / SIGTERM: 128 + the signal number, as shells report them. */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
