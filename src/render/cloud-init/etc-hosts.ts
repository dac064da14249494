import type { ClusterPlan } from '../../plan/plan.js';
import { GENERATED } from '../../steps/shell.js';

/** Without DNS every host knows every other by name (SEED.md); the API VIP gets a name too. */
export function renderEtcHosts(plan: ClusterPlan): string {
  const lines = [`# ${GENERATED}`, '127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const n of plan.nodes) lines.push([n.ip, n.fqdn, n.name].filter(Boolean).join(' '));
  if (plan.endpoint.name) lines.push(`${plan.endpoint.address} ${plan.endpoint.name}`);
  return lines.join('\n') + '\n';
}
