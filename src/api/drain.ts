// Cordon and drain a node through the Eviction API, as `kubectl drain --ignore-daemonsets
// --delete-emptydir-data` does (kubernetes/kubernetes, staging/src/k8s.io/kubectl/pkg/drain/):
// - filters.go: pods of a DaemonSet stay (their controller would put them straight back), mirror
//   pods (static pods, annotation kubernetes.io/config.mirror) stay (the API cannot evict them),
//   finished pods go, pods with emptyDir go (the node is leaving: its local data goes with it),
//   pods with no controller are refused unless asked (nothing would recreate them);
// - drain.go evictPods: every pod is evicted at once; a 429 (a PodDisruptionBudget allows no
//   disruption now) is retried every 5 s; then it waits until each evicted pod is gone (or
//   replaced by one of another UID), all within one deadline.
// Unlike kubectl, the deadline is never infinite, and running out of it names each pod still
// blocked with the API's own reason (the budget, its healthy and desired counts).
import { DiagnosticError, problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import type { KubeClient, PodObject } from './cluster-objects.js';

export interface DrainOptions {
  /** Give up (naming what blocks) at this instant, ms since the epoch. */
  deadline: number;
  /** Evict pods that no controller recreates (kubectl drain --force). */
  evictUnmanaged?: boolean;
  /** Pause after a 429 (kubectl: 5 s) and between checks that an evicted pod is gone (kubectl: 1 s). */
  retryMs?: number;
  pollMs?: number;
  log?: (line: string) => void;
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const finished = (p: PodObject): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const controllerOf = (p: PodObject) => p.metadata.ownerReferences?.find((o) => o.controller);
const podName = (p: PodObject): string => `${p.metadata.namespace}/${p.metadata.name}`;

/** The pods a drain evicts, and the ones it must refuse to (no controller). */
export function podsToEvict(pods: PodObject[], evictUnmanaged: boolean): { evict: PodObject[]; unmanaged: PodObject[] } {
  const evict: PodObject[] = [];
  const unmanaged: PodObject[] = [];
  for (const p of pods) {
    if (p.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) continue;
    const controller = controllerOf(p);
    if (controller?.kind === 'DaemonSet' && !finished(p)) continue;
    if (!controller && !finished(p) && !evictUnmanaged) unmanaged.push(p);
    else evict.push(p);
  }
  return { evict, unmanaged };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Cordons `node`, then evicts its pods; throws a DiagnosticError naming what blocks when it cannot finish by the deadline. */
export async function drainNode(client: KubeClient, node: string, opts: DrainOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const retryMs = opts.retryMs ?? 5000;
  const pollMs = opts.pollMs ?? 1000;
  await client.cordon(node);
  log(`node/${node} cordoned`);
  const { evict, unmanaged } = podsToEvict(await client.podsOn(node), opts.evictUnmanaged ?? false);
  if (unmanaged.length) throw new DiagnosticError([problem(msg.drainUnmanaged(node, unmanaged.map(podName)))]);

  const blocked = new Map<string, string>();
  const left = (): number => opts.deadline - Date.now();
  const one = async (pod: PodObject): Promise<void> => {
    for (;;) {
      log(`evicting pod ${podName(pod)}`);
      const r = await client.evict(pod);
      if (r.kind === 'gone') return;
      if (r.kind === 'evicted') break;
      blocked.set(podName(pod), r.reason);
      if (left() <= 0) return;
      log(`pod ${podName(pod)} not evicted yet (retrying in ${retryMs / 1000} s): ${r.reason}`);
      await sleep(Math.min(retryMs, Math.max(left(), 0)));
      if (left() <= 0) return;
    }
    blocked.delete(podName(pod));
    // Evicted: the kubelet stops it within its grace period; done when the API no longer has it.
    for (;;) {
      const now = await client.pod(pod.metadata.namespace, pod.metadata.name);
      if (!now || (pod.metadata.uid !== undefined && now.metadata.uid !== pod.metadata.uid)) {
        log(`pod ${podName(pod)} evicted`);
        return;
      }
      if (left() <= 0) {
        blocked.set(podName(pod), 'evicted, but still terminating');
        return;
      }
      await sleep(Math.min(pollMs, left()));
    }
  };
  await Promise.all(evict.map(one));
  if (blocked.size) throw new DiagnosticError([problem(msg.drainTimedOut(node, [...blocked].map(([p, why]) => `${p}: ${why}`)))]);
  log(`node/${node} drained`);
}

