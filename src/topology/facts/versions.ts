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
  /** A release kubebake can install (cni.version, or the pin chosen per Kubernetes minor). */
  version: string;
  /** Kubernetes minors the CNI project says it tests this release against (inclusive); undefined: it publishes no range. */
  testedKubernetes?: [string, string];
  /** The oldest kernel series the CNI project documents for this release. */
  minKernel?: string;
  source: string;
}

/**
 * The CNI releases kubebake pins, newest first, with the Kubernetes minors and kernel each
 * project documents for them. For a Kubernetes minor kubebake installs the newest release tested
 * against it (pinnedCniRelease). One table; the README's version table says the same.
 */
export const CNI_RELEASES: Record<CniPlugin, readonly CniRelease[]> = {
  // tigera/docs calico_versioned_docs/version-3.33/releases.json @ 2e59109d2216b710466e2ca1f9169a682fb69087
  // (v3.33.0, tigera/operator v1.44.0) and _includes/partials/_system-requirements.mdx @
  // 21ef1d343c7fcf317e658e9e96615a7229b1e611 ("We test Calico 3.33 against 1.35, 1.36, 1.37";
  // "Linux kernel 5.10 or later"; the same page also lists "Ubuntu 20.04 or later", whose GA
  // kernel is 5.4: kubebake warns there).
  calico: [{ version: 'v3.33.0', testedKubernetes: ['1.35', '1.37'], minKernel: '5.10', source: 'tigera/docs version-3.33' }],
  // flannel-io/flannel tag v0.28.9 (5cd0d52648e891d73a6dcb9bb2c67d7c365cf7aa, 2026-08-07), the
  // newest tag in the stored repository. Documentation/kubernetes.md: "flanneld itself should work
  // with any version of Kubernetes"; no tested range is published.
  flannel: [{ version: 'v0.28.9', source: 'flannel-io/flannel v0.28.9' }],
  // Documentation/network/kubernetes/compatibility.rst of each release ("All Kubernetes versions
  // listed are e2e tested and guaranteed to be compatible with Cilium"; a release branch keeps
  // its tested minors for its whole maintenance period, the same page says):
  // - v1.19.3: "1.32, 1.33, 1.34, 1.35". Read from a copy of that file at 1.19.3
  //   (contextqmd.com/libraries/cilium/versions/1.19.3/pages/Documentation/network/kubernetes/compatibility);
  //   the cilium/cilium repository itself is too large to fetch here. Later v1.19 patches exist
  //   (v1.19.8 is named in sighupio/module-networking v4.1.0's release notes) but their file was not readable.
  // - v1.18.14: "1.30, 1.31, 1.32, 1.33"
  //   (raw.githubusercontent.com/cilium/cilium/v1.18.14/Documentation/network/kubernetes/compatibility.rst).
  // Cilium 1.20 (released 2026-07-29: cilium/cilium-cli pull request 3281) is not pinned: its
  // compatibility table could not be read from here, so no release tested against 1.36 or 1.37
  // is known, and kubebake refuses cilium on those minors (REFUSES_UNTESTED_KUBERNETES).
  // cilium-cli v0.18.7, which installs them (src/plan/sources.ts), supports "Cilium 1.16 and newer"
  // (cilium/cilium-cli README.md @ v0.18.7, 024e340cca1465e2a6336521f12370c7ca58c59a).
  // Kernel minimum not verified for these releases.
  cilium: [
    { version: '1.19.3', testedKubernetes: ['1.32', '1.35'], source: 'cilium/cilium v1.19.3 compatibility.rst' },
    { version: '1.18.14', testedKubernetes: ['1.30', '1.33'], source: 'cilium/cilium v1.18.14 compatibility.rst' },
  ],
  // Weave Net's last release; the project is archived (warned on every run).
  weave: [{ version: 'v2.8.1', source: 'weaveworks/weave v2.8.1' }],
};

/**
 * CNIs whose every install must be a combination upstream e2e-tested: a Kubernetes minor that no
 * pinned release is tested against is refused (an explicit cni.version too). Cilium publishes a
 * tested range for each release and its releases between them cover the minors it tests, so
 * kubebake pins per minor and installs nothing untested. Calico's single pin (tested with
 * 1.35–1.37) only warns on older minors: refusing would refuse the default CNI there.
 */
export const REFUSES_UNTESTED_KUBERNETES: ReadonlySet<CniPlugin> = new Set<CniPlugin>(['cilium']);

const bareVersion = (v: string): string => v.replace(/^v/, '');

/** Whether the release is tested against the minor; undefined when its project publishes no range. */
export function testedWith(release: CniRelease, minor: string): boolean | undefined {
  const r = release.testedKubernetes;
  return r === undefined ? undefined : atLeastMinor(minor, r[0]) && atLeastMinor(r[1], minor);
}

