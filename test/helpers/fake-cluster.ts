// The objects of a running cluster inside the STAND-IN kube-apiserver (test/helpers/fake-apiserver.ts):
// Nodes, Pods, PodDisruptionBudgets and kubeadm's kubeadm-config ConfigMap, with the behaviour the
// day-2 commands depend on, failing where the real API fails:
// - PATCH takes only the patch media types (json-patch, merge-patch, strategic-merge-patch);
//   anything else is 415 UnsupportedMediaType, as the API server's patch handler answers.
// - Node: cordon/uncordon through spec.unschedulable; the node's kubelet reports through the status
//   subresource (PATCH /api/v1/nodes/<name>/status: nodeInfo.kubeletVersion, the Ready condition);
//   a node in `silent` is a kubelet that never reports Ready again (its NotReady report still lands).
// - The Eviction subresource as kubernetes/kubernetes pkg/registry/core/pod/storage/eviction.go
//   handles it: a pod that is Pending, Succeeded, Failed or already terminating is deleted without
//   looking at budgets; a pod that more than one PodDisruptionBudget selects is a 500 ("This pod has
//   more than one PodDisruptionBudget, which the eviction subresource does not support."); with one
//   budget, an unready pod may go while the budget is met, otherwise disruptionsAllowed (healthy
//   pods minus minAvailable, never below 0) must be above 0, or the answer is 429 TooManyRequests,
//   "Cannot evict pod as it would violate the pod's disruption budget.", with the DisruptionBudget
//   cause "The disruption budget <name> needs <desired> healthy pods and has <current> currently".
//   An evicted pod is gone at once, or terminating for `terminatingMs`.
// - kube-system/kubeadm-config holds a ClusterConfiguration whose kubernetesVersion is the
//   cluster's version; a merge patch of its data replaces it (kubeadm's upload-config phase).
import { randomUUID } from 'node:crypto';

export interface FakeNode { name: string; kubeletVersion: string; ready: boolean; unschedulable: boolean; labels: Record<string, string> }
export interface FakePod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  phase: string;
  ready: boolean;
  labels: Record<string, string>;
  /** Kind of its controller (ReplicaSet, DaemonSet, …); absent: a bare pod. */
  controller?: string;
  /** A static pod's mirror. */
  mirror?: boolean;
  image?: string;
  /** How long it terminates after an eviction (0: gone at once). */
  terminatingMs?: number;
  terminating?: boolean;
}
export interface FakePdb { namespace: string; name: string; selector: Record<string, string>; minAvailable: number }

const status = (code: number, reason: string, message: string, causes?: { reason: string; message: string }[]): object => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(causes ? { details: { causes } } : {}),
  code,
});

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

export class FakeCluster {
  readonly nodes = new Map<string, FakeNode>();
  readonly pods = new Map<string, FakePod>();
  readonly pdbs: FakePdb[] = [];
  /** Nodes whose kubelet never reports Ready again. */
  readonly silent = new Set<string>();
  /** Every eviction asked for: "ns/name <HTTP status>". */
  readonly evictions: string[] = [];
  /** Called after a pod was evicted (a controller's replacement, say). */
  onEvicted?: (pod: FakePod) => void;
  /** kubeadm-config's ClusterConfiguration (YAML text). */
  clusterConfiguration = '';

  constructor(version?: string) {
    if (version) this.setClusterVersion(version);
  }

  setClusterVersion(version: string): void {
    this.clusterConfiguration = `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v${version.replace(/^v/, '')}\ncontrolPlaneEndpoint: 10.20.0.10:6443\n`;
  }

