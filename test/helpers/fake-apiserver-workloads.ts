// Nodes, pods, PodDisruptionBudgets and evictions of the STAND-IN kube-apiserver
// (test/helpers/fake-apiserver.ts), for the day-2 commands. It fails where the real one fails:
// - a PATCH must name a patch type (415 Unsupported Media Type for plain JSON, as the API
//   answers: staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go);
// - pods are listed by the field selector spec.nodeName, as kubectl drain asks (other selectors: 400);
// - the eviction subresource as pkg/registry/core/pod/storage/eviction.go: the body must be a
//   policy/v1 (or v1beta1) Eviction whose name is the URL's (400 otherwise); a pod that is
//   finished, pending or already terminating is deleted without looking at budgets; a pod matched
//   by more than one PodDisruptionBudget is refused (500); one whose budget allows no disruption
//   gets 429 TooManyRequests "Cannot evict pod as it would violate the pod's disruption budget."
//   with the cause "The disruption budget <name> needs <desired> healthy pods and has <current>
//   currently"; otherwise the budget's allowance goes down by one and the pod is deleted (201);
// - an evicted pod stays (with a deletionTimestamp) for its `terminatingMs`, as a kubelet takes
//   its grace period to stop it, then it is gone (404);
// - names that do not exist are 404 NotFound with the API's wording; anyone outside the
//   authorized groups gets 403.
// - for upgrades: each Node reports status.nodeInfo.kubeletVersion; kubeadm's static pods carry
//   the labels component=<name>, tier=control-plane and the image of their version (kubeadm's
//   phases/controlplane/manifests.go and etcd/local.go), listed by label selector per namespace;
//   kube-system/kubeadm-config holds a ClusterConfiguration whose kubernetesVersion is the
//   cluster's (kubeadm's upload-config phase writes it).
import type { IncomingMessage } from 'node:http';

export interface FakeNode { name: string; address: string; controlPlane?: boolean; ready?: boolean; unschedulable?: boolean; /** "v1.36.4" */ kubeletVersion?: string }
export interface FakePod {
  namespace: string;
  name: string;
  node: string;
  labels?: Record<string, string>;
  /** The kind of its controller (ReplicaSet, DaemonSet, StatefulSet…); none: a bare pod. */
  owner?: string;
  /** A static pod's mirror (annotation kubernetes.io/config.mirror). */
  mirror?: boolean;
  emptyDir?: boolean;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready?: boolean;
  /** Its first container's image (a static pod's tag is its component's version). */
  image?: string;
  /** How long the kubelet takes to stop it once evicted. */
  terminatingMs?: number;
  uid?: string;
  deletionTimestamp?: string;
}
export interface FakePdb { namespace: string; name: string; selector: Record<string, string>; disruptionsAllowed: number; desiredHealthy: number; currentHealthy: number }

type Send = (code: number, body: object) => void;
const status = (code: number, reason: string, message: string, causes?: object[]): object => ({
  kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code, ...(causes ? { details: { causes } } : {}),
});
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

export class FakeWorkloads {
  readonly nodes = new Map<string, FakeNode>();
  readonly pods = new Map<string, FakePod>();
  readonly pdbs: FakePdb[] = [];
  /** Every eviction asked for: "ns/name <HTTP status>". */
  readonly evictions: string[] = [];
  /** kubeadm-config's ClusterConfiguration (YAML text); empty: no such ConfigMap. */
  clusterConfiguration = '';
  /**
   * Called before each request is answered: brings the objects up to date with what the cluster's
   * machines did (test/helpers/ssh-nodes.ts followNodes: kubelets, static pods, kubeadm-config).
   */
  observe?: () => void;
  #uid = 0;

  setClusterVersion(version: string): this {
    this.clusterConfiguration = `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v${version.replace(/^v/, '')}\ncontrolPlaneEndpoint: 10.20.0.10:6443\n`;
    return this;
  }

