// A first boot, simulated with the real cloud-init: this machine's own root file system, seen
// through a throw-away overlay in private mount, network, UTS and PID namespaces, gets what a
// platform hands the host (BootOptions.platform: a NoCloud seed dir, drop-ins, a kernel command
// line, DMI, a server on its network, a DHCP lease; `seed` for the common NoCloud case), lets the
// real ds-identify pick the datasource and runs cloud-init's four stages. Everything cloud-init and our scripts write
// lands in the overlay's upper folder, which the test reads afterwards; the machine itself is
// untouched (hostname, NICs and files stay as they were).
//
// Commands that would reach the network, change the kernel or need a real cluster are replaced
// by STAND-INS (not the real tools): they record their arguments to /standin/calls.log and act out
// the part of the tool our scripts depend on, failing where the real one fails:
// - apt-get installs only packages of the package table (test/helpers/packages.ts, from the real
//   repositories' packaging), with their dependencies; a command of that table (kubeadm, crictl,
//   curl, haproxy…) does not exist until its package is installed; an unknown package fails with
//   apt's "E: Unable to locate package X", exit 100.
// - kubeadm init/join decode their --config strictly against kubeadm's field tables, then run
//   upstream's phases in order, each leaving the files and cluster objects the real one leaves
//   (the cluster's side in /standin/cluster-state.json); preflight fails on leftovers as upstream's
//   does; reset undoes what upstream's does (test/helpers/kubeadm_standin.py). Init records token,
//   CA hash and endpoint, and a join is checked against its cluster's init (BootOptions.cluster).
// - cilium install/upgrade keep a Helm release, and a second install fails as cilium-cli's does.
// - A power loss after a kubeadm phase or between first-boot steps kills every process at once
//   (powerLoss); REBOOT is the boot after.
// - curl and timeout's TCP probe answer as the test programs them (BootOptions.respond), so
//   failures and bounded waits run; sleep pauses briefly for real, so bash's SECONDS moves.
// A marker file /standin/fail-<command>-<first argument> makes a stand-in fail.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FileTree } from '../../src/output/tree.js';
import { KUBEADM_FIELDS } from '../../src/verify/kubeadm-fields.js';
import { text } from './cluster.js';
import { packageTableText } from './packages.js';
import { missingTools } from './tools.js';
import { repoPath } from './repo.js';

