// What kubebake refuses to upgrade, and why: upstream's rules, as named predicates over the
// versions the cluster runs and the version the topology asks for. Pure.
//
// Sources:
// - kubernetes/website content/en/releases/version-skew-policy.md (@ 01bc09751ea95187842d07b12453df0eba104622):
//   "project policies ... require kube-apiserver to not skip minor versions when upgrading, even in
//   single-instance clusters"; in HA clusters "the newest and oldest kube-apiserver instances must be
//   within one minor version"; "kubelet must not be newer than kube-apiserver" and "may be up to
//   three minor versions older"; "kubelet instances that are persistently three minor versions
//   behind kube-apiserver ... must be upgraded before the control plane can be upgraded".
// - kubernetes/kubernetes cmd/kubeadm/app/phases/upgrade/policy.go (EnforceVersionPolicies, @
//   8b56eb8588263556c279c60eb3a0783f663869f3): MaximumAllowedMinorVersionUpgradeSkew = 1 (a skipped
//   minor is a mandatory error: "Specified version to upgrade to ... is too high; kubeadm can upgrade
//   only 1 minor version at a time"), MaximumAllowedMinorVersionDowngradeSkew = 1, and
//   detectTooOldKubelets (newMinor > kubeletMinor + MaximumAllowedMinorVersionKubeletSkew), which
//   kubernetes/kubernetes pull request #120825 (kubeadm v1.29, "allow deploying a kubelet that is 3
//   versions older") raised from 1 to 3. kubeadm treats the kubelet check as skippable with --force;
//   kubebake does not force.
// - kubernetes/website content/en/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade.md:
//   "Skipping MINOR versions when upgrading is unsupported."
// kubeadm tolerates a downgrade of one minor; kubebake refuses every downgrade: its packages are
// pinned and held at the topology's version, and nothing it runs is a tested way back.
import type { Message } from '../diagnostics/messages.js';
import { upgradeMsg } from '../diagnostics/messages.js';
import { parseVersion, testedWith, type CniRelease } from '../topology/facts/versions.js';

/** kubeadm's MaximumAllowedMinorVersionUpgradeSkew. */
export const MAX_MINOR_STEP = 1;
/** kubeadm's MaximumAllowedMinorVersionKubeletSkew (since v1.29), the skew policy's "three minor versions older". */
export const MAX_KUBELET_MINORS_BEHIND = 3;
/** The skew policy's bound between the newest and oldest kube-apiserver of an HA cluster. */
export const MAX_APISERVER_MINOR_SPREAD = 1;

/** "v1.37.2" or "1.37.2" → [1, 37, 2]; undefined when it is not a release version. */
export function semver(text: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const x = semver(a)!;
  const y = semver(b)!;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

const minor = (v: string): number => parseVersion(v.replace(/^v/, '')).minor;
const bare = (v: string): string => v.replace(/^v/, '');

/** What runs, as the API shows it. */
export interface RunningVersions {
  /** kubeadm's ClusterConfiguration.kubernetesVersion (kube-system/kubeadm-config), without "v". */
  cluster: string;
  /** Each control plane's kube-apiserver (its static pod's image tag), without "v"; absent when unknown. */
  apiServers: { node: string; version?: string }[];
  /** Each Node's kubelet (status.nodeInfo.kubeletVersion), without "v". */
  kubelets: { node: string; version: string }[];
}

/** The CNI the target installs, for the tested-range rule. */
export interface TargetCni { plugin: string; release?: CniRelease; version: string }

/** Why the upgrade from what runs to `target` is refused; empty when it is allowed. */
export function upgradeRefusals(running: RunningVersions, target: string, cni: TargetCni): Message[] {
  const out: Message[] = [];
  const t = bare(target);
  const newestApi = running.apiServers.map((a) => a.version).filter((v): v is string => !!v && !!semver(v)).sort(compareVersions).at(-1);
  // The cluster is as new as its newest control-plane component (an apply that stopped midway).
  const current = newestApi && compareVersions(newestApi, running.cluster) > 0 ? newestApi : running.cluster;
  if (compareVersions(t, current) < 0) out.push(upgradeMsg.downgrade(current, t));
  else if (minor(t) > minor(current) + MAX_MINOR_STEP) out.push(upgradeMsg.skipsMinor(current, t));
  const newerKubelets = running.kubelets.filter((k) => semver(k.version) && compareVersions(k.version, t) > 0);
  if (newerKubelets.length && compareVersions(t, current) >= 0) out.push(upgradeMsg.kubeletNewerThanTarget(newerKubelets, t));
  const apiMinors = running.apiServers.map((a) => a.version).filter((v): v is string => !!v && !!semver(v)).map(minor);
  if (apiMinors.length && Math.max(...apiMinors) - Math.min(...apiMinors) > MAX_APISERVER_MINOR_SPREAD) out.push(upgradeMsg.apiServerSpread(running.apiServers));
  const tooOld = running.kubelets.filter((k) => semver(k.version) && minor(t) > minor(k.version) + MAX_KUBELET_MINORS_BEHIND);
  if (tooOld.length) out.push(upgradeMsg.kubeletTooOld(tooOld, t, MAX_KUBELET_MINORS_BEHIND));
  if (cni.release && testedWith(cni.release, `${parseVersion(t).major}.${minor(t)}`) === false) out.push(upgradeMsg.cniUntested(cni.plugin, cni.version, cni.release.testedKubernetes!, t));
  return out;
}
