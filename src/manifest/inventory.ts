// The artefact inventory (what `kubebake manifest` prints and `kubebake bundle` packs): every
// artefact a cluster needs from outside the site, computed from the plan and the very constants
// the steps install from (package lists, pinned versions, the downloads table, the CNI images the
// prepull step pulls), so it cannot drift from what the scripts do.
import type { ClusterPlan } from '../plan/plan.js';
import { cloudImageDownloads, cniDownloads, downloadUrl, type Download } from '../plan/sources.js';
import { CRI_TOOLS_PACKAGE, crioAptRepo, KUBERNETES_REPO_DEPENDENCIES, kubernetesAptRepo, OS } from '../topology/facts/versions.js';
import { PACKER_VERSION } from '../packer/pin.js';
import { PLUGINS } from '../topology/facts/packer-plugins.js';
import { KUBE_PACKAGES } from '../steps/kube-packages.js';
import { loadBalancerPackages } from '../steps/load-balancer.js';
import { basePackages, OS_PREP_PACKAGES } from '../steps/os-prep.js';
import { cniImages } from '../steps/prepull.js';
import { loadBalancers } from '../plan/plan.js';

export type Repository = 'kubernetes' | 'cri-o' | 'os';

export interface PackageArtifact {
  name: string;
  repository: Repository;
  /**
   * What the scripts ask apt for: an exact upstream version (apt picks that version's Debian
   * revision in the repository, e.g. 1.37.2-1.1), "1.37.x" (the newest patch of the minor), or
   * "archive" (the OS release's current version, unpinned), or "newest" (a dependency apt
   * resolves to the repository's newest).
   */
  version: string;
  /** Installed because this package depends on it. */
  dependencyOf?: string;
  held: boolean;
  /** Which hosts install it. */
  hosts: ('node' | 'load-balancer')[];
}

export interface ImageArtifact {
  image: string;
  /** Who names it: kubeadm's list for the exact Kubernetes version, or the CNI release. */
  source: 'kubeadm' | 'cni';
}

export interface FileArtifact { upstream: string; url: string; path: string; why: string }

export interface ArtifactInventory {
  cluster: string;
  os: string;
  kubernetes: string;
  repositories: Record<Repository, { upstream: string; url: string }>;
  packages: PackageArtifact[];
  images: ImageArtifact[];
  /** kubeadm's own images whose tags depend on the release and are not in kubebake's tables. */
  imagesResolvedByKubeadm: { names: string[]; command: string; note: string };
  files: FileArtifact[];
  /** What Packer fetches (the files mirror's copy when there is one) and the upstream downloads behind it. */
  cloudImage: { url: string; checksumUrl: string; checksumType: string; downloads: FileArtifact[] };
  packer: { version: string; plugin: { source: string; version: string } };
}

/**
 * The control-plane images kubeadm pulls whose tag is the Kubernetes version itself (kubeadm's
 * constants KubeAPIServer, KubeControllerManager, KubeScheduler, KubeProxy; image repository
 * registry.k8s.io, its default).
 */
const KUBEADM_VERSIONED = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'];

