// What the cluster runs, read through its API: the versions kubeadm's `upgrade plan` reads too
// (kubernetes/kubernetes cmd/kubeadm/app/phases/upgrade/versiongetter.go: the kubelets' versions
// from the Nodes' status.nodeInfo.kubeletVersion; the control plane's from kubeadm's own
// ClusterConfiguration, which `kubeadm upgrade apply` rewrites in its upload-config phase, and from
// each control plane's kube-apiserver static pod).
import { parse } from 'yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { upgradeMsg } from '../diagnostics/messages.js';
import { isDiagnostic, kubeadmClusterConfiguration, listNodes, podsWithLabel, type NodeInfo } from '../api/cluster.js';
import type { KubeClient } from '../api/cluster-objects.js';
import { semver, type RunningVersions } from './policy.js';

export interface ClusterFacts extends RunningVersions {
  nodes: NodeInfo[];
}

const bare = (v: string): string => v.replace(/^v/, '');

/** The tag of an image reference ("registry.k8s.io/kube-apiserver:v1.37.2" → "1.37.2"), if it is a version. */
export function imageVersion(image: string | undefined): string | undefined {
  const tag = image?.slice(image.lastIndexOf(':') + 1);
  return tag && semver(tag) ? bare(tag) : undefined;
}

/** kubernetesVersion of a ClusterConfiguration (YAML), without "v"; undefined when absent or not a version. */
export function clusterConfigVersion(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  const v = (doc as { kubernetesVersion?: unknown } | null)?.kubernetesVersion;
  return typeof v === 'string' && semver(v) ? bare(v) : undefined;
}

export async function readClusterFacts(api: KubeClient): Promise<ClusterFacts | Diagnostic> {
  const config = await kubeadmClusterConfiguration(api);
  if (isDiagnostic(config)) return config;
  if (config === undefined) return { severity: 'error', path: ['apiEndpoint'], ...upgradeMsg.noKubeadmConfig(api.creds.server.origin) };
  const cluster = clusterConfigVersion(config);
  if (!cluster) return { severity: 'error', path: ['apiEndpoint'], ...upgradeMsg.clusterVersionUnreadable(config) };
  const nodes = await listNodes(api);
  if (isDiagnostic(nodes)) return nodes;
  // kubeadm labels its control-plane static pods component=<name>, tier=control-plane; the mirror
  // pod of a node's kube-apiserver is named kube-apiserver-<node>.
  const pods = await podsWithLabel(api, 'kube-system', 'component=kube-apiserver');
  if (isDiagnostic(pods)) return pods;
  const controlPlanes = nodes.filter((n) => 'node-role.kubernetes.io/control-plane' in n.labels);
  return {
    cluster,
    nodes,
    kubelets: nodes.map((n) => ({ node: n.name, version: bare(n.kubeletVersion) })),
    apiServers: controlPlanes.map((n) => ({ node: n.name, version: imageVersion(pods.find((p) => p.name === `kube-apiserver-${n.name}`)?.image) })),
  };
}
