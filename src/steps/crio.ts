import type { ClusterPlan } from '../plan/plan.js';
import { APT_GET, APT_SOURCE, PICK_VERSION } from './helpers.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/** Adds an apt source signed by its own keyring (the step lists APT_SOURCE among its helpers). */
export function aptSource(name: string, repo: string): string {
  return `apt_source ${q(name)} ${q(repo)}`;
}

/** CRI-O from isv:cri-o for the Kubernetes minor; its cgroup manager is systemd, like kubelet's. */
export function crioStep(plan: ClusterPlan): Step {
  const install = plan.crio.version
    ? `v=$(pick_version cri-o ${q(plan.crio.version)})
[ -n "$v" ] || { echo "CRI-O ${plan.crio.version} is not in ${plan.crio.aptRepo}" >&2; exit 1; }
apt_get install --allow-change-held-packages "cri-o=$v"`
    : `apt_get install cri-o`;
  return {
    name: 'crio',
    purpose: `CRI-O ${plan.crio.version ?? plan.crio.minor} from isv:cri-o.`,
    helpers: plan.crio.version ? [APT_GET, APT_SOURCE, PICK_VERSION] : [APT_GET, APT_SOURCE],
    body: `${aptSource('cri-o', plan.crio.aptRepo)}
apt_get update
${install}
# held: an unattended upgrade must not move the runtime under kubelet
apt-mark hold cri-o
systemctl enable --now crio`,
  };
}