const STAND_IN = `#!/bin/bash
# STAND-IN written by test/helpers/sandbox.ts. It is not the real tool. State it keeps, so that
# later commands see what earlier ones did (as on a real host): /standin/packages ("name version"),
# /standin/holds, /standin/enabled, /standin/active, /standin/images, /standin/labels.
name=$(basename "$0")
[ "$name" = standin-relink ] || printf '%s %s\\n' "$name" "$*" >> /standin/calls.log
[ -e "/standin/fail-$name-$1" ] && { echo "stand-in $name $1 fails as asked" >&2; exit 1; }
k8s=$(cat /standin/kubernetes-version)
has() { grep -qxF -- "$2" "/standin/$1" 2>/dev/null; }
add() { has "$1" "$2" || echo "$2" >> "/standin/$1"; }
# A package's upstream version as dpkg knows it (real or stand-in dpkg-query), else the sandbox's.
installed() { local v; v=$(dpkg-query -W -f '\${Version}' "$1" 2>/dev/null) || v=$k8s; v=\${v#*:}; echo "\${v%%-*}"; }
version_of() { awk -v p="$1" '$1 == p { v = $2 } END { if (v == "") exit 1; print v }' /standin/packages 2>/dev/null; }
# The package table (test/helpers/packages.ts): "name version deps commands real|stand-in".
pkg_field() { awk -v p="$1" -v f="$2" '$1 == p { print $f; found = 1 } END { exit !found }' /standin/package-table; }
# Puts a package's commands in place: this machine's real tool, or a link to this stand-in.
link_commands() {
  local cmds kind c
  cmds=$(pkg_field "$1" 4) || return 0
  kind=$(pkg_field "$1" 5)
  [ "$cmds" = - ] && return 0
  for c in \${cmds//,/ }; do
    mkdir -p "$(dirname "$c")"
    if [ "$kind" = real ]; then cp -a "/standin/real/$(basename "$c")" "$c"; else ln -sf /usr/local/sbin/stand-in "$c"; fi
  done
}
# Answers programmed by the test (/standin/respond: "<substring> <exit code> [<times>]"): the first
# rule whose substring is in the arguments decides the exit code, for <times> calls or forever.
respond() {
  local n=0 pattern code times used
  [ -f /standin/respond ] || return 1
  while read -r pattern code times; do
    n=$((n + 1))
    case "$*" in *"$pattern"*) ;; *) continue ;; esac
    if [ -n "$times" ]; then
      used=$(cat "/standin/respond.$n" 2>/dev/null || echo 0)
      [ "$used" -ge "$times" ] && continue
      echo $((used + 1)) > "/standin/respond.$n"
    fi
    echo "$code"
    return 0
  done < /standin/respond
  return 1
}
kubeadm_images() {
  printf 'registry.k8s.io/%s\\n' "kube-apiserver:v$k8s" "kube-controller-manager:v$k8s" "kube-scheduler:v$k8s" \\
    "kube-proxy:v$k8s" coredns/coredns:v1.13.1 pause:3.10.1 etcd:3.6.5-0
}
case "$name" in
  standin-relink)
    while read -r p _; do link_commands "$p"; done < /standin/packages ;;
  apt-get)
    installing= wanted=()
    for a in "$@"; do
      case "$a" in
        install) installing=1 ;;
        -o) ;;
        -*) ;;
        *) [ -n "$installing" ] && [ "$prev" != -o ] && wanted+=("$a") ;;
      esac
      prev=$a
    done
    [ -n "$installing" ] || exit 0
    # apt resolves everything before it installs anything: an unknown package or version fails the whole call.
    todo=()
    for a in "\${wanted[@]}"; do
      p=\${a%%=*}
      if ! pkg_field "$p" 1 >/dev/null; then echo "E: Unable to locate package $p" >&2; exit 100; fi
      if [ "$a" != "$p" ] && [ "\${a#*=}" != "$(pkg_field "$p" 2)" ]; then echo "E: Version '\${a#*=}' for '$p' was not found" >&2; exit 100; fi
      todo+=("$p")
    done
    while [ \${#todo[@]} -gt 0 ]; do
      p=\${todo[0]}; todo=("\${todo[@]:1}")
      version_of "$p" >/dev/null && continue
      echo "$p $(pkg_field "$p" 2)" >> /standin/packages
      link_commands "$p"
      deps=$(pkg_field "$p" 3)
      [ "$deps" = - ] || todo+=(\${deps//,/ })
    done ;;
  apt-cache)
    if [ "$1" = madison ]; then v=$(pkg_field "$2" 2) && printf '%s | %s | https://stand-in.invalid/deb Packages\\n' "$2" "$v"; fi ;;
  apt-mark)
    case "$1" in
      hold) shift; for p in "$@"; do
              version_of "$p" >/dev/null || { echo "E: Unable to locate package $p" >&2; exit 100; }
              add holds "$p"
            done ;;
      showhold) cat /standin/holds 2>/dev/null ;;
    esac ;;
  dpkg-query)
    pkg=\${*: -1}
    v=$(version_of "$pkg") || exit 1
    case "$*" in *Status*) echo 'install ok installed' ;; *) printf '%s' "$v" ;; esac ;;
  # systemctl: units kubebake writes (kubebake-*) exist only as files in /etc/systemd/system, as
  # for the real one ("Unit file … does not exist"); starting a oneshot unit of that folder runs
  # its ExecStart as systemd would (cwd /, no stdin, output to the journal, here /standin/journal),
  # after its ConditionPathExists=, and fails the caller when it fails. Packaged units are
  # recorded only (their packages are stand-ins).
  systemctl)
    verb='' now='' units=''
    for a in "$@"; do case "$a" in --now) now=1 ;; -*) ;; *) if [ -z "$verb" ]; then verb=$a; else units="$units $a"; fi ;; esac; done
    unit_file() { [ -f "/etc/systemd/system/$1" ] && echo "/etc/systemd/system/$1"; }
    start_unit() {
      local file cond run
      add active "$1"
      file=$(unit_file "$1") || return 0
      grep -qx 'Type=oneshot' "$file" || return 0
      for cond in $(sed -n 's/^ConditionPathExists=//p' "$file"); do
        case "$cond" in '!'*) [ -e "\${cond#!}" ] && return 0 ;; *) [ -e "$cond" ] || return 0 ;; esac
      done
      run=$(sed -n 's/^ExecStart=//p' "$file")
      if ! (cd / && $run < /dev/null >> /standin/journal 2>&1); then
        sed -i "/^$1\$/d" /standin/active
        echo "Job for $1 failed because the control process exited with error code." >&2
        return 1
      fi
      # A oneshot unit is inactive again once its process exits, unless RemainAfterExit=yes
      # (systemd.service(5), Type=oneshot and RemainAfterExit=).
      grep -qx 'RemainAfterExit=yes' "$file" || sed -i "/^$1\$/d" /standin/active
    }
    case "$verb" in
      enable)
        for u in $units; do
          case "$u" in kubebake-*) unit_file "$u" >/dev/null || { echo "Failed to enable unit: Unit file $u does not exist." >&2; exit 1; } ;; esac
          add enabled "$u"
        done
        if [ -n "$now" ]; then for u in $units; do start_unit "$u" || exit 1; done; fi ;;
      # A restarted kubelet runs the version its package installed, and registers it (kubeadm_standin.py).
      start|restart) for u in $units; do start_unit "$u" || exit 1; [ "$verb:$u" != restart:kubelet ] || python3 /standin/kubeadm_standin.py kubelet-start; done ;;
      is-enabled) u=\${units# }; if has enabled "$u"; then echo enabled; else echo disabled; exit 1; fi ;;
      is-active) u=\${units# }; has active "$u" || exit 3 ;;
      stop) for u in $units; do sed -i "/^$u\$/d" /standin/active 2>/dev/null; done ;;
    esac ;;
  # The version of the installed package (after an upgrade, the new one), as the real binaries report theirs.
  kubelet) [ "$1" = --version ] && echo "Kubernetes v$(installed kubelet)" ;;
  kubeadm)
    # What kubeadm found when it started: the shared CA key, for control-plane joins.
    [ -f /etc/kubernetes/pki/ca.key ] && touch "/standin/kubeadm-$1-saw-ca-key"
    case "$1 \${2:-} \${3:-}" in
      "config images list") kubeadm_images ;;
      "config images pull") kubeadm_images >> /standin/images ;;
    esac
    case "$1" in
      # Phases, preflight, reset and what the kubelet does meanwhile: test/helpers/kubeadm_standin.py.
      init|join|reset|upgrade) exec python3 /standin/kubeadm_standin.py "$@" ;;
      version) echo "v$(installed kubeadm)" ;;
    esac ;;
  kubectl)
    # Nodes exist once the test says they joined (/standin/nodes); labels are recorded. Helm keeps a
    # release as Secrets labelled owner=helm, name=<release>, status=<status> (helm
    # pkg/storage/driver/secrets.go); the cilium stand-in's releases are /standin/helm-releases.
    ns=default kc=\${KUBECONFIG:-}
    if [ "$1" = --kubeconfig ]; then kc=$2; shift 2; fi
    if [ "$1" = -n ]; then ns=$2; shift 2; fi
    case "$1 \${2:-}" in
      "get node") has nodes "$3" || { echo "Error from server (NotFound): nodes \\"$3\\" not found" >&2; exit 1; } ;;
      "label node") node=$3; shift 3; for l in "$@"; do [ "$l" = --overwrite ] || add labels "$node $l"; done ;;
      # kubeadm's ClusterConfiguration (-o jsonpath={.data.ClusterConfiguration}), through the kubeconfig's server.
      "get configmap") [ "$3" = kubeadm-config ] && [ "$ns" = kube-system ] && exec python3 /standin/kubeadm_standin.py cluster-configuration "$kc" ;;
      "get secret")
        sel=''; prev=''
        for a in "$@"; do case "$prev" in -l) sel=$a ;; -n) ns=$a ;; esac; prev=$a; done
        while read -r rns rname rrev rstatus _; do
          [ "$rns" = "$ns" ] || continue
          case ",$sel," in *",name="*) case ",$sel," in *",name=$rname,"*) ;; *) continue ;; esac ;; esac
          case ",$sel," in *",status="*) case ",$sel," in *",status=$rstatus,"*) ;; *) continue ;; esac ;; esac
          echo "secret/sh.helm.release.v1.$rname.v$rrev"
        done < <(cat /standin/helm-releases 2>/dev/null) ;;
    esac ;;
  # cilium install|upgrade: a Helm release "cilium" in kube-system (cilium-cli cli/cmd.go defaults).
  # install refuses a release that exists (helm pkg/action/install.go: "cannot re-use a name that
  # is still in use"); upgrade needs one (pkg/action/upgrade.go: "has no deployed releases"); both
  # fail through cilium-cli's fatalf ("\\nError: Unable to install Cilium: …", cli/install.go, utils.go).
  cilium)
    release=$(awk '$1 == "kube-system" && $2 == "cilium"' /standin/helm-releases 2>/dev/null)
    version=''; prev=''; for a in "$@"; do [ "$prev" = --version ] && version=$a; prev=$a; done
    case "$1" in
      install)
        if [ -n "$release" ]; then printf '\\nError: Unable to install Cilium: cannot re-use a name that is still in use\\n' >&2; exit 1; fi
        echo "kube-system cilium 1 deployed $version" >> /standin/helm-releases ;;
      upgrade)
        if [ -z "$release" ]; then printf '\\nError: Unable to upgrade Cilium: "cilium" has no deployed releases\\n' >&2; exit 1; fi
        read -r _ _ rev _ <<<"$release"
        echo "kube-system cilium $((rev + 1)) deployed $version" > /standin/helm-releases ;;
    esac ;;
  crictl)
    args=(); skip=; for a in "$@"; do if [ -n "$skip" ]; then skip=; elif [ "$a" = --runtime-endpoint ] || [ "$a" = -r ]; then skip=1; else args+=("$a"); fi; done
    case "\${args[0]:-}" in
      pull) add images "\${args[1]}" ;;
      inspecti) has images "\${args[1]}" || exit 1 ;;
      # The static pods' containers and etcdctl in etcd's: test/helpers/kubeadm_standin.py.
      ps|exec) exec python3 /standin/kubeadm_standin.py crictl "\${args[@]}" ;;
    esac ;;
  gpg) while [ $# -gt 0 ]; do if [ "$1" = -o ]; then cat > "$2"; shift; fi; shift; done ;;
  # Downloads: a release file gets stand-in bytes; a *.sha256sum gets the real sha256 of the file
  # fetched just before it, in the upstream "<hash>  <name>" format, so checksum checks really run.
  # A programmed answer (respond) makes the call fail with that exit code (7: cannot connect, 22: HTTP error, 28: timeout).
  curl)
    if code=$(respond "$@"); then [ "$code" = 0 ] || { echo "curl: ($code) stand-in failure as asked" >&2; exit "$code"; }; fi
    out='' prev='' url=''
    for a in "$@"; do [ "$prev" = -o ] && out=$a; case "$a" in http*) url=$a ;; esac; prev=$a; done
    case "$url" in
      *.sha256sum) body="$(sha256sum < "$(cat /standin/last-download)" | cut -d' ' -f1)  $(basename "\${url%.sha256sum}")" ;;
      *.key) body='stand-in key' ;;
      *) body="stand-in download of $url" ;;
    esac
    if [ -n "$out" ]; then printf '%s\\n' "$body" > "$out" || exit 23; echo "$out" > /standin/last-download; else printf '%s\\n' "$body"; fi ;;
  # timeout DURATION COMMAND…: the /dev/tcp probe of an address answers as programmed ("tcp:HOST:PORT
  # <code>"; 124 is timeout's own "timed out"), listening by default; any other command runs under
  # the real timeout.
  timeout)
    probe="$*"
    case "$probe" in
      *"/dev/tcp/"*)
        target="tcp:\${*: -2:1}:\${*: -1}"
        if code=$(respond "$target"); then exit "$code"; fi
        exit 0 ;;
      *) exec /usr/bin/timeout "$@" ;;
    esac ;;
  # sleep: recorded, and a short real pause, so bash's SECONDS moves and bounded waits do end.
  sleep) /usr/bin/sleep 0.05 ;;
  # The machine's disk, when the test gives one (/standin/disk-bytes): / is on /dev/vda1 of that
  # size. Any other question, or no disk given, goes to the real tool (which sees the sandbox's overlay).
  findmnt)
    if [ -f /standin/disk-bytes ] && [ "$*" = "-n -o SOURCE /" ]; then echo /dev/vda1; else exec /usr/bin/findmnt "$@"; fi ;;
  lsblk)
    if [ -f /standin/disk-bytes ]; then
      case "$*" in
        "-n -o PKNAME /dev/vda1") echo vda; exit 0 ;;
        "-b -d -n -o SIZE /dev/vda") cat /standin/disk-bytes; exit 0 ;;
      esac
    fi
    exec /usr/bin/lsblk "$@" ;;
esac
exit 0
`;

