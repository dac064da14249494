import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { GENERATED } from '../util/generated.js';

/** Up to this many hosts, `etcHosts: auto` lists them all (SEED.md: without DNS every host knows every other). */
export const ETC_HOSTS_ALL_MAX = 32;

/** Whether every host's /etc/hosts lists the whole cluster, or only what a host must resolve. */
export const listsAllHosts = (plan: ClusterPlan): boolean =>
  plan.network.etcHosts === 'all' || (plan.network.etcHosts === 'auto' && plan.nodes.length <= ETC_HOSTS_ALL_MAX);

const line = (n: NodePlan): string => [n.ip, n.fqdn, n.name].filter(Boolean).join(' ');

/**
 * /etc/hosts for each host. With the full list every host gets the same file. Otherwise it names
 * only what every node must resolve — the load balancers, the control planes, the API name — and
 * a worker itself, so a host's user-data does not grow with the number of workers.
 */
export function etcHostsRenderer(plan: ClusterPlan): (node: NodePlan) => string {
  const all = listsAllHosts(plan);
  const head = `# ${GENERATED}\n127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n`;
  const listed = plan.nodes.filter((n) => all || n.role !== 'worker').map((n) => `${line(n)}\n`).join('');
  const api = plan.vip ? `${plan.vip.address} ${plan.name}-api\n` : '';
  const shared = `${head}${listed}${api}`;
  return (node) => (all || node.role !== 'worker' ? shared : `${head}${listed}${line(node)}\n${api}`);
}
