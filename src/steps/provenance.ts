import type { ClusterPlan } from '../plan/plan.js';
import type { Builder } from '../topology/types.js';
import { BUILDER_TRAITS } from '../plan/builders.js';
import type { ImageKind } from '../plan/plan.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { cniImages, kubeadmImagesArgs } from './prepull.js';

import type { Step } from './step.js';

/** Identifies the layout of image.json, for readers (image-check) to evolve with it. */
const IMAGE_PROVENANCE_PATH = HOST_PATHS.imageProvenance;

export const PROVENANCE_SCHEMA = 'kubebake.dev/image/v1';

export interface ImageIdentity {
  /** The image's name, e.g. node-ubuntu-24-04. */
  name: string;
  kind: ImageKind;
  builder: Builder;
  /** Digest of the kubebake runtime the image carries (manifest/runtime.ts). */
  runtime: string;
}

/** Packages whose installed versions the image records (and the verify step checks). */
export const RECORDED_PACKAGES: Record<ImageKind, string[]> = {
  node: ['cri-o', 'kubeadm', 'kubelet', 'kubectl', 'cri-tools'],
  'load-balancer': ['haproxy', 'keepalived'],
};

/** What the image promises, known when rendering: JSON text without its closing brace. */
function staticFields(plan: ClusterPlan, image: ImageIdentity): string {
  const fields: Record<string, unknown> = {
    schema: PROVENANCE_SCHEMA,
    generatedBy: 'kubebake',
    image: image.name,
    kind: image.kind,
    builder: image.builder,
    runtime: image.runtime,
    os: { profile: plan.os.profile, family: plan.os.family, release: plan.os.release, codename: plan.os.codename },
    ...(BUILDER_TRAITS[image.builder].vendorImage ? { sourceImage: { url: plan.os.image.url, checksumUrl: plan.os.image.checksumUrl } } : {}),
    ...(image.kind === 'node'
      ? {
          kubernetes: plan.kubernetes.version,
          crio: plan.crio.version ?? plan.crio.minor,
          cni: { plugin: plan.cni.plugin, version: plan.cni.version },
          cniImages: cniImages(plan),
        }
      : {}),
  };
  // JSON.stringify escapes every value; the text goes into a quoted heredoc, so the shell
  // changes nothing in it.
  return JSON.stringify(fields, null, 2).replace(/\n\}$/, '');
}

/**
 * Writes ${IMAGE_PROVENANCE_PATH}: what the image was built for (from the plan) and what it
 * actually contains (installed package versions and images, read on the image), with the build
 * time taken on the image (`date -u`): rendering stays free of clocks.
 */
export function provenanceStep(plan: ClusterPlan, image: ImageIdentity): Step {
  const staticJson = staticFields(plan, image);
  const packages = RECORDED_PACKAGES[image.kind];
  const kubeImages =
    image.kind === 'node'
      ? `
printf ',\\n  "kubernetesImages": ['
sep=''
for image in $(kubeadm config images list ${kubeadmImagesArgs(plan)}); do
  printf '%s\\n    "%s"' "$sep" "$(json_safe "$image")"
  sep=','
done
printf '\\n  ]'`
      : '';
  return {
    name: 'provenance',
    purpose: `Records what this ${image.kind} image was built for and contains in ${IMAGE_PROVENANCE_PATH}.`,
    helpers: [],
    body: `# Values read on the image are versions and image names; anything outside their alphabet is dropped.
json_safe() { printf '%s' "$1" | tr -cd 'A-Za-z0-9._:/@+~=-'; }
pkg_version() { dpkg-query -W -f='\${Version}' "$1" 2>/dev/null || true; }
built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
install -d -m 0755 ${HOST_PATHS.configDir}
{
cat <<'EOF_PROVENANCE'
${staticJson}
EOF_PROVENANCE
printf ',\\n  "packages": {'
sep=''
for pkg in ${packages.join(' ')}; do
  printf '%s\\n    "%s": "%s"' "$sep" "$pkg" "$(json_safe "$(pkg_version "$pkg")")"
  sep=','
done
printf '\\n  }'${kubeImages}
printf ',\\n  "builtAt": "%s"\\n}\\n' "$built_at"
} > ${IMAGE_PROVENANCE_PATH}.tmp
chmod 0644 ${IMAGE_PROVENANCE_PATH}.tmp
mv ${IMAGE_PROVENANCE_PATH}.tmp ${IMAGE_PROVENANCE_PATH}
echo "wrote ${IMAGE_PROVENANCE_PATH}"`,
  };
}
