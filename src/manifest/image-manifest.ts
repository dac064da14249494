// What each image bakes, decided once: the very Step objects first boot runs on a host of that
// kind, followed by what only an image needs (prepull, provenance, verification, sysprep).
import { loadBalancers, type ClusterPlan } from '../plan/plan.js';
import { crioStep } from '../steps/crio.js';
import { imageVerifyStep } from '../steps/image-verify.js';
import { kubePackagesStep } from '../steps/kube-packages.js';
import { loadBalancerPackagesStep } from '../steps/load-balancer.js';
import { baseStep, osPrepStep } from '../steps/os-prep.js';
import { prepullStep } from '../steps/prepull.js';
import { dropSourcesStep, sourcesStep } from '../steps/sources.js';
import { provenanceStep } from '../steps/provenance.js';
import type { Step } from '../steps/step.js';
import { sealStep, sysprepStep, WAIT_FOR_CLOUD_INIT } from '../steps/sysprep.js';
import type { Builder } from '../topology/types.js';
import { BUILDER_TRAITS } from '../plan/builders.js';
import type { ImageKind } from '../plan/plan.js';
import { imageRuntime, runtimeInstallStep } from './runtime.js';

export type { ImageKind };

/**
 * What a baked image contains, and what first-boot mode installs instead. `forImage`: the
 * load-balancer image always carries keepalived, so one image serves sites with and without a VIP.
 */
export function imageSteps(plan: ClusterPlan, kind: ImageKind, forImage = false): Step[] {
  const sources = sourcesStep(plan);
  return [
    ...(sources ? [sources] : []),
    ...(kind === 'node' ? [baseStep(plan), osPrepStep(plan), crioStep(plan), kubePackagesStep(plan)] : [baseStep(plan), loadBalancerPackagesStep(plan, forImage)]),
  ];
}

/** An image built with mirrors drops them before it is sealed when the topology says so; first boot then writes them. */
export const imageDropsSources = (plan: ClusterPlan): boolean => plan.mirrors?.keepInImage === false;

export type ProvisionPhase = 'wait' | 'image' | 'prepull' | 'runtime' | 'provenance' | 'verify' | 'sysprep' | 'seal';

export interface Provision {
  phase: ProvisionPhase;
  step: Step;
}

export interface ImageManifest {
  /** Folder under packer/ and the image's name: node-ubuntu-24-04, load-balancer-ubuntu-24-04. */
  name: string;
  kind: ImageKind;
  builder: Builder;
  /** Everything the build runs, in order. */
  provisions: readonly Provision[];
}

const osSlug = (plan: ClusterPlan): string => plan.os.profile.replace(/\./g, '-');

/** The name of the built artifact (template, VM or disk file stem); carries the versions it was built for. */
export function artifactName(plan: ClusterPlan, image: Pick<ImageManifest, 'name' | 'kind'>): string {
  const k8s = image.kind === 'node' ? `-k8s-${plan.kubernetes.version.replace(/\./g, '-')}` : '';
  return `kubebake-${image.name}${k8s}`;
}

/**
 * The build's provisioners: the image steps, the node's image prepull, the provenance record, the
 * verification that fails the build on a broken image, and sysprep. Builders without a
 * shutdown_command (proxmox-clone) end with the seal step; the others seal in their shutdown_command.
 */
function provisions(plan: ClusterPlan, identity: Omit<ImageManifest, 'provisions'>): Provision[] {
  const out: Provision[] = [{ phase: 'wait', step: WAIT_FOR_CLOUD_INIT }];
  for (const step of imageSteps(plan, identity.kind, true)) out.push({ phase: 'image', step });
  if (identity.kind === 'node') out.push({ phase: 'prepull', step: prepullStep(plan) });
  const runtime = imageRuntime(plan);
  out.push(
    { phase: 'runtime', step: runtimeInstallStep(runtime) },
    { phase: 'provenance', step: provenanceStep(plan, { ...identity, runtime: runtime.digest }) },
    { phase: 'verify', step: imageVerifyStep(plan, identity.kind) },
  );
  if (imageDropsSources(plan)) out.push({ phase: 'sysprep', step: dropSourcesStep(plan) });
  out.push({ phase: 'sysprep', step: sysprepStep(plan) });
  if (!BUILDER_TRAITS[identity.builder].shutdownCommand) out.push({ phase: 'seal', step: sealStep(plan) });
  return out;
}

/**
 * A node image for the plan's OS (control planes and workers boot the same image), and a
 * load-balancer image when the cluster has load balancers.
 */
export function buildImageManifests(plan: ClusterPlan): ImageManifest[] {
  const builder = plan.packer.builder;
  const kinds: ImageKind[] = loadBalancers(plan).length ? ['node', 'load-balancer'] : ['node'];
  return kinds.map((kind) => {
    const identity = { name: `${kind}-${osSlug(plan)}`, kind, builder };
    return { ...identity, provisions: provisions(plan, identity) };
  });
}