  /** A node as kubeadm leaves it (a control plane with its label and its kube-apiserver mirror pod). */
  addNode(name: string, version: string, controlPlane: boolean): FakeNode {
    const labels: Record<string, string> = { 'kubernetes.io/hostname': name, ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}) };
    const n: FakeNode = { name, kubeletVersion: `v${version.replace(/^v/, '')}`, ready: true, unschedulable: false, labels };
    this.nodes.set(name, n);
    if (controlPlane) {
      this.addPod({ namespace: 'kube-system', name: `kube-apiserver-${name}`, node: name, mirror: true, labels: { component: 'kube-apiserver', tier: 'control-plane' }, image: `registry.k8s.io/kube-apiserver:v${version.replace(/^v/, '')}` });
    }
    this.addPod({ namespace: 'kube-system', name: `kube-proxy-${name}`, node: name, controller: 'DaemonSet', labels: { 'k8s-app': 'kube-proxy' } });
    return n;
  }

  addPod(p: Partial<FakePod> & Pick<FakePod, 'namespace' | 'name' | 'node'>): FakePod {
    const pod: FakePod = { uid: randomUUID(), phase: 'Running', ready: true, labels: {}, ...p };
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
    return pod;
  }

  podsOn(node: string): FakePod[] {
    return [...this.pods.values()].filter((p) => p.node === node);
  }

  private budgetsOf(pod: FakePod): FakePdb[] {
    return this.pdbs.filter((b) => b.namespace === pod.namespace && Object.keys(b.selector).length > 0 && Object.entries(b.selector).every(([k, v]) => pod.labels[k] === v));
  }

  private healthy(b: FakePdb): number {
    return [...this.pods.values()].filter((p) => this.budgetsOf(p).includes(b) && p.ready && p.phase === 'Running' && !p.terminating).length;
  }

  private nodeJson(n: FakeNode): object {
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name, labels: n.labels },
      spec: n.unschedulable ? { unschedulable: true } : {},
      status: { nodeInfo: { kubeletVersion: n.kubeletVersion }, conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'False' }] },
    };
  }

  private podJson(p: FakePod): object {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: p.namespace,
        name: p.name,
        uid: p.uid,
        labels: p.labels,
        ...(p.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'stand-in' } } : {}),
        ...(p.controller ? { ownerReferences: [{ kind: p.controller, name: `${p.name}-owner`, controller: true }] } : {}),
        ...(p.terminating ? { deletionTimestamp: new Date().toISOString() } : {}),
      },
      spec: { nodeName: p.node, containers: [{ name: p.name.split('-')[0], image: p.image ?? 'registry.example/app:1' }] },
      status: { phase: p.phase, conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }] },
    };
  }

  private evict(ns: string, name: string, body: unknown): [number, object] {
    const key = `${ns}/${name}`;
    const pod = this.pods.get(key);
    const answer = (code: number, obj: object): [number, object] => {
      this.evictions.push(`${key} ${code}`);
      return [code, obj];
    };
    const e = body as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | undefined;
    if (e?.kind !== 'Eviction' || !['policy/v1', 'policy/v1beta1'].includes(e.apiVersion ?? '')) return answer(400, status(400, 'BadRequest', `not a Eviction object`));
    if (e.metadata?.name !== name) return answer(400, status(400, 'BadRequest', 'name in URL does not match name in Eviction object'));
    if (!pod) return answer(404, status(404, 'NotFound', `pods "${name}" not found`));
    const remove = (): [number, object] => {
      if (pod.terminatingMs) {
        pod.terminating = true;
        setTimeout(() => this.pods.get(key) === pod && this.pods.delete(key), pod.terminatingMs).unref();
      } else this.pods.delete(key);
      this.onEvicted?.(pod);
      return answer(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    };
    if (['Pending', 'Succeeded', 'Failed'].includes(pod.phase) || pod.terminating) return remove();
    const budgets = this.budgetsOf(pod);
    if (budgets.length > 1) return answer(500, status(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.'));
    if (budgets.length === 0) return remove();
    const b = budgets[0]!;
    const current = this.healthy(b);
    if (!pod.ready && current >= b.minAvailable && b.minAvailable > 0) return remove();
    if (Math.max(0, current - b.minAvailable) === 0) {
      return answer(429, status(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", [
        { reason: 'DisruptionBudget', message: `The disruption budget ${b.name} needs ${b.minAvailable} healthy pods and has ${current} currently` },
      ]));
    }
    return remove();
  }

  /** Whether this request is for one of the objects above. */
  static routes(url: string): boolean {
    return /^\/api\/v1\/(nodes|pods)(\/|\?|$)/.test(url) || /^\/api\/v1\/namespaces\/[^/]+\/(pods|configmaps)(\/|\?|$)/.test(url);
  }

  /** Answers one request: [HTTP status, body]. */
  handle(method: string, url: string, contentType: string, body: unknown): [number, object] {
    const u = new URL(url, 'https://stand-in');
    const path = u.pathname;
    const notFound = (what: string): [number, object] => [404, status(404, 'NotFound', `${what} not found`)];
    if (method === 'PATCH' && !PATCH_TYPES.includes(contentType.split(';')[0]!.trim())) {
      return [415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`)];
    }
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/api/v1/nodes') return [200, { kind: 'NodeList', apiVersion: 'v1', items: [...this.nodes.values()].map((n) => this.nodeJson(n)) }];
    if ((m = /^\/api\/v1\/nodes\/([^/]+)(\/status)?$/.exec(path))) {
      const n = this.nodes.get(decodeURIComponent(m[1]!));
      if (!n) return notFound(`nodes "${m[1]}"`);
      if (method === 'GET' && !m[2]) return [200, this.nodeJson(n)];
      if (method === 'PATCH' && !m[2]) {
        const spec = (body as { spec?: { unschedulable?: boolean | null } })?.spec;
        if (spec && 'unschedulable' in spec) n.unschedulable = spec.unschedulable === true;
        return [200, this.nodeJson(n)];
      }
      if (method === 'PATCH' && m[2]) {
        const s = (body as { status?: { nodeInfo?: { kubeletVersion?: string }; conditions?: { type: string; status: string }[] } })?.status;
        const ready = s?.conditions?.find((c) => c.type === 'Ready')?.status;
        if (this.silent.has(n.name) && ready !== 'False') return [200, this.nodeJson(n)];
        if (s?.nodeInfo?.kubeletVersion) n.kubeletVersion = s.nodeInfo.kubeletVersion;
        if (ready) n.ready = ready === 'True';
        return [200, this.nodeJson(n)];
      }
      return [405, status(405, 'MethodNotAllowed', `${method} is not supported here`)];
    }
    if (method === 'GET' && path === '/api/v1/pods') {
      const field = /^spec\.nodeName=(.+)$/.exec(u.searchParams.get('fieldSelector') ?? '');
      const pods = [...this.pods.values()].filter((p) => !field || p.node === field[1]);
      return [200, { kind: 'PodList', apiVersion: 'v1', items: pods.map((p) => this.podJson(p)) }];
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)) && method === 'GET') {
      const sel = Object.fromEntries((u.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
      const pods = [...this.pods.values()].filter((p) => p.namespace === m![1] && Object.entries(sel).every(([k, v]) => p.labels[k] === v));
      return [200, { kind: 'PodList', apiVersion: 'v1', items: pods.map((p) => this.podJson(p)) }];
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/eviction)?$/.exec(path))) {
      const [ns, name] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
      if (m[3] && method === 'POST') return this.evict(ns, name, body);
      const pod = this.pods.get(`${ns}/${name}`);
      if (!pod) return notFound(`pods "${name}"`);
      if (method === 'GET' && !m[3]) return [200, this.podJson(pod)];
      if (method === 'PATCH' && !m[3]) {
        // Of a pod only the containers' images change (they are the mutable part of its spec).
        const image = (body as { spec?: { containers?: { image?: string }[] } })?.spec?.containers?.[0]?.image;
        if (image) pod.image = image;
        return [200, this.podJson(pod)];
      }
      return [405, status(405, 'MethodNotAllowed', `${method} is not supported here`)];
    }
    if (path === '/api/v1/namespaces/kube-system/configmaps/kubeadm-config') {
      if (!this.clusterConfiguration) return notFound('configmaps "kubeadm-config"');
      const cm = (): object => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'kube-system', name: 'kubeadm-config' }, data: { ClusterConfiguration: this.clusterConfiguration } });
      if (method === 'GET') return [200, cm()];
      if (method === 'PATCH') {
        const text = (body as { data?: { ClusterConfiguration?: string } })?.data?.ClusterConfiguration;
        if (typeof text === 'string') this.clusterConfiguration = text;
        return [200, cm()];
      }
    }
    return notFound('the server could not find the requested resource');
  }
}
