import type { ClusterPlan } from '../plan/plan.js';
import { CRI_TOOLS_PACKAGE } from '../plan/versions.js';
import { aptSource } from './crio.js';
import { APT_GET, APT_SOURCE, PICK_VERSION } from './helpers.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/** The Kubernetes packages pinned to the topology's exact version. */
export const KUBE_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'] as const;

/** kubelet, kubeadm, kubectl pinned to the topology's patch version from pkgs.k8s.io, cri-tools of its minor, all held. */
export function kubePackagesStep(plan: ClusterPlan): Step {
  const version = plan.kubernetes.version;
  return {
    name: 'kube-packages',
    purpose: `kubelet, kubeadm and kubectl ${version} and cri-tools ${plan.kubernetes.minor} from ${plan.mirrors?.kubernetes ? 'their mirror' : 'pkgs.k8s.io'}, held.`,
    helpers: [APT_GET, ...(plan.kubernetes.aptKey ? [] : [APT_SOURCE]), PICK_VERSION],
    body: `${aptSource('kubernetes', plan.kubernetes.aptRepo, plan.kubernetes.aptKey)}
apt_get update
v=$(pick_version kubeadm ${q(version)})
[ -n "$v" ] || { echo "Kubernetes ${version} is not in ${plan.kubernetes.aptRepo}" >&2; exit 1; }
# crictl (cri-tools) of the same minor: image pre-pull and checks use it, and neither kubeadm
# (since 1.32) nor CRI-O's package brings it (src/plan/versions.ts, CRI_TOOLS_PACKAGE).
t=$(apt-cache madison ${CRI_TOOLS_PACKAGE} | awk -v want=${q(plan.kubernetes.minor + '.')} '{ v = $3 } index(v, want) == 1 { print v; exit }')
[ -n "$t" ] || { echo "${CRI_TOOLS_PACKAGE} ${plan.kubernetes.minor}.x is not in ${plan.kubernetes.aptRepo}" >&2; exit 1; }
apt_get install --allow-change-held-packages ${KUBE_PACKAGES.map((p) => `"${p}=$v"`).join(' ')} "${CRI_TOOLS_PACKAGE}=$t"
apt-mark hold ${KUBE_PACKAGES.join(' ')} ${CRI_TOOLS_PACKAGE}
# Enabled, not started: kubeadm starts kubelet once its configuration exists.
systemctl enable kubelet`,
  };
}
