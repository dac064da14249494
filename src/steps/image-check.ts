import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { q } from './shell.js';
import type { Step } from './step.js';

const IMAGE_PROVENANCE_PATH = HOST_PATHS.imageProvenance;

/**
 * Baked mode installs nothing at boot, so it first checks the image is a kubebake image with the
 * versions this topology wants; a mismatch fails early with a clear status instead of a
 * confusing kubeadm error later.
 */
export function imageCheckStep(plan: ClusterPlan, node: NodePlan): Step {
  const checks =
    node.role === 'load-balancer'
      ? `command -v haproxy >/dev/null || { echo "haproxy is not installed in this image" >&2; exit 1; }`
      : `want=${q('v' + plan.kubernetes.version)}
have=$(kubeadm version -o short 2>/dev/null || echo none)
[ "$have" = "$want" ] || { echo "image has kubeadm $have, the topology wants $want: bake a matching image" >&2; exit 1; }
systemctl is-enabled crio >/dev/null || { echo "CRI-O is not enabled in this image" >&2; exit 1; }`;
  return {
    name: 'image-check',
    purpose: 'Baked mode: check this is a kubebake image with the expected versions.',
    helpers: [],
    body: `[ -f ${IMAGE_PROVENANCE_PATH} ] || { echo "${IMAGE_PROVENANCE_PATH} is missing: not a kubebake image (set image: first-boot or bake one)" >&2; exit 1; }
${checks}`,
  };
}
