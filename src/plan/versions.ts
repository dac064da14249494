// What each Kubernetes minor means for kubebake: one table and named predicates, so version
// logic is not scattered as comparisons through the renderers.
import type { CniPlugin, OsProfile } from '../topology/types.js';

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

/** CNI releases kubebake pins (overridable with cni.version). */
export const CNI_VERSIONS: Record<CniPlugin, string> = {
  calico: 'v3.30.3',
  flannel: 'v0.27.3',
  cilium: '1.18.2',
  weave: 'v2.8.1',
};

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
