// What each Kubernetes minor means for kubebake: one table and named predicates, so version
// logic is not scattered as comparisons through the renderers.
import type { CniPlugin, OsProfile } from '../types.js';

/** Minors kubebake knows how to install (pkgs.k8s.io and isv:cri-o both publish them). */
export const SUPPORTED_MINORS = ['1.30', '1.31', '1.32', '1.33', '1.34', '1.35', '1.36', '1.37'] as const;
/** Upstream supports the three newest minors; older ones get no fixes (as of late 2026). */
export const MAINTAINED_MINORS = ['1.35', '1.36', '1.37'] as const;
export const NEWEST_MINOR = '1.37';

export interface Version { major: number; minor: number; patch?: number; text: string }

export function parseVersion(text: string): Version {
  const [major, minor, patch] = text.replace(/^v/, '').split('.').map(Number);
  return { major: major!, minor: minor!, patch, text };
}

export const minorOf = (text: string): string => text.split('.').slice(0, 2).join('.');
export const isSupportedMinor = (minor: string): boolean => (SUPPORTED_MINORS as readonly string[]).includes(minor);
export const isMaintainedMinor = (minor: string): boolean => (MAINTAINED_MINORS as readonly string[]).includes(minor);

/** kubeadm's config API: v1beta4 arrived in 1.31 (extraArgs as name/value lists); v1beta3 before. */
export const usesKubeadmV1beta4 = (minor: string): boolean => parseVersion(minor).minor >= 31;
export const kubeadmApiVersion = (minor: string): string =>
  usesKubeadmV1beta4(minor) ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';

/** One apt repository per minor since apt.kubernetes.io went away (2024-03-04). */
export const kubernetesAptRepo = (minor: string): string => `https://pkgs.k8s.io/core:/stable:/v${minor}/deb/`;
/** CRI-O moved from the stale kubic repos to isv:cri-o, again one per minor. */
export const crioAptRepo = (minor: string): string => `https://download.opensuse.org/repositories/isv:/cri-o:/stable:/v${minor}/deb/`;

/**
 * CRI-O minors the CRI-O project still maintains. cri-o/packaging README.md @
 * db691fcf94effbe3c13bb315546859147ca1149f ("Stable Versions"): isv:cri-o:stable:v1.34 … v1.37;
 * v1.28 … v1.33 are under "End of life". Older minors stay installable (the repositories remain),
 * with a warning.
 */
export const CRIO_MAINTAINED_MINORS = ['1.34', '1.35', '1.36', '1.37'] as const;
export const isCrioMaintainedMinor = (minor: string): boolean => (CRIO_MAINTAINED_MINORS as readonly string[]).includes(minor);

/**
 * cri-tools (crictl), which the image pre-pull and verification steps call. kubeadm's packages
 * stopped depending on it: kubernetes/release cmd/krel/templates/latest/metadata.yaml @
 * 0ffd6e1f6fe45890e56f8ecc0d9a05add25f61ae gives kubeadm ">= 1.30.0 < 1.32.0" the dependency
 * `cri-tools >= 1.30.0` and kubeadm ">= 1.32.0" none; CRI-O's package does not ship crictl either
 * (cri-o/packaging templates/latest/cri-o/cri-o.spec @ bab379a64ce5dc880a2b04296494f01991183658
 * installs crio, pinns, crun, runc, conmon, conmonrs and only /etc/crictl.yaml). pkgs.k8s.io
 * publishes cri-tools in each minor's repository (cmd/krel/templates/latest/cri-tools/cri-tools.spec
 * installs /usr/bin/crictl); its version follows the Kubernetes minor (cri-tools 1.N.x for 1.N).
 */
export const CRI_TOOLS_PACKAGE = 'cri-tools';

/**
 * Packages of pkgs.k8s.io's repository that kubebake's pinned packages pull in as dependencies
 * (a mirror must hold them too): kubernetes/release cmd/krel/templates/latest/metadata.yaml @
 * 0ffd6e1f6fe45890e56f8ecc0d9a05add25f61ae gives kubelet ">= 1.28.0" the dependency kubernetes-cni
 * (versioned as the CNI plugins are, not as Kubernetes: apt takes the repository's newest).
 */
export const KUBERNETES_REPO_DEPENDENCIES = [{ name: 'kubernetes-cni', of: 'kubelet' }] as const;

export interface CniRelease {
  /** The release kubebake installs unless cni.version says otherwise. */
  version: string;
  /** Kubernetes minors the CNI project says it tests this release against (inclusive); undefined: it publishes no range. */
  testedKubernetes?: [string, string];
  /** The oldest kernel series the CNI project documents for this release. */
  minKernel?: string;
  source: string;
}

/**
 * The CNI release each plugin is pinned to, with the Kubernetes minors and kernel its project
 * documents for it. One table; the README's version table says the same.
 */