  addNode(n: FakeNode): this {
    this.nodes.set(n.name, { ready: true, ...n });
    return this;
  }
  addPod(p: FakePod): this {
    this.pods.set(`${p.namespace}/${p.name}`, { phase: 'Running', ready: true, uid: `uid-${++this.#uid}`, ...p });
    return this;
  }
  /** The static pods kubeadm runs on a control plane, as mirror pods (etcd-<node>, kube-apiserver-<node>, …). */
  addControlPlanePods(node: string, etcdReady = true, version?: string): this {
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
      this.addPod({
        namespace: 'kube-system', name: `${c}-${node}`, node, mirror: true, owner: 'Node', ready: c === 'etcd' ? etcdReady : true,
        labels: { component: c, tier: 'control-plane' },
        ...(version && c !== 'etcd' ? { image: `registry.k8s.io/${c}:v${version.replace(/^v/, '')}` } : {}),
      });
    return this;
  }

  /** Whether this request is one of these resources' (then `handle` answers it). */
  handles(method: string, path: string): boolean {
    return /^\/api\/v1\/(nodes(\/[^/]+)?|pods|namespaces\/[^/]+\/pods(\/[^/]+(\/eviction)?)?|namespaces\/kube-system\/configmaps\/kubeadm-config)$/.test(path) && ['GET', 'PATCH', 'DELETE', 'POST'].includes(method);
  }