/**
 * Commands that are always stand-ins: the package manager, init system, kernel knobs, and tools
 * that would reach the network. Commands that packages install (kubeadm, crictl, curl, haproxy…)
 * are not here: they exist only after apt-get installed their package (test/helpers/packages.ts).
 */
const STAND_IN_COMMANDS = [
  'apt-get', 'apt-mark', 'apt-cache', 'dpkg-query', 'systemctl', 'modprobe', 'sysctl', 'swapoff', 'swapon',
  'systemd-run', 'sleep', 'timeout', 'cilium', 'helm', 'tar', 'shutdown', 'standin-relink', 'findmnt', 'lsblk',
];

const INNER = `set -eu
scratch=$1 mac=$2 fails=$3 then=$4 nicname=$5 layers=$6 netplan=$7
# A signed apt mirror (and a logging proxy) in this namespace, when the test gives one (BootOptions.mirror).
realapt=''
if [ -f "$scratch/mirror.conf" ]; then
  realapt=1
  read -r maddr mport mon pport < "$scratch/mirror.conf"
  ip link set lo up
  ip addr add "$maddr/32" dev lo
  if [ "$mon" = on ]; then python3 "$scratch/mirror_server.py" serve "$scratch/mirror" "$maddr" "$mport" "$scratch/mirror.log" & fi
  if [ "$pport" != - ]; then python3 "$scratch/mirror_server.py" proxy 127.0.0.1 "$pport" "$scratch/proxy.log" & fi
  for _ in $(seq 50); do
    { [ "$mon" != on ] || (: </dev/tcp/"$maddr"/"$mport") 2>/dev/null; } && { [ "$pport" = - ] || (: </dev/tcp/127.0.0.1/"$pport") 2>/dev/null; } && break
    /usr/bin/sleep 0.1
  done
fi
# The layers live on a tmpfs of their own: overlayfs refuses a lower layer inside another one
# (as a folder under / would be), and a later boot stacks on this one's layer.
t=$scratch/t
mkdir -p "$t" && mount -t tmpfs tmpfs "$t"
lower='' i=0
for layer in $layers; do # topmost first, as overlayfs lists them
  i=$((i + 1)); cp -a "$layer" "$t/l$i"; lower="$lower$t/l$i:"
done
lower="$lower/"
root=$t/m
mkdir -p "$t"/u "$t"/w "$root"
# On the way out: this boot's layer, and what lives in its tmpfs /run (netplan's networkd files,
# ds-identify's result), which BootResult.read finds under run/.
trap 'cp -a "$t/u" "$scratch/u"; mkdir -p "$scratch/run"; for d in systemd/network cloud-init; do [ -d "$root/run/$d" ] && mkdir -p "$scratch/run/$d" && cp -a "$root/run/$d/." "$scratch/run/$d/"; done' EXIT
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$t/u,workdir=$t/w" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
ip link set lo up
# Every machine has its NIC: with the MAC the test names, else one the platform made up.
[ -n "$mac" ] || mac=52:54:00:5a:5a:5a
if [ -n "$mac" ]; then
  { ip link add "$nicname" type veth peer name kbpeer0 2>/dev/null || ip link add "$nicname" type dummy; } && ip link set "$nicname" address "$mac"
  # cloud-init tells physical NICs (which it may rename, for set-name) from virtual ones by
  # /sys/class/net/<nic>/device. The root has no sysfs mounted, so describe the NIC as the
  # virtio one of a VM would be; renaming it then goes through the real ip command.
  nic=$root/sys/class/net/$nicname
  mkdir -p "$nic/device"
  printf '%s\n' "$mac" > "$nic/address"
  printf '0\n' > "$nic/addr_assign_type"
  printf '1\n' > "$nic/type"
  printf 'INTERFACE=%s\\n' "$nicname" > "$nic/uevent"
  printf 'down\n' > "$nic/operstate"
fi
if [ -n "$realapt" ]; then
  while read -r p; do
    if chroot "$root" dpkg-query -W -f '\${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then chroot "$root" dpkg --purge --force-depends "$p" >/dev/null; fi
  done < "$scratch/mirror-absent"
fi
# A fresh instance: no state of an earlier cloud-init run. What the platform hands the machine
# (a NoCloud seed dir, cloud.cfg.d drop-ins, a platform tool: BootOptions.platform.files) is copied
# in with the image's files below.
rm -rf "$root/var/lib/cloud" "$root/var/log/cloud-init.log" "$root/var/log/cloud-init-output.log"
mkdir -p "$root/var/lib/cloud" "$root/standin"
# Calls made while an earlier layer was built (an image's bake) are kept apart from this boot's.
if [ -f "$root/standin/calls.log" ]; then mv "$root/standin/calls.log" "$root/standin/calls.before.log"; fi
# The locale every image here has (cloud-init's locale module would otherwise generate one). Which
# datasource cloud-init uses is not configured here: ds-identify picks it from the platform below.
printf 'locale: C.UTF-8\\n' > "$root/etc/cloud/cloud.cfg.d/99-kubebake-sandbox.cfg"
# Without BootOptions.netplan the simulated host renders its network with systemd-networkd, as a
# Debian machine without ifupdown or netplan does, whatever this machine has installed; with it, the
# image has netplan.io as Ubuntu's and Debian's cloud images do, and cloud-init picks its netplan
# renderer. ifupdown is hidden either way (cloud-init 22.4 net/eni.py available: ifquery, ifup and
# ifdown in /sbin or /usr/sbin; the VM tests boot an ifupdown disk).
if [ "$netplan" != 1 ]; then rm -f "$root/usr/sbin/netplan"; elif [ ! -x "$root/usr/sbin/netplan" ]; then echo "BootOptions.netplan: this machine has no netplan (apt-get install netplan.io)" >&2; exit 1; fi
for c in ifquery ifup ifdown; do rm -f "$root/sbin/$c" "$root/usr/sbin/$c"; done
cp "$scratch/kubernetes-version" "$scratch/package-table" "$scratch/kubeadm-fields.json" "$scratch/kubeadm_standin.py" "$root/standin/"
for f in cluster-given.json respond nodes disk-bytes; do if [ -f "$scratch/$f" ]; then cp "$scratch/$f" "$root/standin/"; fi; done
for f in $fails; do touch "$root/standin/fail-$f"; done
# Files the image already has (a baked image's provenance record, say), then what the platform
# put there for this machine (BootOptions.platform.files, seed).
if [ -d "$scratch/image" ]; then cp -a "$scratch/image/." "$root/"; fi
if [ -d "$scratch/platform" ]; then cp -a "$scratch/platform/." "$root/"; fi
# The machine the platform presents (BootOptions.platform.virt and .dmi): systemd-detect-virt answers
# as on that hypervisor (never a container: a container's cloud-init reads no DMI and takes PID 1's
# command line for the kernel's), /sys/class/dmi/id holds its SMBIOS strings, and blkid knows one
# unlabelled root disk (the machine's disks are not modelled; a CD's files reach it as the seed dir).
cp "$scratch/platform-tools/systemd-detect-virt" "$scratch/platform-tools/blkid" "$root/usr/local/sbin/"
mkdir -p "$root/sys/class/dmi/id" "$root/run/systemd"
cp "$scratch"/dmi/* "$root/sys/class/dmi/id/"
cp "$scratch/cmdline" "$root/standin/cmdline"
# An HTTP server of the platform on the machine's network (BootOptions.platform.http), e.g. kubebake
# serve at the seed URL's address. It is another machine of that network: a network namespace of its
# own on the far end of the machine's NIC (the veth peer), so the machine reaches it through its NIC
# from the address cloud-init gave it, as on a real provisioning network (serve hands a host's
# secret seed files to that host's address only). On-link default route: it answers any address.
if [ -f "$scratch/http.conf" ]; then
  read -r haddr hport < "$scratch/http.conf"
  ip link show kbpeer0 >/dev/null 2>&1 || { echo "BootOptions.platform.http: the machine's NIC has no veth peer here" >&2; exit 1; }
  mkfifo "$scratch/http.go"
  # unshare execs bash in the new namespace (no --fork): $! is its PID, to move the peer into.
  unshare --net bash -c 'read -r _ < "$1"; cd "$2" && exec bash "$2/http.sh"' http "$scratch/http.go" "$scratch" > "$scratch/http.log" 2>&1 &
  hpid=$!
  # Only once it has its own namespace (unshare may not have run yet) does the peer move there.
  # The root's /proc is this PID namespace's (the machine's /proc is this host's: other PIDs).
  for _ in $(seq 100); do [ "$(readlink "$root"/proc/"$hpid"/ns/net)" = "$(readlink "$root"/proc/self/ns/net)" ] || break; /usr/bin/sleep 0.05; done
  ip link set kbpeer0 netns "$hpid"
  nsenter --net="$root"/proc/"$hpid"/ns/net sh -c "ip link set lo up && ip addr add $haddr/32 dev kbpeer0 && ip link set kbpeer0 up && ip route add default dev kbpeer0"
  echo go > "$scratch/http.go"
  for _ in $(seq 100); do nsenter --net="$root"/proc/"$hpid"/ns/net bash -c ': </dev/tcp/"$1"/"$2"' up "$haddr" "$hport" 2>/dev/null && break; /usr/bin/sleep 0.1; done
fi
cp "$scratch/stand-in" "$root/usr/local/sbin/stand-in"
for c in ${STAND_IN_COMMANDS.join(' ')}; do
  # With a mirror, apt and dpkg are the real ones; curl and gpg stay stand-ins (nothing answers the API's /readyz).
  case "$realapt:$c" in 1:apt-get|1:apt-mark|1:apt-cache|1:dpkg-query) continue ;; esac
  ln -sf stand-in "$root/usr/local/sbin/$c"
done
if [ -n "$realapt" ]; then ln -sf stand-in "$root/usr/local/sbin/curl"; ln -sf stand-in "$root/usr/local/sbin/gpg"; fi
# A packaged command exists only once its package is installed: hide this machine's copy (kept
# aside for packages whose real tool is used), then put back the commands of the packages this
# root already has (an image baked in an earlier boot, or image files given by the test).
mkdir -p "$root/standin/real"
touch "$root/standin/packages"
# With a real apt, what this machine has installed is there as dpkg knows it; the rest comes from the mirror.
[ -z "$realapt" ] && while read -r pkg _ _ cmds kind; do
  [ "$cmds" = - ] && continue
  for c in \${cmds//,/ }; do
    if [ "$kind" = real ] && [ -e "/$c" ] && [ ! -e "$root/standin/real/$(basename "$c")" ]; then cp -aL "/$c" "$root/standin/real/"; fi
    awk -v p="$pkg" '$1 == p { found = 1 } END { exit !found }' "$root/standin/packages" || rm -f "$root$c"
  done
done < "$root/standin/package-table"
chroot "$root" /usr/local/sbin/standin-relink
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
rc=0
# The OS's network stack, acting on what was rendered for the NIC (no networkd or ifupdown runs in
# the sandbox): the static addresses and gateways of its networkd files (written by cloud-init
# directly, or by netplan generate under /run) or its ifupdown stanza go onto the NIC; a NIC left to
# DHCP gets the lease the platform hands out (BootOptions.platform.dhcp: address and router), or nothing.
apply_network() {
  local f addrs='' gws='' dhcp='' match
  for f in "$root"/etc/systemd/network/10-cloud-init-*.network "$root"/run/systemd/network/10-netplan-*.network; do
    [ -f "$f" ] || continue
    # Only a file whose [Match] names this NIC (by MAC, permanent MAC or name).
    match=$(sed -nE 's/^(PermanentMACAddress|MACAddress|Name)=//p' "$f" | tr 'A-F' 'a-f')
    printf '%s\n' "$match" | grep -qxF -e "$mac" -e "$nicname" || continue
    addrs="$addrs $(sed -n 's/^Address=//p' "$f")"
    gws="$gws $(sed -n 's/^Gateway=//p' "$f")"
    grep -Eq '^DHCP=(yes|ipv4|true)' "$f" && dhcp=1
  done
  for f in "$root/etc/network/interfaces.d/50-cloud-init" "$root/etc/network/interfaces"; do
    [ -f "$f" ] || continue
    addrs="$addrs $(awk -v nic="$nicname" '$1 == "iface" { on = ($2 == nic || $2 == nic ":1") } on && $1 == "address" { print $2 }' "$f")"
    gws="$gws $(awk -v nic="$nicname" '$1 == "iface" { on = ($2 == nic || $2 == nic ":1") } on && $1 == "gateway" { print $2 } on && / 0\.0\.0\.0\/0 / { for (i = 1; i < NF; i++) if ($i == "gw" || $i == "via") print $(i + 1) }' "$f")"
    grep -Eq "^iface $nicname inet dhcp" "$f" && dhcp=1
  done
  if [ -n "$dhcp" ] && [ -f "$scratch/dhcp" ]; then
    read -r laddr lrouter < "$scratch/dhcp"
    addrs="$addrs $laddr"
    gws="$gws \${lrouter:-}"
  fi
  ip link set "$nicname" up 2>/dev/null || true
  for a in $addrs; do ip addr add "$a" dev "$nicname" 2>/dev/null || true; done
  for g in $gws; do ip route replace default via "$g" dev "$nicname" onlink 2>/dev/null || true; done
}
# The boot, in systemd's order: generators (cloud-init's runs ds-identify, which picks the
# datasource from the platform's evidence and writes /run/cloud-init/cloud.cfg, or disables
# cloud-init; netplan's renders /etc/netplan into /run/systemd/network), cloud-init's local stage,
# the network (networkd or ifupdown; here apply_network), then its network, config and final stages.
# The kernel command line reaches ds-identify as /proc/cmdline would and cloud-init through
# DEBUG_PROC_CMDLINE (cloud-init 22.4 cloudinit/util.py get_cmdline).
export DEBUG_PROC_CMDLINE
DEBUG_PROC_CMDLINE=$(cat "$scratch/cmdline")
boot() {
  if ! chroot "$root" env PATH_PROC_CMDLINE=/standin/cmdline /usr/lib/cloud-init/ds-identify; then
    echo "ds-identify found no datasource: cloud-init is disabled on this boot"
    return 3
  fi
  if [ "$netplan" = 1 ]; then chroot "$root" netplan generate || return; fi
  chroot "$root" cloud-init init --local || return
  apply_network
  chroot "$root" cloud-init init || return
  apply_network
  chroot "$root" sh -c 'cloud-init modules --mode config && cloud-init modules --mode final'
}
boot > "$scratch/cloud-init.out" 2>&1 || rc=$?
ip -o -4 addr show scope global > "$scratch/ip-addr" 2>/dev/null || true
ip -4 route show > "$scratch/ip-route" 2>/dev/null || true
echo "$rc" > "$scratch/cloud-init.rc"
# Kept before \`then\` runs: a bake's sysprep removes cloud-init's state.
cp "$root/var/lib/cloud/data/result.json" "$scratch/result.json" 2>/dev/null || true
if [ -n "$then" ]; then chroot "$root" sh -c "$then" > "$scratch/then.out" 2>&1 || true; fi
`;