export const CNI_RELEASES: Record<CniPlugin, CniRelease> = {
  // tigera/docs calico_versioned_docs/version-3.33/releases.json @ 2e59109d2216b710466e2ca1f9169a682fb69087
  // (v3.33.0, tigera/operator v1.44.0) and _includes/partials/_system-requirements.mdx @
  // 21ef1d343c7fcf317e658e9e96615a7229b1e611 ("We test Calico 3.33 against 1.35, 1.36, 1.37";
  // "Linux kernel 5.10 or later"; the same page also lists "Ubuntu 20.04 or later", whose GA
  // kernel is 5.4: kubebake warns there).
  calico: { version: 'v3.33.0', testedKubernetes: ['1.35', '1.37'], minKernel: '5.10', source: 'tigera/docs version-3.33' },
  // flannel-io/flannel tag v0.28.9 (5cd0d52648e891d73a6dcb9bb2c67d7c365cf7aa, 2026-08-07), the
  // newest tag in the stored repository. Documentation/kubernetes.md: "flanneld itself should work
  // with any version of Kubernetes"; no tested range is published.
  flannel: { version: 'v0.28.9', source: 'flannel-io/flannel v0.28.9' },
  // cilium/cilium v1.18.14: Documentation/network/kubernetes/compatibility.rst at that tag lists
  // Kubernetes 1.30–1.33 as e2e-tested. No Cilium release tested against 1.34–1.37 could be
  // verified from here (the repository is too large to fetch; newer docs were not in the index):
  // kubebake warns for those minors. Kernel minimum not verified for this release.
  cilium: { version: '1.18.14', testedKubernetes: ['1.30', '1.33'], source: 'cilium/cilium v1.18.14 compatibility.rst' },
  // Weave Net's last release; the project is archived (warned on every run).
  weave: { version: 'v2.8.1', source: 'weaveworks/weave v2.8.1' },
};

/** CNI releases kubebake pins (overridable with cni.version). */
export const CNI_VERSIONS: Record<CniPlugin, string> = Object.fromEntries(
  Object.entries(CNI_RELEASES).map(([plugin, r]) => [plugin, r.version]),
) as Record<CniPlugin, string>;

/**
 * Calico's documented operator install applies a CRD manifest before tigera-operator.yaml, and
 * its name changed between releases (tigera/docs calico_versioned_docs/version-3.NN/getting-started/
 * kubernetes/self-managed-onprem/onpremises.mdx):
 * - 3.30 (@ b5aa61e651bdad8450d50f48e0d15eb98437b7c7): manifests/operator-crds.yaml
 * - 3.32 (@ 04a77b9e699a153f8ed3faf0db87912e9a3b8bb9): manifests/v1_crd_projectcalico_org.yaml
 * - 3.33 (@ b674ee87c5046833cd56f8306d0adcab4e2f7c0c): manifests/v3_projectcalico_org.yaml on
 *   Kubernetes 1.36 or later, manifests/v3_projectcalico_org-v1beta1.yaml on 1.34 or 1.35.
 * 3.31 was not checked; it is taken to follow 3.30 (operator-crds.yaml, which the 3.31 releases ship).
 */
export function calicoCrdManifest(calicoVersion: string, kubernetesMinor: string): string {
  const calicoMinor = parseVersion(calicoVersion).minor;
  if (calicoMinor >= 33) return parseVersion(kubernetesMinor).minor >= 36 ? 'v3_projectcalico_org.yaml' : 'v3_projectcalico_org-v1beta1.yaml';
  if (calicoMinor === 32) return 'v1_crd_projectcalico_org.yaml';
  return 'operator-crds.yaml';
}

/** Kubernetes minors the CNI release is tested against, or undefined when no range is published. */
export function cniTestedRange(plugin: CniPlugin, version: string): [string, string] | undefined {
  const r = CNI_RELEASES[plugin];
  return r.version === version ? r.testedKubernetes : undefined;
}

/**
 * kubelet ≥ 1.35 refuses to start on a cgroup v1 host unless failCgroupV1 is set to false
 * (KubeletConfiguration default changed to true: kubernetes/kubernetes PR #134298, KEP-5573,
 * "failCgroupV1 will be set to true from 1.35"; pkg/kubelet/apis/config/v1beta1/defaults.go
 * `obj.FailCgroupV1 = ptr.To(true)`).
 */
export const kubeletRefusesCgroupV1 = (minor: string): boolean => parseVersion(minor).minor >= 35;

export interface OsInfo {
  family: 'ubuntu' | 'debian';
  release: string;
  codename: string;
  /** Past standard support (still renderable, with a warning). */
  eol: boolean;
  /** Official cloud image and its checksum file, for Packer. */
  image: { url: string; checksumUrl: string; checksumType: 'sha256' | 'sha512' };
}

const ubuntu = (release: string, codename: string, eol = false): OsInfo => ({
  family: 'ubuntu',
  release,
  codename,
  eol,
  image: {
    url: `https://cloud-images.ubuntu.com/releases/${release}/release/ubuntu-${release}-server-cloudimg-amd64.img`,
    checksumUrl: `https://cloud-images.ubuntu.com/releases/${release}/release/SHA256SUMS`,
    checksumType: 'sha256',
  },
});

export const OS: Record<OsProfile, OsInfo> = {
  'ubuntu-20.04': ubuntu('20.04', 'focal', true),
  'ubuntu-22.04': ubuntu('22.04', 'jammy'),
  'ubuntu-24.04': ubuntu('24.04', 'noble'),
  'ubuntu-26.04': ubuntu('26.04', 'resolute'),
  'debian-12': {
    family: 'debian',
    release: '12',
    codename: 'bookworm',
    eol: false,
    image: {
      url: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2',
      checksumUrl: 'https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS',
      checksumType: 'sha512',
    },
  },
};
