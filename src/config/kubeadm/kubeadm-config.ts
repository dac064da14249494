// kubeadm configuration documents, built as objects and serialised with `yaml`.
// v1beta4 (Kubernetes ≥ 1.31) lists extra args as {name, value}; v1beta3 uses maps.
import { CRI_SOCKET, type ClusterPlan, type NodePlan } from '../../plan/plan.js';
import { splitLabels } from '../../plan/labels.js';
import type { KeyAlgorithm } from '../../plan/pki.js';
import { API_SERVER_PORT } from '../../topology/facts/kubeadm.js';
import { usesKubeadmV1beta4 } from '../../topology/facts/versions.js';
import { toYaml11 } from '../../util/yaml.js';
import { TOKEN_DESCRIPTION, TOKEN_GROUPS, TOKEN_USAGES } from './bootstrap-token.js';

type Args = Record<string, string>;

function extraArgs(plan: ClusterPlan, args: Args): Args | { name: string; value: string }[] {
  return usesKubeadmV1beta4(plan.kubernetes.minor) ? Object.entries(args).map(([name, value]) => ({ name, value })) : args;
}

function nodeRegistration(plan: ClusterPlan, node: NodePlan): object {
  const labels = splitLabels(node.labels).kubelet;
  const kubeletArgs: Args = { 'node-ip': node.ip };
  if (Object.keys(labels).length) {
    kubeletArgs['node-labels'] = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  }
  return {
    name: node.name,
    criSocket: CRI_SOCKET,
    kubeletExtraArgs: extraArgs(plan, kubeletArgs),
    // Unset keeps kubeadm's default (the control-plane NoSchedule taint); a list replaces it.
    ...(node.taints ? { taints: node.taints.map((t) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect })) } : {}),
  };
}

function bootstrapTokenTtl(ttl: string): string {
  return ttl === '0' ? '0s' : ttl;
}

/** InitConfiguration + ClusterConfiguration + KubeletConfiguration for the first control plane. */
export function renderInitConfig(plan: ClusterPlan, node: NodePlan, join: { token: string; keyAlgorithm: KeyAlgorithm }): string {
  const api = plan.kubernetes.kubeadmApi;
  const init = {
    apiVersion: api,
    kind: 'InitConfiguration',
    bootstrapTokens: [
      {
        token: join.token,
        description: TOKEN_DESCRIPTION,
        ttl: bootstrapTokenTtl(plan.bootstrap.tokenTTL),
        usages: [...TOKEN_USAGES],
        groups: [...TOKEN_GROUPS],
      },
    ],
    nodeRegistration: nodeRegistration(plan, node),
    localAPIEndpoint: { advertiseAddress: node.ip, bindPort: API_SERVER_PORT },
  };
  const cluster = {
    apiVersion: api,
    kind: 'ClusterConfiguration',
    clusterName: plan.name,
    kubernetesVersion: `v${plan.kubernetes.version}`,
    controlPlaneEndpoint: plan.endpoint.hostPort,
    apiServer: { certSANs: plan.endpoint.certSANs },
    networking: { podSubnet: plan.network.podSubnet, serviceSubnet: plan.network.serviceSubnet, dnsDomain: 'cluster.local' },
    // The keys kubeadm makes (apiserver, etcd, kubelet client…) match the cluster CA's (v1beta4 only;
    // under v1beta3 they stay RSA-2048, signed by the CA all the same).
    ...(usesKubeadmV1beta4(plan.kubernetes.minor) ? { encryptionAlgorithm: join.keyAlgorithm } : {}),
  };
  const kubelet = { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: 'systemd' };
  return documents([init, cluster, kubelet]);
}

/** JoinConfiguration for every other node; control planes also get their local API endpoint. */
export function renderJoinConfig(plan: ClusterPlan, node: NodePlan, discovery: { token: string; caCertHash: string }): string {
  const join = {
    apiVersion: plan.kubernetes.kubeadmApi,
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: plan.endpoint.hostPort,
        token: discovery.token,
        caCertHashes: [discovery.caCertHash],
      },
    },
    nodeRegistration: nodeRegistration(plan, node),
    ...(node.role === 'control-plane' ? { controlPlane: { localAPIEndpoint: { advertiseAddress: node.ip, bindPort: API_SERVER_PORT } } } : {}),
  };
  return documents([join]);
}

/** kubeadm and kubelet read YAML 1.1 (sigs.k8s.io/yaml over go-yaml): a node named `no` must stay a string. */
function documents(docs: object[]): string {
  return docs.map((d) => toYaml11(d)).join('---\n');
}