const atLeastMinor = (a: string, b: string): boolean => parseVersion(a).minor >= parseVersion(b).minor;

/** The table's entry for a release (cilium "1.19.3" and "v1.19.3" are one release), or undefined. */
export const cniRelease = (plugin: CniPlugin, version: string): CniRelease | undefined =>
  CNI_RELEASES[plugin].find((r) => bareVersion(r.version) === bareVersion(version));

/**
 * The release kubebake installs for the plugin on the Kubernetes minor: the newest one tested
 * against that minor; for a CNI that only warns on untested minors, else its newest. undefined:
 * no release is tested against the minor and the CNI is in REFUSES_UNTESTED_KUBERNETES.
 */
export function pinnedCniRelease(plugin: CniPlugin, minor: string): CniRelease | undefined {
  const releases = CNI_RELEASES[plugin];
  return releases.find((r) => testedWith(r, minor) !== false) ?? (REFUSES_UNTESTED_KUBERNETES.has(plugin) ? undefined : releases[0]);
}

/** The Kubernetes minors (of `minors`) some pinned release of the plugin is tested against. */
export const minorsWithTestedRelease = (plugin: CniPlugin, minors: readonly string[]): string[] =>
  minors.filter((m) => CNI_RELEASES[plugin].some((r) => testedWith(r, m) === true));

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
  /** Past standard support (still renderable, with a warning naming what to move to). */
  eol?: { ended: string; successor: OsProfile; note?: string };
  /** Official cloud image and its checksum file, for Packer. */
  image: { url: string; checksumUrl: string; checksumType: 'sha256' | 'sha512' };
}

/** The cloud image each family publishes per release, and its checksum file. */
const CLOUD_IMAGES: Record<OsInfo['family'], (release: string, codename: string) => OsInfo['image']> = {
  ubuntu: (release) => ({
    url: `https://cloud-images.ubuntu.com/releases/${release}/release/ubuntu-${release}-server-cloudimg-amd64.img`,
    checksumUrl: `https://cloud-images.ubuntu.com/releases/${release}/release/SHA256SUMS`,
    checksumType: 'sha256',
  }),
  // genericcloud (cloud-init, no hardware drivers), amd64, the `latest/` folder with its SHA512SUMS
  // (the bookworm layout; libosinfo's osinfo-db data/os/debian.org/debian-13.xml.in @
  // 043607c92f746b4599422710fd742a8254276cbf names trixie's images debian-13-genericcloud-amd64
  // under cloud.debian.org/images/cloud/trixie/).
  debian: (release, codename) => ({
    url: `https://cloud.debian.org/images/cloud/${codename}/latest/debian-${release}-genericcloud-amd64.qcow2`,
    checksumUrl: `https://cloud.debian.org/images/cloud/${codename}/latest/SHA512SUMS`,
    checksumType: 'sha512',
  }),
};

const osInfo = (family: OsInfo['family'], release: string, codename: string, eol?: OsInfo['eol']): OsInfo => ({
  family,
  release,
  codename,
  ...(eol ? { eol } : {}),
  image: CLOUD_IMAGES[family](release, codename),
});

/**
 * Support ends: the `eol` column (standard support; for Debian, the security team's) of Debian's
 * distro-info-data 0.58+deb12u7 (/usr/share/distro-info/{ubuntu,debian}.csv): focal 2025-05-29;
 * bookworm 2026-07-11 ("Update the bookworm EoL" in 0.58+deb12u6; announced earlier as
 * 2026-06-10, wiki.debian.org/DebianReleases), then Debian LTS (eol-lts) until 2028-06-30, which
 * covers only part of the archive (wiki.debian.org/LTS). Still supported: jammy 2027-06-01, noble
 * 2029-05-31, resolute 2031-05-29, trixie 2028-08-09.
 */
export const OS: Record<OsProfile, OsInfo> = {
  'ubuntu-20.04': osInfo('ubuntu', '20.04', 'focal', { ended: '2025-05-29', successor: 'ubuntu-24.04' }),
  'ubuntu-22.04': osInfo('ubuntu', '22.04', 'jammy'),
  'ubuntu-24.04': osInfo('ubuntu', '24.04', 'noble'),
  'ubuntu-26.04': osInfo('ubuntu', '26.04', 'resolute'),
  'debian-12': osInfo('debian', '12', 'bookworm', {
    ended: '2026-07-11',
    successor: 'debian-13',
    note: 'Debian LTS covers part of its archive until 2028-06-30',
  }),
  'debian-13': osInfo('debian', '13', 'trixie'),
};
