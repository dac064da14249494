import type { ClusterPlan } from '../plan/plan.js';
import { aptSource } from './crio.js';
import { APT_GET, APT_SOURCE, PICK_VERSION } from './helpers.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/** kubelet, kubeadm, kubectl pinned to the topology's patch version from pkgs.k8s.io, then held. */
export function kubePackagesStep(plan: ClusterPlan): Step {
  const version = plan.kubernetes.version;
  return {
    name: 'kube-packages',
    purpose: `kubelet, kubeadm and kubectl ${version} from pkgs.k8s.io, held.`,
    helpers: [APT_GET, APT_SOURCE, PICK_VERSION],
    body: `${aptSource('kubernetes', plan.kubernetes.aptRepo)}
apt_get update
v=$(pick_version kubeadm ${q(version)})
[ -n "$v" ] || { echo "Kubernetes ${version} is not in ${plan.kubernetes.aptRepo}" >&2; exit 1; }
apt_get install --allow-change-held-packages "kubelet=$v" "kubeadm=$v" "kubectl=$v"
apt-mark hold kubelet kubeadm kubectl
# Enabled, not started: kubeadm starts kubelet once its configuration exists.
systemctl enable kubelet`,
  };
}
