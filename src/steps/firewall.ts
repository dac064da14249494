import type { ClusterPlan } from '../plan/plan.js';
import { HOST_PATHS, unitName } from '../plan/host-paths.js';
import type { Step } from './step.js';

const { firewallRuleset, firewallUnit } = HOST_PATHS;
const unit = unitName(firewallUnit);

// ufw and firewalld rewrite iptables chains the CNI and kube-proxy own (Calico asks for them to
// be off); kubebake's own nftables table replaces them.
const OTHER_FIREWALLS_OFF = `if command -v ufw >/dev/null; then ufw --force disable; fi
systemctl disable --now ufw.service firewalld.service 2>/dev/null || true`;

/**
 * Opens exactly the ports of the host's role and CNI (SEED.md, "Required ports"), instead of
 * switching the firewall off as the how-to did — unless the topology says `firewall: disabled`.
 * The ruleset (config/firewall-nft.ts) filters input only: routed pod traffic is never dropped.
 */
export function firewallStep(plan: ClusterPlan): Step {
  if (plan.firewallMode === 'disabled') {
    return {
      name: 'firewall',
      purpose: 'Firewall disabled by the topology (firewall: disabled).',
      helpers: [],
      body: `${OTHER_FIREWALLS_OFF}
systemctl disable --now ${unit} 2>/dev/null || true
if command -v nft >/dev/null; then nft delete table inet kubebake 2>/dev/null || true; fi`,
    };
  }
  return {
    name: 'firewall',
    purpose: "Host firewall: kubebake's nftables table (its role's and the CNI's ports).",
    helpers: [],
    body: `${OTHER_FIREWALLS_OFF}
nft -c -f ${firewallRuleset}
nft -f ${firewallRuleset}
systemctl daemon-reload
systemctl enable ${unit}`,
  };
}
