// The few API objects day-2 commands read and change (Nodes, Pods, evictions), through the same
// client as `token create`: the stored admin certificate, the cluster CA as the only trust root.
// A network problem or a refusal comes back as a DiagnosticError naming the server and the act.
// Paths and bodies are the API's own (kubernetes/kubernetes, staging/src/k8s.io/api core/v1 and
// policy/v1 types; the eviction subresource: pkg/registry/core/pod/storage/eviction.go).
import { DiagnosticError } from '../diagnostics/diagnostic.js';
import { apiRefusal, apiRequest, networkProblem, type ApiCredentials, type ApiResponse } from './kube-api.js';

export interface NodeObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { addresses?: { type: string; address: string }[]; conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

export interface OwnerReference { kind: string; name: string; controller?: boolean }
export interface PodObject {
  metadata: { name: string; namespace: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: OwnerReference[]; deletionTimestamp?: string };
  spec?: { nodeName?: string; volumes?: { name: string; emptyDir?: object }[]; containers?: { name?: string; image?: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** What an eviction did: evicted (the pod is being deleted), gone already, or blocked (429) with the API's reason. */
export type EvictionResult = { kind: 'evicted' } | { kind: 'gone' } | { kind: 'blocked'; reason: string };

/** kubeadm's label of a control-plane Node (cmd/kubeadm/app/constants/constants.go LabelNodeRoleControlPlane). */
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

export const isControlPlane = (n: NodeObject): boolean => n.metadata.labels?.[CONTROL_PLANE_LABEL] !== undefined;
export const isReady = (o: { status?: { conditions?: { type: string; status: string }[] } }): boolean =>
  o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
export const internalIp = (n: NodeObject): string | undefined => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

const seg = encodeURIComponent;

export class KubeClient {
  constructor(
    readonly creds: ApiCredentials,
    readonly timeoutMs: number,
  ) {}

  /** One request; a status outside `accept` is a refusal (DiagnosticError), as is no answer. */
  async call(method: string, path: string, what: string, accept: number[], body?: unknown, contentType?: string): Promise<ApiResponse> {
    let r: ApiResponse;
    try {
      r = await apiRequest(this.creds, method, path, body, this.timeoutMs, contentType);
    } catch (e) {
      throw new DiagnosticError([networkProblem(this.creds.server, e)]);
    }
    if (!accept.includes(r.status)) throw new DiagnosticError([apiRefusal(this.creds.server, what, r)]);
    return r;
  }

  async node(name: string): Promise<NodeObject | undefined> {
    const r = await this.call('GET', `/api/v1/nodes/${seg(name)}`, `read Node ${name}`, [200, 404]);
    return r.status === 404 ? undefined : (r.body as NodeObject);
  }

  async nodes(): Promise<NodeObject[]> {
    return ((await this.call('GET', '/api/v1/nodes', 'list the Nodes', [200])).body as { items: NodeObject[] }).items;
  }

  /**
   * `kubectl cordon`: spec.unschedulable through a strategic merge patch, as kubectl sends it
   * (staging/src/k8s.io/kubectl/pkg/drain/cordon.go PatchOrReplaceWithContext).
   */
  async cordon(name: string, unschedulable = true): Promise<void> {
    await this.call('PATCH', `/api/v1/nodes/${seg(name)}`, `${unschedulable ? 'cordon' : 'uncordon'} Node ${name}`, [200], { spec: { unschedulable } }, 'application/strategic-merge-patch+json');
  }

  /** Deletes the Node object; one already gone is fine. */
  async deleteNode(name: string): Promise<void> {
    await this.call('DELETE', `/api/v1/nodes/${seg(name)}`, `delete Node ${name}`, [200, 202, 404]);
  }

  /** The pods bound to a node, as `kubectl drain` lists them (field selector spec.nodeName). */
  async podsOn(node: string): Promise<PodObject[]> {
    const r = await this.call('GET', `/api/v1/pods?fieldSelector=${seg(`spec.nodeName=${node}`)}`, `list the pods on ${node}`, [200]);
    return (r.body as { items: PodObject[] }).items;
  }

  /** Pods of a namespace matching a label selector ("component=kube-apiserver"). */
  async podsWithLabel(namespace: string, selector: string): Promise<PodObject[]> {
    const r = await this.call('GET', `/api/v1/namespaces/${seg(namespace)}/pods?labelSelector=${seg(selector)}`, `list the pods ${selector} in ${namespace}`, [200]);
    return (r.body as { items: PodObject[] }).items;
  }

  /** kubeadm's ClusterConfiguration as kubeadm keeps it (data.ClusterConfiguration of kube-system/kubeadm-config); undefined when there is none. */
  async kubeadmClusterConfiguration(): Promise<string | undefined> {
    const r = await this.call('GET', '/api/v1/namespaces/kube-system/configmaps/kubeadm-config', 'read the kubeadm-config ConfigMap', [200, 404]);
    const text = r.status === 404 ? undefined : (r.body as { data?: Record<string, string> }).data?.ClusterConfiguration;
    return typeof text === 'string' ? text : undefined;
  }

  async pod(namespace: string, name: string): Promise<PodObject | undefined> {
    const r = await this.call('GET', `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}`, `read pod ${namespace}/${name}`, [200, 404]);
    return r.status === 404 ? undefined : (r.body as PodObject);
  }

  /**
   * The Eviction API (policy/v1): the API server checks the pod's PodDisruptionBudget and answers
   * 429 TooManyRequests, with the budget named in the Status's causes, while it allows no disruption.
   */
  async evict(pod: PodObject): Promise<EvictionResult> {
    const { name, namespace } = pod.metadata;
    const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } };
    const r = await this.call('POST', `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}/eviction`, `evict pod ${namespace}/${name}`, [200, 201, 404, 429], body);
    if (r.status === 404) return { kind: 'gone' };
    if (r.status === 429) return { kind: 'blocked', reason: statusText(r.body) };
    return { kind: 'evicted' };
  }
}

/** A Status object's message and causes, in one line. */
export function statusText(body: unknown): string {
  const s = body as { message?: string; details?: { causes?: { message?: string }[] } } | undefined;
  if (typeof s !== 'object' || s === null) return typeof body === 'string' ? body.slice(0, 200) : '';
  const causes = (s.details?.causes ?? []).map((c) => c.message).filter(Boolean);
  return [s.message ?? '', ...causes].filter(Boolean).join(' ');
}