  async handle(req: IncomingMessage, url: URL, allowed: boolean, user: string, send: Send): Promise<void> {
    this.observe?.();
    const method = req.method ?? 'GET';
    const body = method === 'POST' || method === 'PATCH' ? await readBody(req) : '';
    const path = url.pathname;
    let m: RegExpExecArray | null;
    const verb = { GET: 'get', PATCH: 'patch', DELETE: 'delete', POST: 'create' }[method] ?? method.toLowerCase();
    const forbid = (resource: string, name: string, ns?: string): void =>
      send(403, status(403, 'Forbidden', `${resource} ${name ? `"${name}" ` : ''}is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group ""${ns ? ` in the namespace "${ns}"` : ' at the cluster scope'}`));

    if (path === '/api/v1/nodes' && method === 'GET') {
      if (!allowed) return forbid('nodes', '');
      return send(200, { kind: 'NodeList', apiVersion: 'v1', items: [...this.nodes.values()].map(nodeObject) });
    }
    if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(m[1]!);
      if (!allowed) return forbid('nodes', name);
      const node = this.nodes.get(name);
      if (!node) return send(404, status(404, 'NotFound', `nodes "${name}" not found`));
      if (method === 'GET') return send(200, nodeObject(node));
      if (method === 'DELETE') {
        this.nodes.delete(name);
        return send(200, nodeObject(node));
      }
      if (method === 'PATCH') {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (!PATCH_TYPES.includes(type))
          return send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`));
        const patch = JSON.parse(body) as { spec?: { unschedulable?: boolean } };
        if (patch.spec?.unschedulable !== undefined) node.unschedulable = patch.spec.unschedulable;
        return send(200, nodeObject(node));
      }
    }
    if (path === '/api/v1/pods' && method === 'GET') {
      if (!allowed) return forbid('pods', '');
      const selector = url.searchParams.get('fieldSelector') ?? '';
      const sel = /^spec\.nodeName=(.*)$/.exec(selector);
      if (selector && !sel) return send(400, status(400, 'BadRequest', `"${selector.split('=')[0]}" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"`));
      const items = [...this.pods.values()].filter((p) => !sel || p.node === sel[1]).map(podObject);
      return send(200, { kind: 'PodList', apiVersion: 'v1', items });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)) && method === 'GET') {
      const ns = decodeURIComponent(m[1]!);
      if (!allowed) return forbid('pods', '', ns);
      const sel = Object.fromEntries((url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
      const items = [...this.pods.values()].filter((p) => p.namespace === ns && Object.entries(sel).every(([k, v]) => p.labels?.[k] === v)).map(podObject);
      return send(200, { kind: 'PodList', apiVersion: 'v1', items });
    }
    if (path === '/api/v1/namespaces/kube-system/configmaps/kubeadm-config' && method === 'GET') {
      if (!allowed) return forbid('configmaps', 'kubeadm-config', 'kube-system');
      if (!this.clusterConfiguration) return send(404, status(404, 'NotFound', 'configmaps "kubeadm-config" not found'));
      return send(200, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'kube-system', name: 'kubeadm-config' }, data: { ClusterConfiguration: this.clusterConfiguration } });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/eviction)?$/.exec(path))) {
      const ns = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      if (!allowed) return forbid(m[3] ? 'pods/eviction' : 'pods', name, ns);
      const pod = this.pods.get(`${ns}/${name}`);
      if (!m[3] && method === 'GET') return pod ? send(200, podObject(pod)) : send(404, status(404, 'NotFound', `pods "${name}" not found`));
      if (m[3] && method === 'POST') return this.evict(ns, name, pod, body, (code, b) => (this.evictions.push(`${ns}/${name} ${code}`), send(code, b)));
    }
    send(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
  }

  private evict(ns: string, name: string, pod: FakePod | undefined, body: string, send: Send): void {
    let e: { apiVersion?: string; kind?: string; metadata?: { name?: string } };
    try {
      e = JSON.parse(body);
    } catch {
      return send(400, status(400, 'BadRequest', 'the object provided is not valid JSON'));
    }
    if (!['policy/v1', 'policy/v1beta1'].includes(e.apiVersion ?? '') || e.kind !== 'Eviction')
      return send(400, status(400, 'BadRequest', `not a Eviction object: ${e.apiVersion}, Kind=${e.kind}`));
    if (e.metadata?.name !== name) return send(400, status(400, 'BadRequest', 'name in URL does not match name in Eviction object'));
    if (!pod) return send(404, status(404, 'NotFound', `pods "${name}" not found`));
    const canIgnorePdb = pod.phase === 'Succeeded' || pod.phase === 'Failed' || pod.phase === 'Pending' || pod.deletionTimestamp !== undefined;
    if (!canIgnorePdb) {
      const budgets = this.pdbs.filter((b) => b.namespace === ns && Object.keys(b.selector).length > 0 && Object.entries(b.selector).every(([k, v]) => pod.labels?.[k] === v));
      if (budgets.length > 1) return send(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 });
      const pdb = budgets[0];
      if (pdb && pdb.disruptionsAllowed === 0)
        return send(429, status(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", [
          { reason: 'DisruptionBudget', message: `The disruption budget ${pdb.name} needs ${pdb.desiredHealthy} healthy pods and has ${pdb.currentHealthy} currently` },
        ]));
      if (pdb) pdb.disruptionsAllowed--;
    }
    this.terminate(ns, name, pod);
    send(201, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
  }

  private terminate(ns: string, name: string, pod: FakePod): void {
    if (pod.deletionTimestamp) return;
    pod.deletionTimestamp = new Date().toISOString();
    const gone = (): void => void (this.pods.get(`${ns}/${name}`) === pod && this.pods.delete(`${ns}/${name}`));
    if (pod.terminatingMs) setTimeout(gone, pod.terminatingMs).unref();
    else gone();
  }
}

function nodeObject(n: FakeNode): object {
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, ...(n.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}) } },
    spec: n.unschedulable ? { unschedulable: true } : {},
    status: {
      addresses: [{ type: 'InternalIP', address: n.address }, { type: 'Hostname', address: n.name }],
      conditions: [{ type: 'Ready', status: n.ready === false ? 'False' : 'True' }],
      ...(n.kubeletVersion ? { nodeInfo: { kubeletVersion: n.kubeletVersion } } : {}),
    },
  };
}

function podObject(p: FakePod): object {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      labels: p.labels ?? {},
      ...(p.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'stand-in-hash' } } : {}),
      ...(p.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: p.owner, name: `${p.name}-owner`, controller: true }] } : {}),
      ...(p.deletionTimestamp ? { deletionTimestamp: p.deletionTimestamp } : {}),
    },
    spec: { nodeName: p.node, volumes: p.emptyDir ? [{ name: 'scratch', emptyDir: {} }] : [], containers: [{ name: p.name, image: p.image ?? 'registry.example/app:1' }] },
    status: { phase: p.phase, conditions: [{ type: 'Ready', status: p.ready === false ? 'False' : 'True' }] },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => resolve(raw));
    req.on('error', reject);
  });
}