/**
 * A reboot (or the boot after a power loss), for a boot's `then`: tmpfs (/run, /tmp) is empty, no
 * service runs but those systemd starts: the units enabled for multi-user.target (their [Install]
 * WantedBy=). Packaged ones (recorded in /standin/enabled) start as they are: the kubelet runs
 * again, with its static pods and its TLS bootstrap (test/helpers/kubeadm_standin.py); kubebake's
 * units run, each in a session of its own (a power loss kills that session: the machine, not the
 * test's loop of reboots). cloud-init does not run its per-instance modules again (same instance),
 * so runcmd does not come back; only the units do.
 */
export const REBOOT = `rm -rf /run/* /tmp/* 2>/dev/null || true
grep -v '^kubebake-' /standin/enabled > /standin/active 2>/dev/null || : > /standin/active
python3 /standin/kubeadm_standin.py kubelet-boot
for u in $(cat /standin/enabled); do
  f=/etc/systemd/system/$u
  if [ -f "$f" ] && grep -qx 'WantedBy=multi-user.target' "$f"; then echo "reboot: starting $u"; setsid -w systemctl start "$u" || echo "reboot: $u failed"; fi
done`;

/**
 * The runner asks for the time right after it says `running: <step>` (steps/firstboot.ts), before
 * the step starts: a stand-in date there cuts the power between two steps when asked.
 */
