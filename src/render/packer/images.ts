// Which images a plan needs, and what each one runs while it is baked.
import { loadBalancers, type ClusterPlan } from '../../plan/plan.js';
import { imageSteps, type ImageKind } from '../../steps/host-steps.js';
import { imageVerifyStep } from '../../steps/image-verify.js';
import { prepullStep } from '../../steps/prepull.js';
import { provenanceStep } from '../../steps/provenance.js';
import { script } from '../../steps/shell.js';
import type { Step } from '../../steps/step.js';
import { sealStep, sysprepStep } from '../../steps/sysprep.js';
import type { Builder } from '../../topology/types.js';

export interface PackerImage {
  /** Folder under packer/ and the image's name: node-ubuntu-24-04, load-balancer-ubuntu-24-04. */
  name: string;
  kind: ImageKind;
  builder: Builder;
}

const osSlug = (plan: ClusterPlan): string => plan.os.profile.replace(/\./g, '-');

/**
 * A node image for the plan's OS (control planes and workers boot the same image), and a
 * load-balancer image when the cluster has load balancers.
 */
export function packerImages(plan: ClusterPlan): PackerImage[] {
  const builder = plan.packer.builder;
  const images: PackerImage[] = [{ name: `node-${osSlug(plan)}`, kind: 'node', builder }];
  if (loadBalancers(plan).length) images.push({ name: `load-balancer-${osSlug(plan)}`, kind: 'load-balancer', builder });
  return images;
}

/** The name of the built artifact (template, VM or disk file stem); carries the versions it was built for. */
export function artifactName(plan: ClusterPlan, image: PackerImage): string {
  const k8s = image.kind === 'node' ? `-k8s-${plan.kubernetes.version.replace(/\./g, '-')}` : '';
  return `kubebake-${image.name}${k8s}`;
}

/**
 * A cloud image's first boot keeps cloud-init busy (growpart, SSH keys, apt sources) after SSH
 * is up; provisioning waits for it so the image steps start on a settled machine.
 */
export const WAIT_FOR_CLOUD_INIT: Step = {
  name: 'cloud-init-wait',
  script: script(
    'Waits until cloud-init has finished the build machine\'s first boot.',
    `# rc 2 (degraded: recoverable warnings, e.g. from a datasource) is not a reason to stop.
rc=0
cloud-init status --wait >/dev/null || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
  cloud-init status --long >&2 || true
  echo "cloud-init failed on the build machine (rc $rc)" >&2
  exit 1
fi
echo "cloud-init finished"`,
  ),
};

export type ProvisionPhase = 'wait' | 'image' | 'prepull' | 'provenance' | 'verify' | 'sysprep' | 'seal';

export interface Provision {
  phase: ProvisionPhase;
  step: Step;
}

/**
 * Everything the build runs, in order: the image steps (the very Step objects first-boot
 * user-data runs), the node's image prepull, the provenance record, the verification that fails
 * the build on a broken image, and sysprep. Builders without a shutdown_command (proxmox-clone)
 * end with the seal step; the others seal in their shutdown_command.
 */
export function provisions(plan: ClusterPlan, image: PackerImage): Provision[] {
  const out: Provision[] = [{ phase: 'wait', step: WAIT_FOR_CLOUD_INIT }];
  for (const step of imageSteps(plan, image.kind, true)) out.push({ phase: 'image', step });
  if (image.kind === 'node') out.push({ phase: 'prepull', step: prepullStep(plan) });
  out.push(
    { phase: 'provenance', step: provenanceStep(plan, { name: image.name, kind: image.kind, builder: image.builder }) },
    { phase: 'verify', step: imageVerifyStep(plan, image.kind) },
    { phase: 'sysprep', step: sysprepStep(plan) },
  );
  if (!hasShutdownCommand(image.builder)) out.push({ phase: 'seal', step: sealStep(plan) });
  return out;
}

/** proxmox-clone shuts the VM down through the Proxmox API; it has no shutdown_command. */
export const hasShutdownCommand = (builder: Builder): boolean => builder !== 'proxmox-clone';

/** scripts/NN-<step>.sh, numbered in run order from 00 (the cloud-init wait). */
export const scriptPath = (index: number, step: Step): string => `scripts/${String(index).padStart(2, '0')}-${step.name}.sh`;
