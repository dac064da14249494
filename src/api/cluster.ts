// Typed calls to a running cluster's API (over kube-api.ts): the Nodes, Pods and kubeadm's
// configuration that day-2 commands read and change. Each call answers with the object or a
// Diagnostic naming the server and what it tried; nothing here throws.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { apiRefusal, apiRequest, networkProblem, type ApiCredentials, type ApiResponse } from './kube-api.js';

/** The part of a core/v1 Node kubebake reads. */
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

/** The part of a core/v1 Pod a drain needs. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  phase: string;
  /** metadata.ownerReferences[].kind of its controller, if it has one. */
  controller?: string;
  /** A static pod's mirror (annotation kubernetes.io/config.mirror): the API cannot evict it. */
  mirror: boolean;
  labels: Record<string, string>;
  /** The first container's image (a control plane component's version is its tag). */
  image?: string;
}

export class ApiClient {
  constructor(
    readonly creds: ApiCredentials,
    readonly timeoutMs: number,
  ) {}

  get server(): URL {
    return this.creds.server;
  }

  /** One request; a network problem becomes a diagnostic. */
  async call(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse | Diagnostic> {
    try {
      return await apiRequest(this.creds, method, path, body, this.timeoutMs, contentType);
    } catch (e) {
      return networkProblem(this.creds.server, e);
    }
  }

  /** GET that must answer 200; `what` completes "refused to …". */
  async get<T>(path: string, what: string): Promise<T | Diagnostic> {
    const r = await this.call('GET', path);
    if (isDiagnostic(r)) return r;
    return r.status === 200 ? (r.body as T) : apiRefusal(this.server, what, r);
  }
}

export const isDiagnostic = (x: unknown): x is Diagnostic => typeof x === 'object' && x !== null && 'severity' in x && 'code' in x;

interface RawNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { nodeInfo?: { kubeletVersion?: string }; conditions?: { type: string; status: string }[] };
}

const nodeInfo = (n: RawNode): NodeInfo => ({
  name: n.metadata.name,
  kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? '',
  ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  unschedulable: n.spec?.unschedulable === true,
  labels: n.metadata.labels ?? {},
});

export async function listNodes(api: ApiClient): Promise<NodeInfo[] | Diagnostic> {
  const r = await api.get<{ items?: RawNode[] }>('/api/v1/nodes', 'list the Nodes');
  return isDiagnostic(r) ? r : (r.items ?? []).map(nodeInfo);
}

/** The Node, or undefined when it does not exist (404). */
export async function getNode(api: ApiClient, name: string): Promise<NodeInfo | undefined | Diagnostic> {
  const r = await api.call('GET', `/api/v1/nodes/${encodeURIComponent(name)}`);
  if (isDiagnostic(r)) return r;
  if (r.status === 404) return undefined;
  return r.status === 200 ? nodeInfo(r.body as RawNode) : apiRefusal(api.server, `read Node ${name}`, r);
}

/**
 * Marks the Node (un)schedulable, as `kubectl cordon`/`uncordon` do: a merge patch of
 * spec.unschedulable (kubernetes/kubectl pkg/drain/cordon.go patches the same field).
 */
export async function setUnschedulable(api: ApiClient, name: string, unschedulable: boolean): Promise<Diagnostic | undefined> {
  const r = await api.call('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}`, { spec: { unschedulable } }, 'application/merge-patch+json');
  if (isDiagnostic(r)) return r;
  return r.status === 200 ? undefined : apiRefusal(api.server, `${unschedulable ? 'cordon' : 'uncordon'} Node ${name}`, r);
}

interface RawPod {
  metadata: { namespace: string; name: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; controller?: boolean }[] };
  spec?: { containers?: { image?: string }[] };
  status?: { phase?: string };
}

const podInfo = (p: RawPod): PodInfo => ({
  namespace: p.metadata.namespace,
  name: p.metadata.name,
  uid: p.metadata.uid ?? '',
  phase: p.status?.phase ?? '',
  controller: p.metadata.ownerReferences?.find((o) => o.controller)?.kind,
  mirror: p.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined,
  labels: p.metadata.labels ?? {},
  image: p.spec?.containers?.[0]?.image,
});


/** Pods of a namespace matching a label selector ("component=kube-apiserver"). */
export async function podsWithLabel(api: ApiClient, namespace: string, selector: string): Promise<PodInfo[] | Diagnostic> {
  const r = await api.get<{ items?: RawPod[] }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`, `list the Pods ${selector} in ${namespace}`);
  return isDiagnostic(r) ? r : (r.items ?? []).map(podInfo);
}



/** kubeadm's ClusterConfiguration as kubeadm keeps it (data.ClusterConfiguration of kube-system/kubeadm-config), as YAML text. */
export async function kubeadmClusterConfiguration(api: ApiClient): Promise<string | undefined | Diagnostic> {
  const r = await api.call('GET', '/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
  if (isDiagnostic(r)) return r;
  if (r.status === 404) return undefined;
  if (r.status !== 200) return apiRefusal(api.server, 'read the kubeadm-config ConfigMap', r);
  const text = (r.body as { data?: Record<string, string> }).data?.ClusterConfiguration;
  return typeof text === 'string' ? text : undefined;
}