const DATE_POWER_CUT = `#!/bin/bash
# Written by test/helpers/sandbox.ts (powerLoss): cuts the power once, between two first-boot steps.
for m in /standin/poweroff-before-step-*; do
  [ -e "$m" ] || continue
  step=\${m#/standin/poweroff-before-step-}
  if [ "$(cat /var/lib/kubebake/status 2>/dev/null)" = "running: $step" ]; then
    rm -f "$m"
    exec python3 /standin/kubeadm_standin.py poweroff before step "$step"
  fi
done
exec /usr/bin/date "$@"
`;

/**
 * Image files that cut the power once, as a power loss does (every process of the machine killed
 * at once, no cleanup; /standin/poweroffs says it happened): `init-<phase>` or `join-<phase>`
 * right after that kubeadm phase (test/helpers/kubeadm_standin.py), `step-<step>` between the
 * first-boot step before <step> and <step>. A `then: REBOOT` is the boot after.
 */
export function powerLoss(at: string): NonNullable<BootOptions['image']> {
  const step = /^step-(.+)$/.exec(at);
  if (step) return { [`/standin/poweroff-before-step-${step[1]}`]: '', '/usr/local/sbin/date': { content: DATE_POWER_CUT, mode: 0o755 } };
  return { [`/standin/poweroff-after-${at}`]: '' };
}

