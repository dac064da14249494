// A node's upgrade step: the new minor's package repositories, kubeadm first, `kubeadm upgrade
// apply` (the first control plane) or `kubeadm upgrade node` (every other node), then kubelet,
// kubectl, cri-tools and CRI-O, pinned and held as first boot holds them, and the services
// restarted. Rendered from the TARGET plan with the same functions first boot's steps use (the
// repositories and their keys, pick_version, apt_get, the site's mirrors and proxy), so an upgraded
// node has what a node booted at the new version has.
//
// Upstream's procedure: kubernetes/website content/en/docs/tasks/administer-cluster/kubeadm/
// kubeadm-upgrade.md and upgrading-linux-nodes.md (the package repository of the new minor; upgrade
// kubeadm with `apt-mark unhold` / `apt-get install kubeadm=<version>` / `apt-mark hold`; `kubeadm
// upgrade apply v<version>` on the first control plane, `kubeadm upgrade node` on the others; then
// kubelet and kubectl the same way; `systemctl daemon-reload` and `systemctl restart kubelet`).
// `--allow-change-held-packages` is the one-command form of unhold/install the same page gives.
//
// The step is not in the first-boot user-data: it needs what first boot cannot know (the next
// minor's repositories and keys, the site's mirrors and proxy as they are then), and it would only
// add to every seed's size. `kubebake upgrade apply` ships it over SSH when it upgrades the node (upgrade/remote.ts) and
// runs it through the host's first-boot runner, so the status file, the log and the progress reports
// work as at first boot.
import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { CRI_TOOLS_PACKAGE } from '../topology/facts/versions.js';
import { cniInstall } from './cni.js';
import { aptSource } from './crio.js';
import { APT_GET, APT_SOURCE, PICK_VERSION } from './helpers.js';
import { KUBE_PACKAGES } from './kube-packages.js';
import { q } from './shell.js';
import { proxyExports, sourcesStep } from './sources.js';
import type { ShellHelper, Step } from './step.js';

export const UPGRADE_STEP = 'upgrade';

export interface UpgradeStepOptions {
  /** `kubeadm upgrade apply` (the first control plane) or `node`. */
  kubeadm: 'apply' | 'node';
  /** The first control plane also upgrades the CNI (its release or manifests change with the minor). */
  cni: boolean;
}

/**
 * `kubeadm upgrade node` takes its version from the cluster's ClusterConfiguration
 * (kube-system/kubeadm-config, which `kubeadm upgrade apply` rewrites: node.go newNodeData →
 * FetchInitConfigurationFromCluster), not from itself: run before `apply` it would leave the node's
 * control plane at the old version while its kubelet moves on, newer than kube-apiserver, which the
 * version skew policy forbids. So the step checks first, with the credentials kubeadm uses there
 * (admin.conf on a control plane, kubelet.conf elsewhere; kubeadm's upload-config lets nodes read
 * the ConfigMap). Checked before anything changes.
 */
const afterApply = (v: string): string => `kc=${HOST_PATHS.kubeletConf}
[ ! -e ${HOST_PATHS.apiserverManifest} ] || kc=${HOST_PATHS.adminConf}
have=$(kubectl --kubeconfig "$kc" -n kube-system get configmap kubeadm-config -o 'jsonpath={.data.ClusterConfiguration}' | sed -n 's/^kubernetesVersion: *//p')
[ "$have" = ${q(`v${v}`)} ] || { echo "kubeadm-config says \${have:-nothing}, not v${v}: kubeadm upgrade apply v${v} must run on the first control plane first" >&2; exit 1; }`;

export function upgradeStep(plan: ClusterPlan, node: NodePlan, opts: UpgradeStepOptions): Step {
  const v = plan.kubernetes.version;
  const repo = plan.kubernetes.aptRepo;
  const sources = sourcesStep(plan);
  const cni = opts.cni ? cniInstall(plan) : undefined;
  const crioPick = plan.crio.version
    ? `c=$(pick_version cri-o ${q(plan.crio.version)})
[ -n "$c" ] || { echo "CRI-O ${plan.crio.version} is not in ${plan.crio.aptRepo}" >&2; exit 1; }
c="cri-o=$c"`
    : 'c=cri-o';
  // Cilium's CLI installs once; a newer release of the pin needs `cilium upgrade` (cilium-cli cli/install.go).
  const ciliumUpgrade = plan.cni.plugin === 'cilium' ? `\nretry cilium upgrade --version ${q(plan.cni.version.replace(/^v/, ''))} --set ipam.mode=kubernetes` : '';
  const helpers: ShellHelper[] = [APT_GET, ...(plan.kubernetes.aptKey && plan.crio.aptKey ? [] : [APT_SOURCE]), PICK_VERSION, ...(cni?.helpers ?? [])];
  const body = [
    `# Kubernetes ${v} on ${node.name}: kubeadm upgrade ${opts.kubeadm}`,
    ...(opts.kubeadm === 'node' ? [afterApply(v)] : []),
    ...(plan.proxy ? [proxyExports(plan).trimEnd()] : []),
    ...(sources ? ['# The site\'s mirrors and proxy, as the topology has them now.', sources.body] : []),
    `# The package repositories of Kubernetes ${plan.kubernetes.minor} (one per minor).`,
    aptSource('kubernetes', repo, plan.kubernetes.aptKey),
    aptSource('cri-o', plan.crio.aptRepo, plan.crio.aptKey),
    'apt_get update',
    `v=$(pick_version kubeadm ${q(v)})`,
    `[ -n "$v" ] || { echo "Kubernetes ${v} is not in ${repo}" >&2; exit 1; }`,
    `t=$(pick_version ${CRI_TOOLS_PACKAGE} ${q(plan.kubernetes.minor + '.')})`,
    `[ -n "$t" ] || { echo "${CRI_TOOLS_PACKAGE} ${plan.kubernetes.minor}.x is not in ${repo}" >&2; exit 1; }`,
    crioPick,
    '# Held packages move only when allowed, and are held again at once.',
    'apt_get install --allow-change-held-packages "kubeadm=$v"',
    'apt-mark hold kubeadm',
    ...(opts.kubeadm === 'apply' ? [`kubeadm upgrade apply -y ${q(`v${v}`)}`] : ['kubeadm upgrade node']),
    ...(cni ? [`# ${plan.cni.plugin} ${plan.cni.version}, as the cluster's minor needs it`, `(\nexport KUBECONFIG=${HOST_PATHS.adminConf}\n${cni.body}${ciliumUpgrade}\n)`] : []),
    'before=$(dpkg-query -W -f \'${Version}\' cri-o 2>/dev/null || true)',
    `apt_get install --allow-change-held-packages "$c" ${KUBE_PACKAGES.filter((p) => p !== 'kubeadm').map((p) => `"${p}=$v"`).join(' ')} "${CRI_TOOLS_PACKAGE}=$t"`,
    `apt-mark hold cri-o ${KUBE_PACKAGES.join(' ')} ${CRI_TOOLS_PACKAGE}`,
    'systemctl daemon-reload',
    '[ "$(dpkg-query -W -f \'${Version}\' cri-o)" = "$before" ] || systemctl restart crio',
    'systemctl restart kubelet',
  ].join('\n');
  return { name: UPGRADE_STEP, purpose: `Upgrades ${node.name} to Kubernetes ${v} (kubeadm upgrade ${opts.kubeadm}).`, helpers, body };
}

/** Where the step lives on a node while it runs (and afterwards, as a record). */
export const UPGRADE_STEP_PATH = `${HOST_PATHS.scriptDir}/${UPGRADE_STEP}.sh`;
