// `kubebake status`: the cluster's progress as `kubebake serve` sees it, one progress bar per host
// (colours only on a terminal), or its JSON with --json. With --wait it polls until the cluster is
// ready or a host failed (like `cloud-init status --wait`), bounded by --timeout.
import { escapeControl } from '../diagnostics/escape.js';
import { INSTALL_LABEL, type ClusterStatus, type HostStatus } from '../serve/state.js';
import { durationSeconds } from '../util/duration.js';
import { EXIT } from './exit.js';
import { loadAndReport } from './validate.js';

export interface StatusOptions { file: string; server?: string; json?: boolean; wait?: boolean; timeout?: string }

/** Seconds between polls under --wait: a host's step takes tens of seconds at least. */
const POLL_SECONDS = 2;
const DEFAULT_WAIT = '60m';

const BAR = 24;

/** What a host is doing, as the live page says it. */
export function phaseLabel(h: HostStatus): string {
  switch (h.phase) {
    case 'seed-fetched':
      return 'seed fetched';
    case 'running':
      return `step ${h.stepIndex}/${h.steps.length}: ${h.steps[h.stepIndex - 1]?.name ?? '?'}`;
    case 'done':
      return h.role === 'load-balancer' ? 'ready' : 'joined';
    case 'failed':
      return `failed: ${h.reason ?? 'no reason given'}`;
    default:
      return h.phase;
  }
}

/** The terminal text of a status; `color` adds ANSI colours (a TTY only). */
export function formatStatus(s: ClusterStatus, color: boolean): string {
  const paint = (code: string, text: string): string => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const phaseColor: Partial<Record<HostStatus['phase'], string>> = { done: '32', failed: '31', running: '33', booting: '36', 'seed-fetched': '36' };
  const width = Math.max(4, ...s.hosts.map((h) => h.name.length));
  const done = s.hosts.filter((h) => h.phase === 'done').length;
  const failed = s.hosts.filter((h) => h.phase === 'failed').length;
  const lines = [`cluster ${s.cluster}: ${s.verdict} (${done}/${s.hosts.length} done${failed ? `, ${failed} failed` : ''})`];
  for (const h of s.hosts) {
    const n = h.steps.length;
    const ended = h.phase === 'done' ? n : h.steps.filter((st) => st.endedAt && st.failedRc === undefined).length;
    const filled = n ? Math.round((ended / n) * BAR) : 0;
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}]`;
    const label = escapeControl(phaseLabel(h)).slice(0, 120);
    const c = phaseColor[h.phase];
    const install = (INSTALL_LABEL[h.install] ?? '?').padEnd(16);
    lines.push(`  ${h.name.padEnd(width)}  ${h.role.padEnd(13)}  ${h.install === 'armed' ? paint('33', install) : install}  ${bar} ${String(ended).padStart(2)}/${n}  ${c ? paint(c, label) : label}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runStatus(opts: StatusOptions): Promise<number> {
  const loaded = await loadAndReport({ file: opts.file });
  if (!loaded.topology) return EXIT.invalid;
  const base = opts.server ?? loaded.topology.delivery.server;
  if (!base) {
    process.stderr.write('kubebake: the topology has no delivery.server: give the server with --server http://ADDR:PORT\n');
    return EXIT.usage;
  }
  const timeout = durationSeconds(opts.timeout ?? DEFAULT_WAIT);
  if (timeout === undefined) {
    process.stderr.write(`kubebake: --timeout ${JSON.stringify(opts.timeout)}: expected a duration such as 90s, 30m or 1h30m\n`);
    return EXIT.usage;
  }
  const deadline = Date.now() + timeout * 1000;
  let s: ClusterStatus;
  let said = '';
  for (;;) {
    try {
      s = await fetchStatus(base);
    } catch (e) {
      process.stderr.write(`kubebake: cannot get the status from ${base}: ${escapeControl((e as Error).message)} (is \`kubebake serve\` running there?)\n`);
      return EXIT.invalid;
    }
    if (s.cluster !== loaded.topology.name) {
      process.stderr.write(`kubebake: ${base} serves cluster ${JSON.stringify(escapeControl(s.cluster))}, not ${loaded.topology.name}\n`);
      return EXIT.invalid;
    }
    if (!opts.wait || s.verdict === 'ready' || s.verdict === 'failed' || Date.now() >= deadline) break;
    // While waiting, the summary line on stderr whenever it changes; the full status comes at the end.
    const summary = formatStatus(s, false).split('\n')[0]!;
    if (summary !== said && !opts.json) process.stderr.write(`waiting: ${summary}\n`);
    said = summary;
    await new Promise((r) => setTimeout(r, Math.min(POLL_SECONDS * 1000, Math.max(0, deadline - Date.now()))));
  }
  process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s, process.stdout.isTTY === true && !process.env.NO_COLOR));
  if (s.verdict === 'failed') return EXIT.clusterFailed;
  if (opts.wait && s.verdict !== 'ready') {
    process.stderr.write(`kubebake: cluster ${loaded.topology.name} is not ready after ${opts.timeout ?? DEFAULT_WAIT} (--timeout)\n`);
    return EXIT.waitTimedOut;
  }
  return EXIT.ok;
}

async function fetchStatus(base: string): Promise<ClusterStatus> {
  const res = await fetch(new URL('/api/status', base), { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const s = (await res.json()) as ClusterStatus;
  if (!s || !Array.isArray(s.hosts) || typeof s.cluster !== 'string') throw new Error('not a kubebake serve status');
  return s;
}