export interface BootResult {
  /** cloud-init's exit code (1 when a module, e.g. runcmd, failed) and its console output. */
  rc: number;
  output: string;
  /** /var/lib/cloud/data/result.json: the errors cloud-init recorded. */
  errors: string[];
  /** Each stand-in call, "<command> <args>", in order. */
  calls: string[];
  /** Whether `path` exists in the booted root after the boot (relative, without the leading /). */
  exists(path: string): boolean;
  /** This boot's overlay layer, to stack a later boot on (valid until `inspect` returns). */
  layer: string;
  /** Whether a stand-in left /standin/<marker> (e.g. "kubeadm-join-saw-ca-key"). */
  marker(name: string): boolean;
  /** Output of the `then` command, run in the same root after cloud-init. */
  thenOutput: string;
  /** Requests the mirror served and the proxy relayed ("GET <path or URL> <status>"), with BootOptions.mirror. */
  mirrorLog: string[];
  proxyLog: string[];
  /** What kubeadm init recorded on this host, for the boots of the nodes that join. */
  clusterRecord(): ClusterRecord | undefined;
  /** The cluster's side as this host's kubeadm stand-in left it (API objects, Nodes, etcd members). */
  clusterState(): unknown;
  /** The NIC's state after the boot, as the OS's network stack left it: `ip -o -4 addr show scope global` and `ip -4 route show` lines. */
  addresses: string[];
  routes: string[];
  /** What the platform's HTTP server printed (BootOptions.platform.http). */
  serverOutput: string;
  /** A file the boot wrote or changed (undefined when it did not); under run/, the boot's tmpfs /run as it was at the end. */
  read(path: string): string | undefined;
  /** The names in a folder the boot wrote into (sorted; under run/, the boot's /run). */
  list(path: string): string[];
  mode(path: string): number | undefined;
}

/** Why a sandboxed boot cannot run on this machine, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount namespaces, overlayfs, chroot)';
  // cloud-init runs the boot; haproxy and keepalived are the real tools load balancers install;
  // sudo runs Packer's provisioners; python3-yaml reads kubeadm configs in the kubeadm stand-in.
  const missing = missingTools('cloud-init', 'haproxy', 'keepalived', 'sudo', 'unshare', 'ip', 'openssl');
  if (missing) return missing;
  const probe = mkdtempSync(join(tmpdir(), 'kubebake-probe-'));
  try {
    const r = spawnSync('unshare', ['--mount', '--net', '--uts', '--pid', '--fork', 'sh', '-c', 'mkdir u w m && mount -t overlay overlay -o lowerdir=/,upperdir=u,workdir=w m'], { cwd: probe, encoding: 'utf8' });
    return r.status === 0 ? undefined : `this kernel or container refuses namespaces or an overlay over / (${(r.stderr || r.error?.message || '').trim()})`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

export interface BootOptions {
  /**
   * A NoCloud seed in the seed dir /var/lib/cloud/seed/nocloud (shorthand for those files in
   * `platform.files`); without network-config cloud-init falls back to DHCP (as Packer's seed CD does).
   */
  seed?: NoCloudSeed;
  /** The platform the machine boots on and what it hands the machine (default: a KVM VM and nothing else). */
  platform?: Platform;
  /** The image has netplan.io (cloud-init then renders netplan, and netplan's generator runs at boot); without it, netplan is hidden even when this machine has it. */
  netplan?: boolean;
  /** Read-only layers over this machine's root, topmost first: e.g. the `layer` of an earlier boot that baked an image. */
  layers?: string[];
  kubernetesVersion: string;
  /**
   * The host's one NIC: its MAC (network-config may match by it; default QEMU's own default MAC,
   * 52:54:00:12:34:56, for a host the topology names by interface) and the name the kernel gave it (default eth0).
   */
  mac?: string;
  nic?: string;
  /** Stand-in calls that fail, as "<command>-<first argument>", e.g. "kubeadm-join". */
  fail?: string[];
  /** Files the image already has before its first boot: absolute path → content (and mode, 0644 if not given). */
  image?: Record<string, FileSpec>;
  /** A command run in the booted root afterwards (e.g. first boot's script a second time). */
  then?: string;
  /** What an earlier `kubeadm init` of this cluster recorded (BootResult.clusterRecord): joins are checked against it. */
  cluster?: ClusterRecord;
  /** Programmed answers: "<substring of the arguments> <exit code> [<times>]" for curl, and "tcp:HOST:PORT <code>" for timeout's probe. */
  respond?: string[];
  /** Nodes the cluster has (kubectl get node finds them). */
  nodes?: string[];
  /** Size of the machine's disk (findmnt/lsblk answer for /); without it they see the sandbox's overlay. */
  diskBytes?: number;
  /**
   * A signed apt mirror (test/helpers/apt-repo.ts) served at http://address:port/ in the sandbox's
   * network namespace: apt-get, apt-mark, apt-cache and dpkg are then the real ones. `off`: the
   * address exists but nothing listens. `proxyPort`: a logging forward proxy on 127.0.0.1.
   * `absent`: packages a fresh image does not have, purged (in the overlay) if this machine has them.
   */
  mirror?: { dir: string; address: string; port: number; off?: boolean; proxyPort?: number; absent?: string[] };
}

