import type { ClusterPlan } from '../plan/plan.js';
import { APT_GET } from './helpers.js';
import type { Step } from './step.js';

/** What a load balancer installs from the OS archive. The image carries keepalived always, so one load-balancer image serves VIP and non-VIP sites. */
export const loadBalancerPackages = (plan: ClusterPlan, forImage = false): string[] => ['haproxy', ...(forImage || plan.vip ? ['keepalived'] : [])];

/** HAProxy (and keepalived when the API has a VIP) from the OS repositories. */
export function loadBalancerPackagesStep(plan: ClusterPlan, forImage = false): Step {
  return {
    name: 'load-balancer-packages',
    purpose: 'HAProxy for the Kubernetes API and ingress frontends.',
    helpers: [APT_GET],
    body: `apt_get install --no-install-recommends ${loadBalancerPackages(plan, forImage).join(' ')}
systemctl enable haproxy`,
  };
}
