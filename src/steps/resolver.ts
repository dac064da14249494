import type { ClusterPlan } from '../plan/plan.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import type { Step } from './step.js';

/** The topology's resolver settings, as the resolver step copies them (resolv.conf syntax). */
export function renderResolvConf(plan: ClusterPlan): string {
  const lines = [...plan.network.dns.map((d) => `nameserver ${d}`), ...(plan.network.searchDomain ? [`search ${plan.network.searchDomain}`] : [])];
  return `${lines.join('\n')}\n`;
}

/**
 * The topology's DNS servers for the host's resolver, before anything is downloaded. netplan and
 * networkd hosts get them from network-config through systemd-resolved (/etc/resolv.conf is its
 * link there); ifupdown applies `dns-nameservers` only through the resolvconf package, which a
 * Debian-installer machine does not have (found booting a Debian 12 VM from a rendered seed):
 * there /etc/resolv.conf is written as the installer writes it for a static address. The servers
 * come in a file of their own, so the step is the same everywhere and a baked image carries it.
 */
export const RESOLVER_STEP: Step = {
  name: 'resolver',
  purpose: "The topology's DNS servers where no resolver manager applies network-config's.",
  helpers: [],
  body: `# ifupdown without resolvconf ignores network-config's DNS servers
if [ -L /etc/resolv.conf ] || command -v resolvconf >/dev/null; then exit 0; fi
cp ${HOST_PATHS.resolvConf} /etc/resolv.conf`,
};
