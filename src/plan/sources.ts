// Where a cluster's artefacts come from: upstream, or the site's mirrors (topology `mirrors`), and
// which proxy reaches them. One table of downloads (what is neither a package nor an image), so the
// first-boot scripts, Packer, `kubebake manifest` and `kubebake bundle` cannot disagree on a URL.
import type { CniPlugin, Mirrors, Topology } from '../topology/types.js';
import { calicoCrdManifest, type OsInfo } from '../topology/facts/versions.js';

/** Cilium is installed with its CLI; pinned, checksum-verified. */
export const CILIUM_CLI_VERSION = 'v0.18.7';
/** Architectures kubebake's bundle carries per-architecture downloads for. */
export const ARCHES = ['amd64', 'arm64'] as const;

/** One file first boot or Packer downloads: where upstream publishes it, and its place in a files mirror. */
export interface Download {
  /** Upstream URL (https://…). */
  upstream: string;
  /** Path under the files mirror (mirrors.files) and under the bundle's mirror/files/. Names no upstream host. */
  path: string;
  why: string;
}

/** The downloads of a CNI release (for Cilium: its CLI, per architecture, with the checksum file). */
export function cniDownloads(plugin: CniPlugin, version: string, kubernetesMinor: string): Download[] {
  switch (plugin) {
    case 'calico':
      return [calicoCrdManifest(version, kubernetesMinor), 'tigera-operator.yaml'].map((name) => ({
        upstream: `https://raw.githubusercontent.com/projectcalico/calico/${version}/manifests/${name}`,
        path: `cni/calico/${version}/${name}`,
        why: `Calico ${version} manifest applied by the first control plane`,
      }));
    case 'flannel':
      return [{ upstream: `https://github.com/flannel-io/flannel/releases/download/${version}/kube-flannel.yml`, path: `cni/flannel/${version}/kube-flannel.yml`, why: `Flannel ${version} manifest` }];
    case 'cilium':
      return ARCHES.flatMap((arch) =>
        [`cilium-linux-${arch}.tar.gz`, `cilium-linux-${arch}.tar.gz.sha256sum`].map((name) => ({
          upstream: `https://github.com/cilium/cilium-cli/releases/download/${CILIUM_CLI_VERSION}/${name}`,
          path: `cni/cilium-cli/${CILIUM_CLI_VERSION}/${name}`,
          why: `the Cilium CLI ${CILIUM_CLI_VERSION} that installs Cilium ${version}`,
        })),
      );
    case 'weave':
      return [{ upstream: `https://github.com/weaveworks/weave/releases/download/${version}/weave-daemonset-k8s-1.11.yaml`, path: `cni/weave/${version}/weave-daemonset-k8s-1.11.yaml`, why: `Weave Net ${version} manifest` }];
  }
}

/** The cloud image Packer starts from, and its checksum file. */
export function cloudImageDownloads(os: OsInfo, profile: string): { image: Download; checksums: Download } {
  const base = (url: string): string => url.slice(url.lastIndexOf('/') + 1);
  return {
    image: { upstream: os.image.url, path: `cloud-images/${profile}/${base(os.image.url)}`, why: `${profile} cloud image Packer builds from` },
    checksums: { upstream: os.image.checksumUrl, path: `cloud-images/${profile}/${base(os.image.checksumUrl)}`, why: `checksums of the ${profile} cloud image` },
  };
}

/** Where a download is fetched from: the files mirror when there is one. */
export const downloadUrl = (mirrors: Mirrors | undefined, d: Download): string => (mirrors?.files ? mirrors.files + d.path : d.upstream);

/** The directory URL of a set of downloads that share one (Cilium's CLI files). */
export const downloadBase = (mirrors: Mirrors | undefined, d: Download): string => {
  const url = downloadUrl(mirrors, d);
  return url.slice(0, url.lastIndexOf('/'));
};

/** Kubernetes' DNS domain: kubeadm's default, which kubebake's ClusterConfiguration sets. */
export const CLUSTER_DOMAIN = 'cluster.local';

export interface ProxyPlan {
  http?: string;
  https?: string;
  /** The topology's entries, then what must never go through the proxy (cluster traffic). */
  noProxy: string[];
}

/**
 * The proxy with its complete noProxy list: kubelet, CRI-O and kubectl must reach the nodes, pods,
 * services and the API directly, whatever the operator listed.
 */
export function proxyPlan(t: Topology, endpointAddress: string, endpointNames: string[]): ProxyPlan | undefined {
  if (!t.proxy || (!t.proxy.http && !t.proxy.https)) return undefined;
  const always = [
    'localhost',
    '127.0.0.1',
    t.network.nodeSubnet,
    t.network.podSubnet,
    t.network.serviceSubnet,
    endpointAddress,
    ...endpointNames,
    `.svc`,
    `.${CLUSTER_DOMAIN}`,
    ...(t.network.searchDomain ? [`.${t.network.searchDomain}`] : []),
  ];
  return { http: t.proxy.http, https: t.proxy.https, noProxy: [...new Set([...t.proxy.noProxy, ...always])] };
}

/**
 * Hosts kubebake's output downloads from when no mirror replaces them (package repositories,
 * files, cloud images, OS archives). With every mirror set, none of them may appear in the output.
 * Registry names (registry.k8s.io, quay.io, …) are image names, not download hosts: CRI-O resolves
 * them through registries.conf's mirrors.
 */
export const UPSTREAM_DOWNLOAD_HOSTS = [
  'pkgs.k8s.io',
  'download.opensuse.org',
  'raw.githubusercontent.com',
  'github.com',
  'cloud-images.ubuntu.com',
  'cloud.debian.org',
  'archive.ubuntu.com',
  'security.ubuntu.com',
  'deb.debian.org',
  'security.debian.org',
] as const;
