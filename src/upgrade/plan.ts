// The upgrade plan: from what the cluster runs (facts.ts) to what the topology asks for, in
// kubeadm's order (kubernetes/website content/en/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade.md:
// "Upgrade a primary control plane node" with `kubeadm upgrade apply`, then "additional control
// plane nodes" and "worker nodes" with `kubeadm upgrade node`, one node at a time), what each node
// installs (the new minor's package repositories: pkgs.k8s.io and isv:cri-o publish one per minor,
// upgrading-linux-nodes.md "Changing the package repository"), and what a mirror must hold first
// (the artefact inventory's difference). Pure: facts and plans in, plan out.
import type { Message } from '../diagnostics/messages.js';
import { upgradeMsg } from '../diagnostics/messages.js';
import { buildArtifactInventory, type ArtifactInventory, type FileArtifact, type PackageArtifact } from '../manifest/inventory.js';
import { buildPlan, isKubernetesNode, type ClusterPlan, type NodePlan } from '../plan/plan.js';
import { cniDownloads } from '../plan/sources.js';
import { cniRelease, pinnedCniRelease } from '../topology/facts/versions.js';
import type { Topology } from '../topology/types.js';
import type { ClusterFacts } from './facts.js';
import { upgradeRefusals } from './policy.js';

export type KubeadmUpgrade = 'apply' | 'node';

export interface NodeUpgrade {
  name: string;
  role: 'control-plane' | 'worker';
  ip: string;
  /** `kubeadm upgrade apply` (the first control plane) or `kubeadm upgrade node`. */
  kubeadm: KubeadmUpgrade;
  /** The kubelet version the Node reports now. */
  kubelet: string;
  /** Already at the target, Ready and schedulable: nothing to do. */
  done: boolean;
}

export interface PackageChange { name: string; repository: 'kubernetes' | 'cri-o'; from?: string; to: string; held: boolean }

export interface UpgradePlan {
  cluster: string;
  /** kubeadm's ClusterConfiguration version. */
  from: string;
  to: string;
  refusals: Message[];
  /** Every node is at the target already. */
  upToDate: boolean;
  nodes: NodeUpgrade[];
  repositories: { name: 'kubernetes' | 'cri-o'; from?: string; to: string }[];
  packages: PackageChange[];
  /** The CNI before and after; `changes`: the first control plane upgrades it after kubeadm upgrade apply. */
  cni: { plugin: string; from?: string; to: string; changes: boolean };
  /** What the target needs from outside that the running version did not: mirror it first. */
  mirror: { packages: PackageArtifact[]; images: string[]; files: FileArtifact[] };
}

const bare = (v: string): string => v.replace(/^v/, '');

/** The plan of the same topology at another Kubernetes version (what first boot installed), or undefined when kubebake cannot plan that version. */
export function planAtVersion(t: Topology, version: string): ClusterPlan | undefined {
  try {
    return buildPlan({ ...t, kubernetes: { version } });
  } catch {
    return undefined;
  }
}

/** Kubernetes nodes in upgrade order: the first control plane, the other control planes, the workers. */
export function upgradeOrder(plan: ClusterPlan): NodePlan[] {
  const nodes = plan.nodes.filter(isKubernetesNode);
  return [...nodes.filter((n) => n.initNode), ...nodes.filter((n) => n.role === 'control-plane' && !n.initNode), ...nodes.filter((n) => n.role === 'worker')];
}

/** Whether the CNI's release or manifests differ between two plans (the first control plane then upgrades it). */
export function cniChanges(current: ClusterPlan | undefined, target: ClusterPlan): boolean {
  if (!current) return false;
  const files = (p: ClusterPlan): string => cniDownloads(p.cni.plugin, p.cni.version, p.kubernetes.minor).map((d) => d.path).join(' ');
  return current.cni.version !== target.cni.version || files(current) !== files(target);
}

