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
export function imageCheckStep(plan: ClusterPlan, node: NodePlan, runtimeDigest: string): Step {
  const checks =
    node.role === 'load-balancer'
      ? `command -v haproxy >/dev/null || { echo "haproxy is not installed in this image" >&2; exit 1; }`
      : `have=$(kubeadm version -o short 2>/dev/null || echo none)
[ "$have" = ${q('v' + plan.kubernetes.version)} ] || { echo "image has kubeadm $have, the topology wants v${plan.kubernetes.version}: bake a matching image" >&2; exit 1; }
systemctl is-enabled crio >/dev/null || { echo "CRI-O is not enabled in this image" >&2; exit 1; }`;
  return {
    name: 'image-check',
    purpose: 'Baked mode: is this the kubebake image (runtime, versions) rendered for?',
    helpers: [],
    body: `# baked mode installs nothing: fail early on an image that is not the one rendered for
f=${IMAGE_PROVENANCE_PATH}
[ -f $f ] || { echo "$f is missing: not a kubebake image (set image: first-boot or bake one)" >&2; exit 1; }
grep -q '"runtime": "${runtimeDigest}"' $f || { echo "the image's kubebake runtime differs from this kubebake's: bake the image again" >&2; exit 1; }
${checks}`,
  };
}
