// Which steps each kind of host runs. Image steps are the single source of truth shared by
// first-boot user-data and the Packer bake.
import { isKubernetesNode, type ClusterPlan, type NodePlan } from '../plan/plan.js';
import { bootstrapStep } from './bootstrap.js';
import { crioStep } from './crio.js';
import { firewallStep } from './firewall.js';
import { imageCheckStep } from './image-check.js';
import { kubePackagesStep } from './kube-packages.js';
import { loadBalancerConfigStep } from './load-balancer-config.js';
import { loadBalancerPackagesStep } from './load-balancer.js';
import { baseStep, osPrepStep } from './os-prep.js';
import type { Step } from './step.js';

export type ImageKind = 'node' | 'load-balancer';

/** What a baked image contains, and what first-boot mode installs instead. */
export function imageSteps(plan: ClusterPlan, kind: ImageKind, forImage = false): Step[] {
  return kind === 'node'
    ? [baseStep(plan), osPrepStep(plan), crioStep(plan), kubePackagesStep(plan)]
    : [baseStep(plan), loadBalancerPackagesStep(plan, forImage)];
}

export interface HostSteps {
  steps: Step[];
  /** Helper scripts a step calls, beyond the steps themselves. */
  extraScripts: { path: string; content: string }[];
}

export function hostSteps(plan: ClusterPlan, node: NodePlan): HostSteps {
  const kind: ImageKind = isKubernetesNode(node) ? 'node' : 'load-balancer';
  const install = plan.image === 'baked' ? [imageCheckStep(plan, node)] : imageSteps(plan, kind);
  if (kind === 'load-balancer') {
    return { steps: [...install, firewallStep(plan, node), loadBalancerConfigStep(plan, node)], extraScripts: [] };
  }
  const bootstrap = bootstrapStep(plan, node);
  return { steps: [...install, firewallStep(plan, node), bootstrap.step], extraScripts: bootstrap.extraScripts };
}
