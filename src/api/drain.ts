// Draining a Node through the Eviction API, as `kubectl drain --ignore-daemonsets` does
// (kubernetes/kubectl pkg/drain/drain.go and filters.go): DaemonSet pods stay (their controller
// would put them back at once) and static pods' mirrors cannot be evicted; a pod no controller
// recreates is refused rather than lost; every other pod is evicted, so PodDisruptionBudgets are
// honoured. The API answers 429 while a budget allows no disruption; kubectl retries every 5 s
// without an end, kubebake until its bound, then names the pod and the budget that block.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { upgradeMsg as msg } from '../diagnostics/messages.js';
import { evictPod, getPod, isDiagnostic, podsOnNode, type ApiClient, type PodInfo } from './cluster.js';

/** kubectl drain's pause between evictions a budget refused (pkg/drain/drain.go: "will retry after 5s"). */
export const EVICTION_RETRY_MS = 5_000;

export interface DrainOptions {
  /** The whole drain's bound. */
  timeoutMs: number;
  retryMs?: number;
  /** Progress lines ("evicting pod ns/name"). */
  log?: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type DrainResult = { evicted: string[] } | { problem: Diagnostic; timedOut: boolean };

const key = (p: Pick<PodInfo, 'namespace' | 'name'>): string => `${p.namespace}/${p.name}`;

/** Pods a drain leaves in place: DaemonSet pods and static pods' mirrors. */
export const staysOnNode = (p: PodInfo): boolean => p.controller === 'DaemonSet' || p.mirror;

/** What a 429's Status says blocks the eviction (its DisruptionBudget cause), for the message. */
function budgetOf(body: unknown): string {
  const status = body as { message?: string; details?: { causes?: { reason?: string; message?: string }[] } } | undefined;
  const cause = status?.details?.causes?.find((c) => c.reason === 'DisruptionBudget')?.message;
  return cause ?? status?.message ?? 'a PodDisruptionBudget allows no disruption now';
}

/** Evicts the Node's pods (see above); the Node is expected to be cordoned already. */
export async function drainNode(api: ApiClient, node: string, opts: DrainOptions): Promise<DrainResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retryMs = opts.retryMs ?? EVICTION_RETRY_MS;
  const deadline = now() + opts.timeoutMs;
  const pods = await podsOnNode(api, node);
  if (isDiagnostic(pods)) return { problem: pods, timedOut: false };
  const unmanaged = pods.filter((p) => !staysOnNode(p) && !p.controller && p.phase !== 'Succeeded' && p.phase !== 'Failed');
  if (unmanaged.length) return { problem: { severity: 'error', path: [], ...msg.drainUnmanagedPods(node, unmanaged.map(key)) }, timedOut: false };
  const pending = pods.filter((p) => !staysOnNode(p));
  const evicted: string[] = [];
  // Evict each pod (retrying those a budget protects), then wait until the evicted are gone.
  let blocked: { pod: string; why: string } | undefined;
  while (pending.length) {
    blocked = undefined;
    for (const pod of [...pending]) {
      opts.log?.(`evicting pod ${key(pod)}`);
      const r = await evictPod(api, pod);
      if (isDiagnostic(r)) return { problem: r, timedOut: false };
      if ((r.status >= 200 && r.status < 300) || r.status === 404) {
        pending.splice(pending.indexOf(pod), 1);
        evicted.push(key(pod));
      } else if (r.status === 429) {
        blocked = { pod: key(pod), why: budgetOf(r.body) };
        opts.log?.(`pod ${key(pod)} cannot be evicted yet (${blocked.why}); retrying in ${retryMs / 1000} s`);
      } else {
        const text = (r.body as { message?: string } | undefined)?.message ?? `HTTP ${r.status}`;
        return { problem: { severity: 'error', path: [], ...msg.evictionRefused(node, key(pod), r.status, text) }, timedOut: false };
      }
    }
    if (!pending.length) break;
    if (now() + retryMs > deadline) {
      return { problem: { severity: 'error', path: [], ...msg.drainBlocked(node, blocked!.pod, blocked!.why, opts.timeoutMs / 1000) }, timedOut: true };
    }
    await sleep(retryMs);
  }
  // An evicted pod terminates gracefully; the node is drained once they are gone (or replaced by a new pod of the same name).
  for (const name of evicted) {
    const [ns, pod] = name.split('/') as [string, string];
    const uid = pods.find((p) => key(p) === name)!.uid;
    for (;;) {
      const p = await getPod(api, ns, pod);
      if (isDiagnostic(p)) return { problem: p, timedOut: false };
      if (!p || p.uid !== uid) break;
      if (now() + 1000 > deadline) return { problem: { severity: 'error', path: [], ...msg.podNotGone(node, name, opts.timeoutMs / 1000) }, timedOut: true };
      await sleep(1000);
    }
  }
  return { evicted };
}
