import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { q } from './shell.js';
import type { Step } from './step.js';

const { haproxyStaged, keepalivedStaged, lbSysctl } = HOST_PATHS;

/** Puts the rendered HAProxy (and keepalived) configuration in place, checked before it is used. */
export function loadBalancerConfigStep(plan: ClusterPlan, node: NodePlan): Step {
  // The rules require an interface on every load balancer when there is a VIP.
  const iface = q(node.interface ?? '');
  const keepalived = plan.vip
    ? `
# keepalived's interface is the topology's name for this NIC: say so plainly if it is wrong.
if [ ! -e /sys/class/net/${iface} ]; then
  echo "interface ${iface} (hosts[].interface in the topology) does not exist here; this host has: $(ls /sys/class/net | paste -sd ' ' -)" >&2
  exit 1
fi
# The backup balancer binds the VIP before it owns it.
sysctl -p ${lbSysctl} >/dev/null
install -m 0644 ${keepalivedStaged} /etc/keepalived/keepalived.conf
keepalived -t -f /etc/keepalived/keepalived.conf
systemctl enable keepalived
systemctl restart keepalived`
    : '';
  return {
    name: 'load-balancer-config',
    purpose: 'HAProxy configuration for the Kubernetes API and ingress frontends.',
    helpers: [],
    body: `${keepalived ? `${keepalived.trim()}\n` : ''}haproxy -c -f ${haproxyStaged}
install -m 0644 ${haproxyStaged} /etc/haproxy/haproxy.cfg
systemctl enable haproxy
systemctl restart haproxy`,
  };
}
