// Progress reports from a host's first boot to `kubebake serve` (topology delivery.server). Only a
// host whose topology names a server gets any of this: the report helper in its library, its own
// key in a 0600 file, and cloud-init's phone_home. Without a server not one byte is added.
//
// The hook sits in the helper library, which the runner (steps/firstboot.ts) sources before every
// step with the step's name as $0: it reports the step's start and, from an EXIT trap, its end or
// its failure with the last log lines. So the runner itself is unchanged and the same for every
// host and image.
import { HOST_PATHS } from '../plan/host-paths.js';
import { reportKey } from '../plan/report-keys.js';
import { q } from './shell.js';
import type { ShellHelper } from './step.js';

const { reportConfig: CONF, stepList, log: LOG, reportBooted } = HOST_PATHS;

/** The request path a host posts its reports to (the server routes on it). */
export const reportPath = (host: string): string => `/report/${host}`;
/** Where cloud-init's phone_home posts (form data: instance_id, hostname). */
export const phoneHomePath = (host: string): string => `/phone-home/${host}`;

/** Bytes of log a failure report carries at most: 20 lines of 300 characters. */
export const REPORT_LOG_LINES = 20;
export const REPORT_LINE_CHARS = 300;

/**
 * report EVENT [STEP] [RC]: one small POST (HTTP/1.0, text lines key=value, then `log:` and the
 * last log lines on a failure). bash's /dev/tcp, not curl: curl is not on a minimal image before
 * the install steps run. Never blocks or fails the boot: at most 3 s (an unreachable server's
 * connect would otherwise wait out TCP's retries), in a subshell without -e, every error ignored.
 * Only printable ASCII is sent, so the length in characters is the length in bytes.
 */
export const REPORT = {
  name: 'report',
  code: `
report() {
  (
    set +euo pipefail
    . ${CONF} || exit
    b=$(printf 'event=%s\\nstep=%s\\nrc=%s\\n' "$1" "\${2:-}" "\${3:-}"
      [ "$1" != fail ] || { echo log:; grep -v '^[[:space:]]*$' ${LOG} | tail -n ${REPORT_LOG_LINES} | cut -c1-${REPORT_LINE_CHARS}; })
    b=$(LC_ALL=C tr -cd '\\11\\12\\40-\\176' <<<"$b")
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "POST %s HTTP/1.0\\r\\nAuthorization: Bearer %s\\r\\nContent-Type: text/plain\\r\\nContent-Length: %s\\r\\n\\r\\n%s" "$3" "$4" "\${#5}" "$5" >&3 && head -c 9 <&3' - \\
      "$REPORT_ADDR" "$REPORT_PORT" "$REPORT_PATH" "$REPORT_KEY" "$b"
  ) >/dev/null 2>&1 || true
}
if [ -r ${CONF} ] && grep -qxF -- "$0" ${stepList} 2>/dev/null; then
  [ -e ${reportBooted} ] || { report boot; : > ${reportBooted}; }
  report start "$0"
  trap 'rc=$?; if [ $rc = 0 ]; then report end "$0"; else report fail "$0" $rc; fi; exit $rc' EXIT
fi`.trim(),
  uses: [],
} satisfies ShellHelper;

/** host and port of delivery.server (the schema allows only http://name-or-address[:port]). */
export function serverAddress(server: string): { addr: string; port: number } {
  const url = new URL(server);
  return { addr: url.hostname, port: url.port ? Number(url.port) : 80 };
}

/**
 * The host's report settings, sourced by the report helper. The key authenticates this host's
 * reports only (HMAC of the cluster's report secret and the host name): on a worker, which gets
 * no other secret, it can do nothing but report for this host, so it is fine there too.
 */
export function reportConfigText(server: string, reportSecret: string, host: string): string {
  const { addr, port } = serverAddress(server);
  return [
    '# kubebake serve: where this host reports its first boot; the key is this host\'s only.',
    `REPORT_ADDR=${q(addr)}`,
    `REPORT_PORT=${port}`,
    `REPORT_PATH=${q(reportPath(host))}`,
    `REPORT_KEY=${reportKey(reportSecret, host)}`,
    '',
  ].join('\n');
}
