import { CRI_SOCKET, type ClusterPlan } from '../plan/plan.js';
import { parseVersion } from '../topology/facts/versions.js';
import { CILIUM_CLI_VERSION } from './cni.js';
import { RETRY } from './helpers.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/**
 * The container images each CNI release runs on every node, as its manifest (or the installer
 * kubebake uses) references them. Versions that travel with a CNI release but are not its own
 * (Calico's tigera operator, Flannel's CNI plugin image, Cilium's Envoy) are known only for the
 * releases listed here; for another `cni.version` the image carries the release's own images and
 * the rest are pulled at first boot.
 */
const CNI_COMPANIONS: Record<string, string[]> = {
  // tigera/operator v1.38.6 ships Calico v3.30.3 (config/calico_versions.yml of that release).
  'calico@v3.30.3': ['quay.io/tigera/operator:v1.38.6'],
  // tigera/docs calico_versioned_docs/version-3.33/releases.json @ 2e59109d2216b710466e2ca1f9169a682fb69087.
  'calico@v3.33.0': ['quay.io/tigera/operator:v1.44.0'],
  // Documentation/kube-flannel.yml of flannel-io/flannel v0.28.9.
  'flannel@v0.28.9': ['ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3'],
  // kube-flannel.yml of v0.27.3.
  'flannel@v0.27.3': ['ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel1'],
  // The cilium-envoy DaemonSet image the 1.18.2 chart pins (installed by cilium-cli).
  'cilium@1.18.2': ['quay.io/cilium/cilium-envoy:v1.34.7-1757592137-1a52bb680a956879722f48c591a2ca90f7791324'],
  // weave-daemonset-k8s-1.11.yaml of v2.8.1 runs only weave-kube and weave-npc.
  'weave@v2.8.1': [],
};

/** The release's own images, derived from its version alone. */
function ownCniImages(plan: ClusterPlan): string[] {
  const v = plan.cni.version;
  switch (plan.cni.plugin) {
    case 'calico':
      // From 3.33 the release's Linux images are calico/calico and calico/node on quay.io
      // (releases.json of version-3.33; whisker, envoy-* and *-windows are for resources kubebake
      // does not create). Before: what the operator deploys for kubebake's Installation + APIServer.
      if (parseVersion(v).minor >= 33) return ['calico', 'node'].map((c) => `quay.io/calico/${c}:${v}`);
      return ['node', 'cni', 'kube-controllers', 'typha', 'pod2daemon-flexvol', 'csi', 'node-driver-registrar', 'apiserver'].map(
        (c) => `docker.io/calico/${c}:${v}`,
      );
    case 'flannel':
      return [`ghcr.io/flannel-io/flannel:${v}`];
    case 'cilium': {
      const tag = v.startsWith('v') ? v : `v${v}`;
      return [`quay.io/cilium/cilium:${tag}`, `quay.io/cilium/operator-generic:${tag}`];
    }
    case 'weave': {
      const tag = v.replace(/^v/, '');
      return [`docker.io/weaveworks/weave-kube:${tag}`, `docker.io/weaveworks/weave-npc:${tag}`];
    }
  }
}

const companionImages = (plan: ClusterPlan): string[] | undefined => CNI_COMPANIONS[`${plan.cni.plugin}@${plan.cni.version}`];

/** The CNI's images for the plan's CNI release, fully qualified (CRI-O resolves no short names by default). */
export function cniImages(plan: ClusterPlan): string[] {
  return [...ownCniImages(plan), ...(companionImages(plan) ?? [])];
}

/** `kubeadm config images …` for the plan's exact Kubernetes version. */
export const kubeadmImagesArgs = (plan: ClusterPlan): string => `--kubernetes-version ${q('v' + plan.kubernetes.version)}`;

/**
 * Pulls the control-plane images (kubeadm's list for the exact version) and the CNI's images
 * into CRI-O's store, so a node from this image joins without a registry round trip for them.
 */
export function prepullStep(plan: ClusterPlan): Step {
  const images = cniImages(plan);
  const companionsKnown = companionImages(plan) !== undefined;
  return {
    name: 'prepull',
    purpose: `Pulls Kubernetes ${plan.kubernetes.version} control-plane images and ${plan.cni.plugin} ${plan.cni.version} images into CRI-O.`,
    helpers: [RETRY],
    body: `readonly CRI_SOCKET=${q(CRI_SOCKET)}
systemctl is-active --quiet crio || systemctl start crio
retry kubeadm config images pull ${kubeadmImagesArgs(plan)} --cri-socket "$CRI_SOCKET"
${companionsKnown ? '' : `# Images that travel with ${plan.cni.plugin} ${plan.cni.version} but are not its own are not known to kubebake: pulled at first boot.\n`}for image in ${images.map(q).join(' ')}; do
  retry crictl --runtime-endpoint "$CRI_SOCKET" pull "$image"
done${plan.cni.plugin === 'cilium' ? `\n# The cilium CLI (${CILIUM_CLI_VERSION}) itself is installed by the first control plane at first boot.` : ''}`,
  };
}
