import type { ClusterPlan, NodePlan, PortRule } from '../plan/plan.js';
import { q } from './shell.js';
import type { Step } from './step.js';

function ufwRule(r: PortRule): string {
  const from = r.from ?? 'any';
  const proto = r.proto === 'any' ? '' : ` proto ${r.proto}`;
  const port = r.port ? ` port ${r.port}` : '';
  return `ufw allow${proto} from ${q(from)} to any${port} comment ${q(r.why)}`;
}

/**
 * Opens exactly the ports of the host's role and CNI (SEED.md, "Required ports"), instead of
 * switching the firewall off as the how-to did — unless the topology says `firewall: disabled`.
 */
export function firewallStep(plan: ClusterPlan, node: NodePlan): Step {
  if (plan.firewallMode === 'disabled') {
    return {
      name: 'firewall',
      purpose: 'Firewall disabled by the topology (firewall: disabled).',
      helpers: [],
      body: `if command -v ufw >/dev/null; then ufw --force disable; fi
if systemctl list-unit-files ufw.service >/dev/null 2>&1; then systemctl disable --now ufw.service || true; fi`,
    };
  }
  // Pods' traffic is forwarded through the node; ufw drops routed packets by default.
  const routed = node.role === 'load-balancer' ? 'deny' : 'allow';
  return {
    name: 'firewall',
    purpose: `Firewall for a ${node.role}: only the ports its role and the CNI need.`,
    helpers: [],
    body: `ufw default deny incoming
ufw default allow outgoing
ufw default ${routed} routed
${node.firewall.map(ufwRule).join('\n')}
ufw --force enable`,
  };
}
