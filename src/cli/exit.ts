/**
 * 0 ok, 1 invalid input (or a refused write), 2 usage. `kubebake status` adds what a script
 * waiting on a cluster needs to tell apart: 3 a host failed, 4 --wait ran out of time.
 * `kubebake upgrade apply` means the same by them: 3 a node's action failed (the message names
 * the node, the action and the cause), 4 a bounded wait ran out (a drain a disruption budget
 * blocks, a step that does not end, a node that does not come back Ready).
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, clusterFailed: 3, waitTimedOut: 4, nodeFailed: 3, nodeTimedOut: 4 } as const;

/** Exit codes after SIGINT / SIGTERM: 128 + the signal number, as shells report them. */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
