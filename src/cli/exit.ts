/**
 * 0 ok, 1 invalid input (or a refused write), 2 usage. `kubebake status` adds what a script
 * waiting on a cluster needs to tell apart: 3 a host failed, 4 --wait ran out of time. 70 an
 * internal error (a bug), as sysexits.h EX_SOFTWARE.
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, clusterFailed: 3, waitTimedOut: 4, internal: 70 } as const;
