// Per-host keys for progress reports (`kubebake serve`). Each is derived from the cluster's report
// secret (secrets store, report.secret) and the host's name, so the server needs no per-host
// table and a host that holds its own key cannot compute another's.
import { createHmac } from 'node:crypto';

/** HMAC-SHA256(report secret, "kubebake-report:" + host), hex. */
export function reportKey(reportSecret: string, host: string): string {
  return createHmac('sha256', Buffer.from(reportSecret, 'hex')).update(`kubebake-report:${host}`).digest('hex');
}
