import type { ClusterPlan } from '../plan/plan.js';
import { CRI_TOOLS_PACKAGE } from '../topology/facts/versions.js';
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
    purpose: `kubelet, kubeadm, kubectl ${version}, cri-tools ${plan.kubernetes.minor} from ${plan.mirrors?.kubernetes ? 'their mirror' : 'pkgs.k8s.io'}, held.`,
    helpers: [APT_GET, ...(plan.kubernetes.aptKey ? [] : [APT_SOURCE]), PICK_VERSION],
    body: `${aptSource('kubernetes', plan.kubernetes.aptRepo, plan.kubernetes.aptKey)}
apt_get update
v=$(pick_version kubeadm ${q(version)})
[ -n "$v" ] || { echo "Kubernetes ${version} is not in ${plan.kubernetes.aptRepo}" >&2; exit 1; }
# crictl of the same minor: kubeadm (since 1.32) and CRI-O do not bring it
t=$(pick_version ${CRI_TOOLS_PACKAGE} ${q(plan.kubernetes.minor + '.')})
[ -n "$t" ] || { echo "${CRI_TOOLS_PACKAGE} ${plan.kubernetes.minor}.x is not in ${plan.kubernetes.aptRepo}" >&2; exit 1; }
apt_get install --allow-change-held-packages ${KUBE_PACKAGES.map((p) => `"${p}=$v"`).join(' ')} "${CRI_TOOLS_PACKAGE}=$t"
apt-mark hold ${KUBE_PACKAGES.join(' ')} ${CRI_TOOLS_PACKAGE}
# kubeadm starts kubelet once its configuration exists
systemctl enable kubelet`,
  };
}
