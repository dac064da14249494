import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { CONFIG_DIR, q, script } from './shell.js';
import type { Step } from './step.js';

export const HAPROXY_STAGED_PATH = `${CONFIG_DIR}/haproxy.cfg`;
export const KEEPALIVED_STAGED_PATH = `${CONFIG_DIR}/keepalived.conf`;
export const KEEPALIVED_CHECK_PATH = '/etc/keepalived/check-haproxy.sh';
export const LB_SYSCTL_PATH = '/etc/sysctl.d/90-kubebake-lb.conf';

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
sysctl -p ${LB_SYSCTL_PATH} >/dev/null
install -m 0644 ${KEEPALIVED_STAGED_PATH} /etc/keepalived/keepalived.conf
keepalived -t -f /etc/keepalived/keepalived.conf
systemctl enable keepalived
systemctl restart keepalived`
    : '';
  return {
    name: 'load-balancer-config',
    script: script(
      'HAProxy configuration for the Kubernetes API and ingress frontends.',
      `${keepalived}
haproxy -c -f ${HAPROXY_STAGED_PATH}
install -m 0644 ${HAPROXY_STAGED_PATH} /etc/haproxy/haproxy.cfg
systemctl enable haproxy
systemctl restart haproxy`,
    ),
  };
}