export function buildArtifactInventory(plan: ClusterPlan): ArtifactInventory {
  const lb = loadBalancers(plan).length > 0;
  const v = plan.kubernetes.version;
  const os = (names: string[], hosts: PackageArtifact['hosts']): PackageArtifact[] => names.map((name) => ({ name, repository: 'os', version: 'archive', held: false, hosts }));
  const base = basePackages(plan);
  const packages: PackageArtifact[] = [
    ...os(base, lb ? ['node', 'load-balancer'] : ['node']),
    ...os(OS_PREP_PACKAGES, ['node']),
    { name: 'cri-o', repository: 'cri-o', version: plan.crio.version ?? `${plan.crio.minor}.x`, held: true, hosts: ['node'] },
    ...KUBE_PACKAGES.map((name): PackageArtifact => ({ name, repository: 'kubernetes', version: v, held: true, hosts: ['node'] })),
    { name: CRI_TOOLS_PACKAGE, repository: 'kubernetes', version: `${plan.kubernetes.minor}.x`, held: true, hosts: ['node'] },
    ...KUBERNETES_REPO_DEPENDENCIES.map((d): PackageArtifact => ({ name: d.name, repository: 'kubernetes', version: 'newest', held: false, hosts: ['node'], dependencyOf: d.of })),
    // keepalived too: the load-balancer image carries it always (loadBalancerPackagesStep), so a mirror needs it for a bake.
    ...(lb ? os(loadBalancerPackages(plan, true), ['load-balancer']) : []),
  ];
  const images: ImageArtifact[] = [
    ...KUBEADM_VERSIONED.map((c): ImageArtifact => ({ image: `registry.k8s.io/${c}:v${v}`, source: 'kubeadm' })),
    ...cniImages(plan).map((image): ImageArtifact => ({ image, source: 'cni' })),
  ];
  const downloads = cniDownloads(plan.cni.plugin, plan.cni.version, plan.kubernetes.minor);
  const upstreamOs = OS[plan.os.profile];
  const cloud = cloudImageDownloads(upstreamOs, plan.os.profile);
  const file = (d: Download): FileArtifact => ({ upstream: d.upstream, url: downloadUrl(plan.mirrors, d), path: d.path, why: d.why });
  const plugin = PLUGINS[plan.packer.builder];
  return {
    cluster: plan.name,
    os: plan.os.profile,
    kubernetes: v,
    repositories: {
      kubernetes: { upstream: kubernetesAptRepo(plan.kubernetes.minor), url: plan.kubernetes.aptRepo },
      'cri-o': { upstream: crioAptRepo(plan.crio.minor), url: plan.crio.aptRepo },
      os: { upstream: `the ${plan.os.profile} archive (${plan.os.codename})`, url: plan.mirrors?.os?.url ?? 'the image\'s own apt sources' },
    },
    packages,
    images,
    imagesResolvedByKubeadm: {
      names: ['registry.k8s.io/etcd', 'registry.k8s.io/coredns/coredns', 'registry.k8s.io/pause'],
      command: `kubeadm config images list --kubernetes-version v${v}`,
      note: "Their tags are constants of each kubeadm release (cmd/kubeadm/app/constants/constants.go: DefaultEtcdVersion, CoreDNSVersion, PauseVersion); kubebake has no verified table of them per release, so the bundle's fill script asks the pinned kubeadm itself.",
    },
    files: downloads.map(file),
    cloudImage: { url: plan.os.image.url, checksumUrl: plan.os.image.checksumUrl, checksumType: plan.os.image.checksumType, downloads: [file(cloud.image), file(cloud.checksums)] },
    packer: { version: PACKER_VERSION, plugin: { source: plugin.source, version: plugin.version } },
  };
}

/** The inventory as text for a terminal. */
export function formatArtifactInventory(m: ArtifactInventory): string {
  const out: string[] = [`Cluster ${m.cluster}: Kubernetes ${m.kubernetes} on ${m.os}`, '', 'Repositories:'];
  for (const [name, r] of Object.entries(m.repositories)) out.push(`  ${name.padEnd(10)} ${r.url}${r.url === r.upstream ? '' : `  (mirror of ${r.upstream})`}`);
  out.push('', 'Packages (repository, version; held = apt-mark hold):');
  for (const p of m.packages) out.push(`  ${p.name.padEnd(16)} ${p.repository.padEnd(10)} ${p.version}${p.held ? ' held' : ''}${p.dependencyOf ? ` (dependency of ${p.dependencyOf})` : ''}  [${p.hosts.join(', ')}]`);
  out.push('', 'Container images:');
  for (const i of m.images) out.push(`  ${i.image}  (${i.source})`);
  out.push(`  ${m.imagesResolvedByKubeadm.names.join(', ')}: tags from \`${m.imagesResolvedByKubeadm.command}\``, `    ${m.imagesResolvedByKubeadm.note}`);
  out.push('', 'Files first boot downloads:');
  for (const f of m.files) out.push(`  ${f.url}${f.url === f.upstream ? '' : `  (mirror of ${f.upstream})`}`);
  out.push('', `Cloud image (Packer): ${m.cloudImage.url}`, `  checksums (${m.cloudImage.checksumType}): ${m.cloudImage.checksumUrl}`);
  out.push('', `Packer ${m.packer.version}, plugin ${m.packer.plugin.source} ${m.packer.plugin.version}`);
  return out.join('\n') + '\n';
}
