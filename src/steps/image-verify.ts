import { CRI_SOCKET, type ClusterPlan } from '../plan/plan.js';
import type { ImageKind } from '../manifest/image-manifest.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { cniImages, kubeadmImagesArgs } from './prepull.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/** The shell helpers every check uses: a failed check is reported and counted, never fatal alone. */
const CHECK_FUNCTIONS = `failures=0
fail() { echo "image verification FAILED: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}
# pkg_is NAME UPSTREAM: the installed Debian version of NAME is UPSTREAM-<revision>.
pkg_is() {
  local v
  v=$(dpkg-query -W -f='\${Version}' "$1" 2>/dev/null) || return 1
  case "$v" in "$2"-*) return 0 ;; *) return 1 ;; esac
}
# pkg_minor_is NAME MINOR: the installed version of NAME is MINOR.<patch>-<revision>.
pkg_minor_is() {
  local v
  v=$(dpkg-query -W -f='\${Version}' "$1" 2>/dev/null) || return 1
  case "$v" in "$2".*) return 0 ;; *) return 1 ;; esac
}
installed() { [ "$(dpkg-query -W -f='\${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
held() { apt-mark showhold | grep -qx "$1"; }
enabled() { [ "$(systemctl is-enabled "$1" 2>/dev/null)" = enabled ]; }
line_in() { grep -qxF -- "$2" "$1"; }`;

const PROVENANCE_CHECK = `check "${HOST_PATHS.imageProvenance} is valid JSON" python3 -m json.tool ${HOST_PATHS.imageProvenance}`;

function nodeChecks(plan: ClusterPlan): string {
  const v = plan.kubernetes.version;
  const crio = plan.crio.version
    ? `check ${q(`cri-o is ${plan.crio.version}`)} pkg_is cri-o ${q(plan.crio.version)}
check "cri-o is held" held cri-o`
    : `check ${q(`cri-o is ${plan.crio.minor}.x`)} pkg_minor_is cri-o ${q(plan.crio.minor)}`;
  return `readonly CRI_SOCKET=${q(CRI_SOCKET)}
for pkg in kubeadm kubelet kubectl; do
  check "$pkg is ${v}" pkg_is "$pkg" ${q(v)}
  check "$pkg is held (apt-mark showhold)" held "$pkg"
done
check "kubeadm reports v${v}" test "$(kubeadm version -o short 2>/dev/null)" = ${q('v' + v)}
check "kubelet reports v${v}" test "$(kubelet --version 2>/dev/null)" = ${q('Kubernetes v' + v)}
${crio}
check "crio is enabled" enabled crio
check "kubelet is enabled" enabled kubelet
for module in overlay br_netfilter; do
  check "$module is listed in /etc/modules-load.d/k8s.conf" line_in /etc/modules-load.d/k8s.conf "$module"
done
for sysctl in net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward; do
  check "$sysctl = 1 in /etc/sysctl.d/k8s.conf" line_in /etc/sysctl.d/k8s.conf "$sysctl = 1"
done
check "no active swap (swapon --show)" test -z "$(swapon --show --noheadings 2>/dev/null)"
check "no active swap line in /etc/fstab" test -z "$(awk '!/^[[:space:]]*#/ && $3 == "swap"' /etc/fstab)"
# Every image kubeadm needs for v${v}, and every CNI image, is in CRI-O's store.
for image in $(kubeadm config images list ${kubeadmImagesArgs(plan)} 2>/dev/null) ${cniImages(plan).map(q).join(' ')}; do
  check "image $image is present" crictl --runtime-endpoint "$CRI_SOCKET" inspecti "$image"
done
check "kubeadm lists the control-plane images" test -n "$(kubeadm config images list ${kubeadmImagesArgs(plan)} 2>/dev/null)"`;
}

const LOAD_BALANCER_CHECKS = `for pkg in haproxy keepalived; do
  check "$pkg is installed" installed "$pkg"
  check "$pkg is on PATH" command -v "$pkg"
done
check "haproxy is enabled" enabled haproxy`;

/**
 * Fails the build unless the image has every property it promises (SEED.md steps 1–3 for nodes,
 * the packages for load balancers). Runs on the image after provisioning, before sysprep; every
 * check runs, and all failures are listed.
 */
export function imageVerifyStep(plan: ClusterPlan, kind: ImageKind): Step {
  return {
    name: 'image-verify',
    purpose: `Verifies the ${kind} image has every property it promises; fails the build otherwise.`,
    helpers: [],
    body: `${CHECK_FUNCTIONS}
${kind === 'node' ? nodeChecks(plan) : LOAD_BALANCER_CHECKS}
${PROVENANCE_CHECK}
if [ "$failures" -gt 0 ]; then
  echo "image verification: $failures check(s) failed; the image is not usable" >&2
  exit 1
fi
echo "image verification: all checks passed"`,
  };
}