function artefactDiff(current: ArtifactInventory | undefined, target: ArtifactInventory): UpgradePlan['mirror'] {
  const pkg = (p: PackageArtifact): string => `${p.name} ${p.repository} ${p.version}`;
  const had = new Set(current?.packages.map(pkg) ?? []);
  const images = new Set(current?.images.map((i) => i.image) ?? []);
  const files = new Set(current?.files.map((f) => f.path) ?? []);
  return {
    packages: target.packages.filter((p) => p.repository !== 'os' && !had.has(pkg(p))),
    images: target.images.map((i) => i.image).filter((i) => !images.has(i)),
    files: target.files.filter((f) => !files.has(f.path)),
  };
}

/**
 * `inProgress`: a node an interrupted apply left midway (its state file), not done whatever the API shows.
 */
export function buildUpgradePlan(t: Topology, target: ClusterPlan, facts: ClusterFacts, inProgress?: string): UpgradePlan {
  const to = target.kubernetes.version;
  const current = planAtVersion(t, facts.cluster);
  const release = t.cni.version ? cniRelease(t.cni.plugin, t.cni.version) : pinnedCniRelease(t.cni.plugin, target.kubernetes.minor);
  const refusals = upgradeRefusals(facts, to, { plugin: t.cni.plugin, version: target.cni.version, release });
  const order = upgradeOrder(target);
  const byName = new Map(facts.nodes.map((n) => [n.name, n]));
  const notNodes = order.filter((n) => !byName.has(n.name)).map((n) => n.name);
  if (notNodes.length) refusals.push(upgradeMsg.hostsNotNodes(notNodes));
  const strangers = facts.nodes.filter((n) => !order.some((o) => o.name === n.name)).map((n) => n.name);
  if (strangers.length) refusals.push(upgradeMsg.nodesNotHosts(strangers));
  const apiOf = new Map(facts.apiServers.map((a) => [a.node, a.version]));
  const nodes: NodeUpgrade[] = order.map((n) => {
    const api = byName.get(n.name);
    const kubelet = api ? bare(api.kubeletVersion) : '';
    const atTarget =
      !!api && kubelet === to && api.ready && !api.unschedulable && (n.role !== 'control-plane' || apiOf.get(n.name) === undefined || apiOf.get(n.name) === to) && (!n.initNode || facts.cluster === to);
    return { name: n.name, role: n.role as NodeUpgrade['role'], ip: n.ip, kubeadm: n.initNode ? 'apply' : 'node', kubelet, done: atTarget && n.name !== inProgress };
  });
  const notReady = facts.nodes.filter((n) => !n.ready && n.name !== inProgress && order.some((o) => o.name === n.name)).map((n) => n.name);
  if (notReady.length) refusals.push(upgradeMsg.nodesNotReady(notReady));
  const targetInventory = buildArtifactInventory(target);
  const currentInventory = current ? buildArtifactInventory(current) : undefined;
  const version = (m: ArtifactInventory | undefined, name: string): string | undefined => m?.packages.find((p) => p.name === name)?.version;
  const packages: PackageChange[] = targetInventory.packages
    .filter((p): p is PackageArtifact & { repository: 'kubernetes' | 'cri-o' } => p.repository !== 'os' && p.held)
    .map((p) => ({ name: p.name, repository: p.repository, from: version(currentInventory, p.name), to: p.version, held: p.held }));
  const repo = (name: 'kubernetes' | 'cri-o'): UpgradePlan['repositories'][number] => {
    const from = currentInventory?.repositories[name].url;
    const to = targetInventory.repositories[name].url;
    return { name, ...(from && from !== to ? { from } : {}), to };
  };
  return {
    cluster: target.name,
    from: facts.cluster,
    to,
    refusals,
    upToDate: nodes.every((n) => n.done),
    nodes,
    repositories: [repo('kubernetes'), repo('cri-o')],
    packages,
    cni: { plugin: target.cni.plugin, from: current?.cni.version, to: target.cni.version, changes: cniChanges(current, target) },
    mirror: artefactDiff(currentInventory, targetInventory),
  };
}