export interface NoCloudSeed { 'user-data': string; 'meta-data': string; 'network-config'?: string; 'vendor-data'?: string }

type FileSpec = string | Buffer | { content: string | Buffer; mode: number };

/**
 * The platform: the machine it presents (systemd-detect-virt's answer and its SMBIOS strings, which
 * cloud-init's ds-identify and datasources read), and everything it hands the machine's first boot,
 * the one way a datasource gets its input here: files (a NoCloud seed dir, cloud.cfg.d drop-ins, a
 * platform tool such as vmware-rpctool), the kernel command line, an HTTP server on the machine's
 * network, a DHCP lease.
 */
export interface Platform {
  /** systemd-detect-virt's name for the hypervisor (default kvm). */
  virt?: string;
  /** /sys/class/dmi/id/<name> contents (default QEMU_DMI). */
  dmi?: Record<string, string>;
  /** Files the platform (or an installer) put on the machine before its first boot: absolute path → content. */
  files?: Record<string, FileSpec>;
  /** The kernel command line (default: one that tells cloud-init nothing). */
  cmdline?: string;
  /** A server on the machine's network: `command` (bash, run outside the machine's root, cwd a scratch folder) listens on address:port. */
  http?: { address: string; port: number; command: string };
  /** The lease the platform's DHCP hands a NIC left to DHCP: address (CIDR) and router. */
  dhcp?: { address: string; router?: string };
}

/**
 * The SMBIOS strings of a QEMU/KVM guest (QEMU hw/smbios/smbios.c smbios_set_defaults: manufacturer
 * "QEMU", product the machine type's description, hw/i386/pc_piix.c "Standard PC (i440FX + PIIX,
 * 1996)"; SeaBIOS as the BIOS). Every file cloud-init's DMI table (cloudinit/dmi.py
 * DMIDECODE_TO_KERNEL) names exists, so it never falls back to dmidecode (this machine's own DMI).
 */
export const QEMU_DMI: Record<string, string> = {
  sys_vendor: 'QEMU', product_name: 'Standard PC (i440FX + PIIX, 1996)', product_version: 'pc-i440fx-7.2', product_serial: '',
  product_uuid: '0bbe4e5e-4ba4-4d3a-9d8e-6a1bd3a9c7a1', chassis_vendor: 'QEMU', chassis_asset_tag: '', chassis_serial: '', chassis_version: 'pc-i440fx-7.2',
  board_vendor: '', board_name: '', board_serial: '', board_version: '', board_asset_tag: '',
  bios_vendor: 'SeaBIOS', bios_version: '1.16.2-debian-1.16.2-1', bios_date: '04/01/2014',
};

/** The MAC QEMU gives a NIC when none is set (QEMU net/net.c qemu_macaddr_default_if_unset: 52:54:00:12:34:56 onwards). */
const QEMU_DEFAULT_MAC = '52:54:00:12:34:56';

/** A kernel command line with nothing for cloud-init on it. */
export const PLAIN_CMDLINE = 'BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro console=ttyS0';

/** systemd-detect-virt as on a VM of `virt` (systemd man systemd-detect-virt: -c/--container, -v/--vm, -q/--quiet; exit 0 when detected). */
const detectVirt = (virt: string): string => `#!/bin/sh
# Written by test/helpers/sandbox.ts: the platform is a ${virt} virtual machine, not a container.
quiet='' only=''
for a in "$@"; do case "$a" in -q|--quiet) quiet=1 ;; -c|--container) only=container ;; -v|--vm) only=vm ;; esac; done
if [ "$only" = container ]; then [ -n "$quiet" ] || echo none; exit 1; fi
[ -n "$quiet" ] || echo ${virt}
exit 0
`;

/**
 * blkid on a machine whose one disk is its unlabelled ext4 root, /dev/vda1 (the machine's disks are
 * not modelled further): a search for a token (-t NAME=value, as cloud-init's find_devs_with and
 * ds-identify's label checks ask) finds nothing, exit 2 ("the specified token was not found",
 * util-linux blkid(8)); a listing names the root.
 */
const BLKID = `#!/bin/sh
# Written by test/helpers/sandbox.ts: the machine's one disk is its unlabelled ext4 root.
export_format=''
prev=''
for a in "$@"; do
  case "$a" in -t*|--match-token*) exit 2 ;; esac
  [ "$prev" = -o ] && [ "$a" = export ] && export_format=1
  case "$a" in -oexport) export_format=1 ;; esac
  prev=$a
done
if [ -n "$export_format" ]; then printf 'DEVNAME=/dev/vda1\\nUUID=0e5d2c1a-6b3f-4d8e-9a7c-2f1e0d3c4b5a\\nBLOCK_SIZE=4096\\nTYPE=ext4\\n'; else echo '/dev/vda1: UUID="0e5d2c1a-6b3f-4d8e-9a7c-2f1e0d3c4b5a" BLOCK_SIZE="4096" TYPE="ext4"'; fi
`;

/** The files a NoCloud seed dir holds (cloud-init DataSourceNoCloud seed dir /var/lib/cloud/seed/nocloud). */
export function nocloudSeedFiles(seed: NoCloudSeed): Record<string, FileSpec> {
  return Object.fromEntries(
    Object.entries(seed)
      .filter(([, content]) => content !== undefined)
      .map(([name, content]) => [`/var/lib/cloud/seed/nocloud/${name}`, content as string]),
  );
}

function writeFiles(dir: string, files: Record<string, FileSpec>): void {
  for (const [path, file] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    const spec = typeof file === 'string' || Buffer.isBuffer(file) ? { content: file, mode: 0o644 } : file;
    writeFileSync(target, spec.content);
    chmodSync(target, spec.mode);
  }
}

/**
 * What the kubeadm stand-in's init records for joining nodes (test/helpers/kubeadm_standin.py), and
 * optionally the cluster's side as the init host left it (BootResult.clusterState); without it, a
 * join sees a cluster whose init completed.
 */
export interface ClusterRecord { tokens: string[]; caCertHash: string; endpoint: string; state?: unknown }

