// Progress reports from a host's first boot to `kubebake serve` (topology delivery.server). Only a
// host whose topology names a server gets any of this: the report helper in its library, its own
// key in a 0600 file, and cloud-init's phone_home. Without a server not one byte is added.
//
// The hook sits in the helper library, which the runner (sh/firstboot.sh) sources before every
// step with the step's name as $0: it reports the step's start and, from an EXIT trap, its end or
// its failure with the last log lines. So the runner itself is unchanged and the same for every
// host and image.
import { HOST_PATHS } from '../plan/host-paths.js';
import { reportKey } from '../plan/report-keys.js';
import { q } from './shell.js';
import { shellFile } from './sh/template.js';
import type { ShellHelper } from './step.js';

/** The request path a host posts its reports to (the server routes on it). */
export const reportPath = (host: string): string => `/report/${host}`;
/** Where cloud-init's phone_home posts (form data: instance_id, hostname). */
export const phoneHomePath = (host: string): string => `/phone-home/${host}`;

/** Bytes of log a failure report carries at most: 20 lines of 300 characters. */
export const REPORT_LOG_LINES = 20;
export const REPORT_LINE_CHARS = 300;

/** report EVENT [STEP] [RC] and the hook that calls it around each step (sh/report.sh). */
export const REPORT = {
  name: 'report',
  code: shellFile('report.sh', {
    CONF: HOST_PATHS.reportConfig,
    LOG: HOST_PATHS.log,
    LOG_LINES: REPORT_LOG_LINES,
    LINE_CHARS: REPORT_LINE_CHARS,
    STEP_LIST: HOST_PATHS.stepList,
    BOOTED: HOST_PATHS.reportBooted,
  }),
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
