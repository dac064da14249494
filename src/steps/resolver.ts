import type { ClusterPlan } from '../plan/plan.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/**
 * The topology's DNS servers for the host's resolver, before anything is downloaded. netplan and
 * networkd hosts get them from network-config through systemd-resolved (/etc/resolv.conf is its
 * link there); ifupdown applies `dns-nameservers` only through the resolvconf package, which a
 * Debian-installer machine does not have (found booting a Debian 12 VM from a rendered seed):
 * there /etc/resolv.conf is written as the installer writes it for a static address.
 */
export function resolverStep(plan: ClusterPlan): Step {
  const lines = [...plan.network.dns.map((d) => `nameserver ${d}`), ...(plan.network.searchDomain ? [`search ${plan.network.searchDomain}`] : [])];
  return {
    name: 'resolver',
    purpose: "The topology's DNS servers, where no resolver manager applies network-config's.",
    helpers: [],
    body: `if [ -L /etc/resolv.conf ] || command -v resolvconf >/dev/null; then exit 0; fi
printf '%s\\n' ${lines.map(q).join(' ')} > /etc/resolv.conf`,
  };
}
