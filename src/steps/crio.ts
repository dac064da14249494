import type { ClusterPlan } from '../plan/plan.js';
import { APT_FUNCTIONS, q, script } from './shell.js';
import type { Step } from './step.js';

/** Shell function: the exact apt version of a package whose upstream version is $2, or nothing. */
export const PICK_VERSION = `pick_version() {
  apt-cache madison "$1" | awk -v want="$2" '{ v = $3 } v == want || index(v, want "-") == 1 { print v; exit }'
}`;

/** Adds an apt source signed by its own keyring (never apt-key, which is gone). */
export function aptSource(name: string, repo: string): string {
  const keyring = `/etc/apt/keyrings/${name}-apt-keyring.gpg`;
  return `curl -fsSL --retry 5 --retry-delay 5 ${q(repo + 'Release.key')} | gpg --batch --yes --dearmor -o ${q(keyring)}
chmod 0644 ${q(keyring)}
echo ${q(`deb [signed-by=${keyring}] ${repo} /`)} > /etc/apt/sources.list.d/${name}.list`;
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
    script: script(
      `CRI-O ${plan.crio.version ?? plan.crio.minor} from isv:cri-o.`,
      `${APT_FUNCTIONS}
${plan.crio.version ? `${PICK_VERSION}\n` : ''}${aptSource('cri-o', plan.crio.aptRepo)}
apt_get update
${install}
# Held either way: an unattended upgrade must not move the runtime under a running kubelet.
apt-mark hold cri-o
systemctl enable --now crio`,
    ),
  };
}
