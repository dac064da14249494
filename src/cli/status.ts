// `kubebake status`: the cluster's progress as `kubebake serve` sees it, one progress bar per host
// (colours only on a terminal), or its JSON with --json. With --wait it polls until the cluster is
// ready or a host failed (like `cloud-init status --wait`), bounded by --timeout.
import { escapeControl } from '../diagnostics/escape.js';
import { msg } from '../diagnostics/messages.js';
import { INSTALL_LABEL, type ClusterStatus, type HostStatus, type Verdict } from '../serve/state.js';
import { durationSeconds } from '../util/duration.js';
import { EXIT } from './exit.js';
import { say, usageError } from './say.js';
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

/** A field from the server, safe on a terminal: control characters, line breaks and bidi overrides escaped. */
const shown = (text: string): string => escapeControl(text);

/** The terminal text of a status; `color` adds ANSI colours (a TTY only). Every server-given text is escaped. */
export function formatStatus(s: ClusterStatus, color: boolean): string {
  const paint = (code: string, text: string): string => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const phaseColor: Partial<Record<string, string>> = { done: '32', failed: '31', running: '33', booting: '36', 'seed-fetched': '36' };
  const names = s.hosts.map((h) => shown(h.name));
  const width = Math.max(4, ...names.map((n) => n.length));
  const done = s.hosts.filter((h) => h.phase === 'done').length;
  const failed = s.hosts.filter((h) => h.phase === 'failed').length;
  const lines = [`cluster ${shown(s.cluster)}: ${shown(s.verdict)} (${done}/${s.hosts.length} done${failed ? `, ${failed} failed` : ''})`];
  s.hosts.forEach((h, i) => {
    const n = h.steps.length;
    const ended = h.phase === 'done' ? n : h.steps.filter((st) => st.endedAt && st.failedRc === undefined).length;
    const filled = n ? Math.round((Math.min(ended, n) / n) * BAR) : 0;
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}]`;
    const label = shown(phaseLabel(h)).slice(0, 120);
    // Own keys only: a server's "constructor" must not find Object's.
    const c = Object.hasOwn(phaseColor, h.phase) ? phaseColor[h.phase] : undefined;
    const install = (Object.hasOwn(INSTALL_LABEL, h.install) ? INSTALL_LABEL[h.install] : shown(String(h.install))).padEnd(16);
    // Sealed: the host joined, so serve hands its seed (keys, token) to nobody until `serve --reinstall`.
    const sealed = typeof h.sealedAt === 'string' ? '  (seed sealed)' : '';
    lines.push(`  ${names[i]!.padEnd(width)}  ${shown(h.role).padEnd(13)}  ${h.install === 'armed' ? paint('33', install) : install}  ${bar} ${String(ended).padStart(2)}/${n}  ${c ? paint(c, label) : label}${sealed}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The status as JSON for --json: JSON.stringify escapes C0 controls only, so C1 controls (U+009B
 * starts a terminal sequence on its own), DEL, the line separators and bidi overrides are written
 * as \u escapes too. The JSON reads back the same.
 */
export const statusJson = (s: ClusterStatus): string =>
  JSON.stringify(s, null, 2).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export async function runStatus(opts: StatusOptions): Promise<number> {
  const loaded = await loadAndReport({ file: opts.file });
  if (!loaded.topology) return EXIT.invalid;
  const base = opts.server ?? loaded.topology.delivery.server;
  if (!base) return usageError(msg.statusNoServer());
  const timeout = durationSeconds(opts.timeout ?? DEFAULT_WAIT);
  if (timeout === undefined) return usageError(msg.badDuration('--timeout', opts.timeout, '30m'));
  const deadline = Date.now() + timeout * 1000;
  let s: ClusterStatus;
  let said = '';
  for (;;) {
    try {
      s = await fetchStatus(base);
    } catch (e) {
      say(msg.statusUnreachable(base, escapeControl((e as Error).message)));
      return EXIT.invalid;
    }
    if (s.cluster !== loaded.topology.name) {
      say(msg.statusOtherCluster(base, escapeControl(s.cluster), loaded.topology.name));
      return EXIT.invalid;
    }
    if (!opts.wait || s.verdict === 'ready' || s.verdict === 'failed' || Date.now() >= deadline) break;
    // While waiting, the summary line on stderr whenever it changes; the full status comes at the end.
    const summary = formatStatus(s, false).split('\n')[0]!;
    if (summary !== said && !opts.json) process.stderr.write(`waiting: ${summary}\n`);
    said = summary;
    await new Promise((r) => setTimeout(r, Math.min(POLL_SECONDS * 1000, Math.max(0, deadline - Date.now()))));
  }
  process.stdout.write(opts.json ? `${statusJson(s)}\n` : formatStatus(s, process.stdout.isTTY === true && !process.env.NO_COLOR));
  if (s.verdict === 'failed') return EXIT.clusterFailed;
  if (opts.wait && s.verdict !== 'ready') {
    say(msg.statusNotReady(loaded.topology.name, opts.timeout ?? DEFAULT_WAIT));
    return EXIT.waitTimedOut;
  }
  return EXIT.ok;
}

async function fetchStatus(base: string): Promise<ClusterStatus> {
  const res = await fetch(new URL('/api/status', base), { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new Error('the answer is not JSON');
  }
  const problem = statusShapeProblem(body);
  if (problem) throw new Error(`not a kubebake serve status (${problem})`);
  return body as ClusterStatus;
}

const VERDICTS: readonly Verdict[] = ['waiting', 'in-progress', 'ready', 'failed'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'number'): boolean => v === undefined || typeof v === type;

/** What in a server's answer is not the status this command reads (every field it prints or counts), or undefined. */
export function statusShapeProblem(s: unknown): string | undefined {
  if (!isObject(s)) return 'not an object';
  if (typeof s.cluster !== 'string') return 'no cluster name';
  if (!VERDICTS.includes(s.verdict as Verdict)) return 'no known verdict';
  if (!Array.isArray(s.hosts)) return 'no host list';
  for (const [i, h] of s.hosts.entries()) {
    const at = `hosts[${i}]`;
    if (!isObject(h)) return `${at} is not an object`;
    for (const field of ['name', 'role', 'phase', 'install'] as const) if (typeof h[field] !== 'string') return `${at}.${field} is not a string`;
    if (!Number.isInteger(h.stepIndex)) return `${at}.stepIndex is not a whole number`;
    if (!optional(h.reason, 'string')) return `${at}.reason is not a string`;
    if (!Array.isArray(h.steps)) return `${at}.steps is not a list`;
    for (const [k, st] of h.steps.entries()) {
      if (!isObject(st) || typeof st.name !== 'string' || !optional(st.endedAt, 'string') || !optional(st.failedRc, 'number')) return `${at}.steps[${k}] is not a step`;
    }
  }
  return undefined;
}