/** A host's NoCloud seed as `render cloud-init` wrote it into `tree` (all three files). */
export function hostSeed(tree: FileTree, host: string): BootOptions['seed'] {
  return {
    'user-data': text(tree, `hosts/${host}/user-data`),
    'meta-data': text(tree, `hosts/${host}/meta-data`),
    'network-config': text(tree, `hosts/${host}/network-config`),
  };
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

/** Boots once, hands the result to `inspect` (its files exist only until `inspect` returns). */
export function bootInSandbox<T>(opts: BootOptions, inspect: (boot: BootResult) => T): T {
  const scratch = mkdtempSync(join(tmpdir(), 'kubebake-boot-'));
  try {
    writeFileSync(join(scratch, 'kubernetes-version'), opts.kubernetesVersion);
    writeFiles(join(scratch, 'image'), opts.image ?? {});
    const platform = opts.platform ?? {};
    writeFiles(join(scratch, 'platform'), { ...(opts.seed ? nocloudSeedFiles(opts.seed) : {}), ...platform.files });
    writeFiles(join(scratch, 'dmi'), platform.dmi ?? QEMU_DMI);
    writeFiles(join(scratch, 'platform-tools'), { 'systemd-detect-virt': { content: detectVirt(platform.virt ?? 'kvm'), mode: 0o755 }, blkid: { content: BLKID, mode: 0o755 } });
    writeFileSync(join(scratch, 'cmdline'), `${platform.cmdline ?? PLAIN_CMDLINE}\n`);
    if (platform.http) {
      writeFileSync(join(scratch, 'http.conf'), `${platform.http.address} ${platform.http.port}\n`);
      writeFileSync(join(scratch, 'http.sh'), platform.http.command);
    }
    if (platform.dhcp) writeFileSync(join(scratch, 'dhcp'), `${platform.dhcp.address} ${platform.dhcp.router ?? ''}\n`);
    writeFileSync(join(scratch, 'stand-in'), STAND_IN);
    chmodSync(join(scratch, 'stand-in'), 0o755);
    writeFileSync(join(scratch, 'package-table'), packageTableText(opts.kubernetesVersion));
    writeFileSync(join(scratch, 'kubeadm-fields.json'), JSON.stringify({ versions: KUBEADM_FIELDS }));
    copyFileSync(repoPath('test', 'helpers', 'kubeadm_standin.py'), join(scratch, 'kubeadm_standin.py'));
    if (opts.cluster) writeFileSync(join(scratch, 'cluster-given.json'), JSON.stringify(opts.cluster));
    if (opts.respond) writeFileSync(join(scratch, 'respond'), opts.respond.join('\n') + '\n');
    if (opts.nodes) writeFileSync(join(scratch, 'nodes'), opts.nodes.join('\n') + '\n');
    if (opts.diskBytes !== undefined) writeFileSync(join(scratch, 'disk-bytes'), `${opts.diskBytes}\n`);
    if (opts.mirror) {
      const m = opts.mirror;
      cpSync(m.dir, join(scratch, 'mirror'), { recursive: true });
      copyFileSync(repoPath('test', 'helpers', 'mirror_server.py'), join(scratch, 'mirror_server.py'));
      writeFileSync(join(scratch, 'mirror.conf'), `${m.address} ${m.port} ${m.off ? 'off' : 'on'} ${m.proxyPort ?? '-'}\n`);
      writeFileSync(join(scratch, 'mirror-absent'), (m.absent ?? []).map((p) => `${p}\n`).join(''));
    }
    // --kill-child: when the time is up, the whole PID namespace goes with unshare (nothing is left looping).
    const r = spawnSync('unshare', ['--mount', '--net', '--uts', '--pid', '--fork', '--kill-child', 'bash', '-c', INNER, 'inner', scratch, opts.mac ?? QEMU_DEFAULT_MAC, (opts.fail ?? []).join(' '), opts.then ?? '', opts.nic ?? 'eth0', (opts.layers ?? []).join(' '), opts.netplan ? '1' : ''], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`sandbox set-up failed (exit ${r.status}): ${r.stderr}`);
    const upper = join(scratch, 'u');
    // What this boot wrote is in `upper`; a file it deleted is a whiteout there (a 0/0 character device).
    const whiteout = (path: string): boolean => {
      const st = statSync(join(upper, path), { throwIfNoEntry: false });
      return !!st && st.isCharacterDevice() && st.rdev === 0;
    };
    const read = (path: string): string | undefined => {
      if (path.startsWith('run/')) return existsSync(join(scratch, path)) ? readFileSync(join(scratch, path), 'utf8') : undefined;
      return existsSync(join(upper, path)) && !whiteout(path) ? readFileSync(join(upper, path), 'utf8') : undefined;
    };
    // The merged view, as overlayfs resolves it: this boot's layer, the given layers, then the machine's root.
    const exists = (path: string): boolean =>
      whiteout(path) ? false : [upper, ...(opts.layers ?? []), '/'].some((dir) => existsSync(join(dir, path)));
    const resultFile = join(scratch, 'result.json');
    const result = JSON.parse(existsSync(resultFile) ? readFileSync(resultFile, 'utf8') : '{"v1":{"errors":["cloud-init wrote no result.json"]}}') as { v1: { errors: string[] } };
    return inspect({
      rc: Number(readFileSync(join(scratch, 'cloud-init.rc'), 'utf8')),
      output: readFileSync(join(scratch, 'cloud-init.out'), 'utf8'),
      errors: result.v1.errors,
      calls: (read('standin/calls.log') ?? '').split('\n').filter(Boolean),
      thenOutput: existsSync(join(scratch, 'then.out')) ? readFileSync(join(scratch, 'then.out'), 'utf8') : '',
      mirrorLog: lines(join(scratch, 'mirror.log')),
      addresses: lines(join(scratch, 'ip-addr')),
      routes: lines(join(scratch, 'ip-route')),
      serverOutput: existsSync(join(scratch, 'http.log')) ? readFileSync(join(scratch, 'http.log'), 'utf8') : '',
      proxyLog: lines(join(scratch, 'proxy.log')),
      clusterRecord: () => {
        const r = read('standin/cluster.json');
        return r === undefined ? undefined : (JSON.parse(r) as ClusterRecord);
      },
      clusterState: () => {
        const r = read('standin/cluster-state.json');
        return r === undefined ? undefined : (JSON.parse(r) as unknown);
      },
      read,
      list: (path) => {
        const dir = join(path.startsWith('run/') ? scratch : upper, path);
        return existsSync(dir) ? readdirSync(dir).filter((f) => !whiteout(join(path, f))).sort() : [];
      },
      marker: (name) => existsSync(join(upper, 'standin', name)),
      exists,
      layer: upper,
      mode: (path) => (existsSync(join(upper, path)) ? statSync(join(upper, path)).mode & 0o7777 : undefined),
    });
  } finally {
    // The overlay's work folder holds a root-owned, mode-000 directory: rm -rf copes.
    rmSync(scratch, { recursive: true, force: true });
  }
}
