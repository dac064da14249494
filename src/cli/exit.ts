/**
 * 0 ok, 1 invalid input (or a refused write, or a refused day-2 change), 2 usage. What a script
 * waiting on a cluster needs to tell apart: 3 a host failed (`status`), 4 a bounded wait ran out
 * (`status --wait`, a node's drain). `certs check`: 5 a certificate expires within --warn-days,
 * 6 one has expired.
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, clusterFailed: 3, waitTimedOut: 4, certsExpiring: 5, certsExpired: 6 } as const;
