import type { ClusterPlan } from '../plan/plan.js';
import { APT_GET } from './helpers.js';
import type { Step } from './step.js';

/** HAProxy (and keepalived when the API has a VIP) from the OS repositories. */
export function loadBalancerPackagesStep(plan: ClusterPlan, forImage = false): Step {
  // The image carries keepalived always, so one load-balancer image serves VIP and non-VIP sites.
  const keepalived = forImage || plan.vip ? ' keepalived' : '';
  return {
    name: 'load-balancer-packages',
    purpose: 'HAProxy for the Kubernetes API and ingress frontends.',
    helpers: [APT_GET],
    body: `apt_get install --no-install-recommends haproxy${keepalived}
systemctl enable haproxy`,
  };
}
