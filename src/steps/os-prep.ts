import { HOST_PATHS } from '../plan/host-paths.js';
import type { ClusterPlan } from '../plan/plan.js';
import { APT_GET } from './helpers.js';
import type { Step } from './step.js';

/** What the base step installs from the OS archive (also listed by `kubebake manifest`). */
export const basePackages = (plan: ClusterPlan): string[] => ['ca-certificates', 'curl', 'gpg', ...(plan.firewallMode === 'open-required-ports' ? ['nftables'] : [])];
/** The userland tools kubeadm's preflight checks for, from the OS archive. */
export const OS_PREP_PACKAGES = ['conntrack', 'socat', 'ethtool', 'iptables', 'ebtables'];

/** Every host: current packages and the tools the later steps use. */
export function baseStep(plan: ClusterPlan): Step {
  return {
    name: 'base',
    purpose: 'OS upgrade and the tools later steps use.',
    helpers: [APT_GET],
    body: `apt_get update
apt_get upgrade
apt_get install --no-install-recommends ${basePackages(plan).join(' ')}
install -d -m 0755 ${HOST_PATHS.aptKeyrings}`,
  };
}

/**
 * Kubernetes nodes: swap off for good, the kernel modules and sysctls kubelet and the CNI need
 * (SEED.md step 1), and the userland tools kubeadm's preflight checks for.
 */
export function osPrepStep(_plan: ClusterPlan): Step {
  return {
    name: 'os-prep',
    purpose: 'Kubernetes node OS: swap off, kernel modules, sysctls.',
    helpers: [APT_GET],
    body: `apt_get install --no-install-recommends ${OS_PREP_PACKAGES.join(' ')}
# kubelet refuses to run with swap on: off now and for good (fstab lines, swap units)
swapoff -a
sed -ri '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/#kubebake swap off: /' /etc/fstab
systemctl list-units --type=swap --all --plain --no-legend | awk '{print $1}' | while read -r u; do systemctl mask "$u"; done
systemctl mask swap.target
printf '%s\\n' overlay br_netfilter > /etc/modules-load.d/k8s.conf
modprobe -a overlay br_netfilter
printf '%s = 1\\n' net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward > /etc/sysctl.d/k8s.conf
sysctl --system >/dev/null`,
  };
}
