// What `kubebake upgrade` reads and changes through the cluster's API, over the one client of the
// day-2 commands (cluster-objects.ts: the stored admin certificate, the cluster CA as the only
// trust root): Node versions and readiness, the kube-apiserver static pods, kubeadm's
// configuration. Each call answers with the object or a Diagnostic naming the server and what it
// tried; nothing here throws.
import { DiagnosticError, type Diagnostic } from '../diagnostics/diagnostic.js';
import { isReady, type KubeClient, type NodeObject, type PodObject } from './cluster-objects.js';

/** The part of a core/v1 Node an upgrade reads. */
export interface NodeInfo {
  name: string;
  /** status.nodeInfo.kubeletVersion, e.g. "v1.37.2". */
  kubeletVersion: string;
  /** The Ready condition is True. */
  ready: boolean;
  /** spec.unschedulable (cordoned). */
  unschedulable: boolean;
  labels: Record<string, string>;
}

/** The part of a core/v1 Pod an upgrade reads. */
export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** The first container's image (a control plane component's version is its tag). */
  image?: string;
}

export const isDiagnostic = (x: unknown): x is Diagnostic => typeof x === 'object' && x !== null && 'severity' in x && 'code' in x;

/** The client's refusals and network problems as a Diagnostic. */
async function attempt<T>(f: () => Promise<T>): Promise<T | Diagnostic> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof DiagnosticError && e.diagnostics[0]) return e.diagnostics[0];
    throw e;
  }
}

const nodeInfo = (n: NodeObject): NodeInfo => ({
  name: n.metadata.name,
  kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? '',
  ready: isReady(n),
  unschedulable: n.spec?.unschedulable === true,
  labels: n.metadata.labels ?? {},
});

export async function listNodes(api: KubeClient): Promise<NodeInfo[] | Diagnostic> {
  return attempt(async () => (await api.nodes()).map(nodeInfo));
}

/** The Node, or undefined when it does not exist. */
export async function getNode(api: KubeClient, name: string): Promise<NodeInfo | undefined | Diagnostic> {
  return attempt(async () => {
    const n = await api.node(name);
    return n && nodeInfo(n);
  });
}

/** `kubectl cordon` / `uncordon` (cluster-objects.ts). */
export async function setUnschedulable(api: KubeClient, name: string, unschedulable: boolean): Promise<Diagnostic | undefined> {
  const r = await attempt(() => api.cordon(name, unschedulable));
  return isDiagnostic(r) ? r : undefined;
}

const podInfo = (p: PodObject): PodInfo => ({
  namespace: p.metadata.namespace,
  name: p.metadata.name,
  labels: p.metadata.labels ?? {},
  image: p.spec?.containers?.[0]?.image,
});

/** Pods of a namespace matching a label selector ("component=kube-apiserver"). */
export async function podsWithLabel(api: KubeClient, namespace: string, selector: string): Promise<PodInfo[] | Diagnostic> {
  return attempt(async () => (await api.podsWithLabel(namespace, selector)).map(podInfo));
}

/** kubeadm's ClusterConfiguration (data.ClusterConfiguration of kube-system/kubeadm-config), as YAML text. */
export async function kubeadmClusterConfiguration(api: KubeClient): Promise<string | undefined | Diagnostic> {
  return attempt(() => api.kubeadmClusterConfiguration());
}
