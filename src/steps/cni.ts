import type { ClusterPlan } from '../plan/plan.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { calicoCrdManifest } from '../topology/facts/versions.js';
import { cniDownloads, downloadBase, downloadUrl } from '../plan/sources.js';
import { GENERATED } from '../util/generated.js';
import { toYaml11 } from '../util/yaml.js';
import { RETRY } from './helpers.js';
import { q } from './shell.js';
import type { ShellHelper } from './step.js';

export { CILIUM_CLI_VERSION } from '../plan/sources.js';

/** Calico's operator resources with the pool set to the cluster's pod subnet (VXLAN, no BGP). */
export function renderCalicoResources(plan: ClusterPlan): string {
  const installation = {
    apiVersion: 'operator.tigera.io/v1',
    kind: 'Installation',
    metadata: { name: 'default' },
    spec: {
      calicoNetwork: {
        bgp: 'Disabled',
        ipPools: [{ name: 'default-ipv4-ippool', blockSize: 26, cidr: plan.network.podSubnet, encapsulation: 'VXLAN', natOutgoing: 'Enabled', nodeSelector: 'all()' }],
      },
    },
  };
  const apiServer = { apiVersion: 'operator.tigera.io/v1', kind: 'APIServer', metadata: { name: 'default' }, spec: {} };
  return `${toYaml11(installation)}---\n${toYaml11(apiServer)}`;
}

const { calicoResources: CALICO_RESOURCES_PATH, flannelManifest: FLANNEL_MANIFEST_PATH, cniDir } = HOST_PATHS;

/** Shell that installs the CNI from the first control plane, with the pod subnet wired in. */
export function cniInstall(plan: ClusterPlan): { body: string; helpers: ShellHelper[] } {
  return { body: cniInstallBody(plan), helpers: [RETRY] };
}

function cniInstallBody(plan: ClusterPlan): string {
  const v = plan.cni.version;
  const pod = q(plan.network.podSubnet);
  // From the files mirror when the topology has one (src/plan/sources.ts has the upstream URLs).
  const urls = cniDownloads(plan.cni.plugin, v, plan.kubernetes.minor).map((d) => downloadUrl(plan.mirrors, d));
  switch (plan.cni.plugin) {
    case 'calico':
      // Server-side apply: idempotent on re-runs, and the operator's CRDs are too large for the
      // last-applied annotation of a client-side apply.
      // Calico's documented order: its CRD manifest, then the operator (see calicoCrdManifest).
      return `retry kubectl apply --server-side --force-conflicts -f ${q(urls[0]!)}
retry kubectl apply --server-side --force-conflicts -f ${q(urls[1]!)}
retry kubectl wait --for=condition=Established --timeout=120s crd/installations.operator.tigera.io crd/apiservers.operator.tigera.io
retry kubectl apply -f ${CALICO_RESOURCES_PATH}`;
    case 'flannel':
      return `install -d -m 0755 ${cniDir}
curl -fsSL --retry 5 -o ${FLANNEL_MANIFEST_PATH} ${q(urls[0]!)}
# Flannel's manifest hard-codes 10.244.0.0/16; use the cluster's pod subnet.
sed -i 's|"Network": "10.244.0.0/16"|"Network": "${plan.network.podSubnet}"|' ${FLANNEL_MANIFEST_PATH}
retry kubectl apply -f ${FLANNEL_MANIFEST_PATH}`;
    case 'cilium': {
      const args = `--version ${q(v.replace(/^v/, ''))} --set ipam.mode=kubernetes`;
      return `arch=$(dpkg --print-architecture)
base=${q(downloadBase(plan.mirrors, cniDownloads('cilium', v, plan.kubernetes.minor)[0]!))}
tmp=$(mktemp -d)
curl -fsSL --retry 5 -o "$tmp/cilium.tgz" "$base/cilium-linux-$arch.tar.gz"
curl -fsSL --retry 5 -o "$tmp/cilium.tgz.sha256sum" "$base/cilium-linux-$arch.tar.gz.sha256sum"
(cd "$tmp" && sed "s| .*| cilium.tgz|" cilium.tgz.sha256sum | sha256sum -c -)
tar -xzf "$tmp/cilium.tgz" -C /usr/local/bin cilium
rm -rf "$tmp"
# ipam.mode=kubernetes takes pod CIDRs from kube-controller-manager, i.e. the cluster's podSubnet.
# A second install fails once Cilium's Helm release exists ("cannot re-use a name that is still in
# use": helm pkg/action/install.go, vendored by cilium/cilium-cli v0.18.7): a deployed release is
# left alone, any other is upgraded (cilium upgrade, cilium-cli cli/install.go). Helm labels a
# release's Secrets owner, name and status (pkg/storage/driver/secrets.go).
release() { kubectl -n kube-system get secret -l "owner=helm,name=cilium$1" -o name; }
if [ -z "$(retry release '')" ]; then retry cilium install ${args}
elif [ -z "$(retry release ,status=deployed)" ]; then retry cilium upgrade ${args}; fi`;
    }
    case 'weave':
      return `retry kubectl apply -f ${q(urls[0]!)}
retry kubectl -n kube-system set env daemonset/weave-net -c weave IPALLOC_RANGE=${pod}`;
  }
}
