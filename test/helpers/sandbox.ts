// A first boot, simulated with the real cloud-init: this machine's own root file system, seen
// through a throw-away overlay in private mount, network, UTS and PID namespaces, gets a host's
// NoCloud seed and runs cloud-init's four stages. Everything cloud-init and our scripts write
// lands in the overlay's upper folder, which the test reads afterwards; the machine itself is
// untouched (hostname, NICs and files stay as they were).
//
// Commands that would reach the network, change the kernel or need a real cluster are replaced
// by STAND-INS (not the real tools) put first on PATH: they record their arguments to
// /standin/calls.log and act out the part of the tool our scripts depend on (kubeadm init
// leaves an admin.conf, apt-cache madison lists the wanted version, gpg --dearmor writes its
// output file, …). A marker file /standin/fail-<command>-<first argument> makes a stand-in fail.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FileTree } from '../../src/output/tree.js';
import { text } from './cluster.js';

const STAND_IN = `#!/bin/bash
# STAND-IN written by test/helpers/sandbox.ts. It is not the real tool. State it keeps, so that
# later commands see what earlier ones did (as on a real host): /standin/packages ("name version"),
# /standin/holds, /standin/enabled, /standin/active, /standin/images.
name=$(basename "$0")
printf '%s %s\\n' "$name" "$*" >> /standin/calls.log
[ -e "/standin/fail-$name-$1" ] && { echo "stand-in $name $1 fails as asked" >&2; exit 1; }
k8s=$(cat /standin/kubernetes-version)
has() { grep -qxF -- "$2" "/standin/$1" 2>/dev/null; }
add() { has "$1" "$2" || echo "$2" >> "/standin/$1"; }
version_of() { awk -v p="$1" '$1 == p { v = $2 } END { if (v == "") exit 1; print v }' /standin/packages 2>/dev/null; }
kubeadm_images() {
  printf 'registry.k8s.io/%s\\n' "kube-apiserver:v$k8s" "kube-controller-manager:v$k8s" "kube-scheduler:v$k8s" \\
    "kube-proxy:v$k8s" coredns/coredns:v1.13.1 pause:3.10.1 etcd:3.6.5-0
}
case "$name" in
  apt-get)
    installing=
    for a in "$@"; do
      case "$a" in
        install) installing=1 ;;
        -*) ;;
        *=*) [ -n "$installing" ] && echo "\${a%%=*} \${a#*=}" >> /standin/packages ;;
        *) if [ -n "$installing" ]; then
             # Unpinned: CRI-O comes from the Kubernetes minor's repository; anything else is "1.0-1".
             case "$a" in cri-o) echo "$a \${k8s%.*}.0-1.1" ;; *) echo "$a 1.0-1" ;; esac >> /standin/packages
           fi ;;
      esac
    done ;;
  apt-cache) [ "$1" = madison ] && printf '%s | %s-1.1 | https://stand-in.invalid/deb Packages\\n' "$2" "$k8s" ;;
  apt-mark)
    case "$1" in
      hold) shift; for p in "$@"; do add holds "$p"; done ;;
      showhold) cat /standin/holds 2>/dev/null ;;
    esac ;;
  dpkg-query)
    pkg=\${*: -1}
    v=$(version_of "$pkg") || exit 1
    case "$*" in *Status*) echo 'install ok installed' ;; *) printf '%s' "$v" ;; esac ;;
  systemctl)
    verb='' now=''
    for a in "$@"; do case "$a" in --now) now=1 ;; -*) ;; *) if [ -z "$verb" ]; then verb=$a; else units="\${units:-} $a"; fi ;; esac; done
    case "$verb" in
      enable) for u in \${units:-}; do add enabled "$u"; [ -n "$now" ] && add active "$u"; done ;;
      start|restart) for u in \${units:-}; do add active "$u"; done ;;
      is-enabled) u=\${units# }; if has enabled "$u"; then echo enabled; else echo disabled; exit 1; fi ;;
      is-active) u=\${units# }; has active "$u" || exit 3 ;;
    esac ;;
  kubelet) [ "$1" = --version ] && echo "Kubernetes v$k8s" ;;
  kubeadm)
    # What kubeadm found when it started: the shared CA key, for control-plane joins.
    [ -f /etc/kubernetes/pki/ca.key ] && touch "/standin/kubeadm-$1-saw-ca-key"
    case "$1 \${2:-} \${3:-}" in
      "config images list") kubeadm_images ;;
      "config images pull") kubeadm_images >> /standin/images ;;
    esac
    case "$1" in
      init) mkdir -p /etc/kubernetes && echo 'stand-in admin kubeconfig' > /etc/kubernetes/admin.conf && echo kubelet > /etc/kubernetes/kubelet.conf ;;
      # A control-plane join (controlPlane: in its JoinConfiguration) writes admin.conf too, as kubeadm does.
      join) mkdir -p /etc/kubernetes && echo kubelet > /etc/kubernetes/kubelet.conf
            if grep -q '^controlPlane:' "$3"; then echo 'stand-in admin kubeconfig' > /etc/kubernetes/admin.conf; fi ;;
      reset) rm -f /etc/kubernetes/kubelet.conf /etc/kubernetes/admin.conf ;;
      version) echo "v$k8s" ;;
    esac ;;
  crictl)
    args=(); skip=; for a in "$@"; do if [ -n "$skip" ]; then skip=; elif [ "$a" = --runtime-endpoint ] || [ "$a" = -r ]; then skip=1; else args+=("$a"); fi; done
    case "\${args[0]:-}" in
      pull) add images "\${args[1]}" ;;
      inspecti) has images "\${args[1]}" || exit 1 ;;
    esac ;;
  gpg) while [ $# -gt 0 ]; do if [ "$1" = -o ]; then cat > "$2"; shift; fi; shift; done ;;
  # Downloads: a release file gets stand-in bytes; a *.sha256sum gets the real sha256 of the file
  # fetched just before it, in the upstream "<hash>  <name>" format, so checksum checks really run.
  curl)
    out='' prev='' url=''
    for a in "$@"; do [ "$prev" = -o ] && out=$a; case "$a" in http*) url=$a ;; esac; prev=$a; done
    case "$url" in
      *.sha256sum) body="$(sha256sum < "$(cat /standin/last-download)" | cut -d' ' -f1)  $(basename "\${url%.sha256sum}")" ;;
      *.key) body='stand-in key' ;;
      *) body="stand-in download of $url" ;;
    esac
    if [ -n "$out" ]; then printf '%s\\n' "$body" > "$out" || exit 23; echo "$out" > /standin/last-download; else printf '%s\\n' "$body"; fi ;;
esac
exit 0
`;

/**
 * Replaced by the stand-in. `timeout` too: it wraps the /dev/tcp probe of the load balancer;
 * `swapon` reports no swap (the host's own swap is not the image's).
 */
const STAND_IN_COMMANDS = [
  'apt-get', 'apt-mark', 'apt-cache', 'dpkg-query', 'systemctl', 'kubeadm', 'kubelet', 'kubectl', 'crictl', 'curl',
  'modprobe', 'sysctl', 'swapoff', 'swapon', 'ufw', 'gpg', 'systemd-run', 'sleep', 'timeout', 'cilium', 'helm', 'tar', 'shutdown',
];

const INNER = `set -eu
scratch=$1 mac=$2 fails=$3 then=$4 nicname=$5 layers=$6
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
trap 'cp -a "$t/u" "$scratch/u"' EXIT
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$t/u,workdir=$t/w" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
ip link set lo up
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
# A fresh instance: no state of an earlier cloud-init run, our seed, NoCloud only.
rm -rf "$root/var/lib/cloud" "$root/var/log/cloud-init.log" "$root/var/log/cloud-init-output.log"
mkdir -p "$root/var/lib/cloud/seed/nocloud" "$root/standin"
cp "$scratch"/seed/* "$root/var/lib/cloud/seed/nocloud/"
# Calls made while an earlier layer was built (an image's bake) are kept apart from this boot's.
if [ -f "$root/standin/calls.log" ]; then mv "$root/standin/calls.log" "$root/standin/calls.before.log"; fi
printf 'datasource_list: [ NoCloud, None ]\\nlocale: C.UTF-8\\n' > "$root/etc/cloud/cloud.cfg.d/99-kubebake-sandbox.cfg"
cp "$scratch/kubernetes-version" "$root/standin/"
for f in $fails; do touch "$root/standin/fail-$f"; done
# Files the image already has (a baked image's provenance record, say).
if [ -d "$scratch/image" ]; then cp -a "$scratch/image/." "$root/"; fi
cp "$scratch/stand-in" "$root/usr/local/sbin/stand-in"
for c in ${STAND_IN_COMMANDS.join(' ')}; do ln -sf stand-in "$root/usr/local/sbin/$c"; done
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
rc=0
chroot "$root" sh -c 'cloud-init init --local && cloud-init init && cloud-init modules --mode config && cloud-init modules --mode final' > "$scratch/cloud-init.out" 2>&1 || rc=$?
echo "$rc" > "$scratch/cloud-init.rc"
# Kept before \`then\` runs: a bake's sysprep removes cloud-init's state.
cp "$root/var/lib/cloud/data/result.json" "$scratch/result.json" 2>/dev/null || true
if [ -n "$then" ]; then chroot "$root" sh -c "$then" > "$scratch/then.out" 2>&1 || true; fi
`;

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
  /** A file the boot wrote or changed (undefined when it did not). */
  read(path: string): string | undefined;
  mode(path: string): number | undefined;
}

/** Why a sandboxed boot cannot run on this machine, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount namespaces, overlayfs, chroot)';
  if (spawnSync('cloud-init', ['--version']).status !== 0) return 'cloud-init is not installed';
  const probe = mkdtempSync(join(tmpdir(), 'kubebake-probe-'));
  try {
    const r = spawnSync('unshare', ['--mount', '--net', '--uts', '--pid', '--fork', 'sh', '-c', 'mkdir u w m && mount -t overlay overlay -o lowerdir=/,upperdir=u,workdir=w m'], { cwd: probe, encoding: 'utf8' });
    return r.status === 0 ? undefined : `this kernel or container refuses namespaces or an overlay over / (${(r.stderr || r.error?.message || '').trim()})`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

export interface BootOptions {
  /** The NoCloud seed; without network-config cloud-init falls back to DHCP (as Packer's seed CD does). */
  seed: { 'user-data': string; 'meta-data': string; 'network-config'?: string };
  /** Read-only layers over this machine's root, topmost first: e.g. the `layer` of an earlier boot that baked an image. */
  layers?: string[];
  kubernetesVersion: string;
  /** The host's NIC: its MAC (network-config may match by it) and the name the kernel gave it (default eth0). */
  mac?: string;
  nic?: string;
  /** Stand-in calls that fail, as "<command>-<first argument>", e.g. "kubeadm-join". */
  fail?: string[];
  /** Files the image already has before its first boot: absolute path → content (and mode, 0644 if not given). */
  image?: Record<string, string | { content: string; mode: number }>;
  /** A command run in the booted root afterwards (e.g. first boot's script a second time). */
  then?: string;
}

/** A host's NoCloud seed as `render cloud-init` wrote it into `tree`. */
export function hostSeed(tree: FileTree, host: string): BootOptions['seed'] {
  return {
    'user-data': text(tree, `hosts/${host}/user-data`),
    'meta-data': text(tree, `hosts/${host}/meta-data`),
    'network-config': text(tree, `hosts/${host}/network-config`),
  };
}

/** Boots once, hands the result to `inspect` (its files exist only until `inspect` returns). */
export function bootInSandbox<T>(opts: BootOptions, inspect: (boot: BootResult) => T): T {
  const scratch = mkdtempSync(join(tmpdir(), 'kubebake-boot-'));
  try {
    mkdirSync(join(scratch, 'seed'));
    for (const [name, content] of Object.entries(opts.seed)) if (content !== undefined) writeFileSync(join(scratch, 'seed', name), content);
    writeFileSync(join(scratch, 'kubernetes-version'), opts.kubernetesVersion);
    for (const [path, file] of Object.entries(opts.image ?? {})) {
      mkdirSync(join(scratch, 'image', dirname(path)), { recursive: true });
      writeFileSync(join(scratch, 'image', path), typeof file === 'string' ? file : file.content);
      chmodSync(join(scratch, 'image', path), typeof file === 'string' ? 0o644 : file.mode);
    }
    writeFileSync(join(scratch, 'stand-in'), STAND_IN);
    chmodSync(join(scratch, 'stand-in'), 0o755);
    const r = spawnSync('unshare', ['--mount', '--net', '--uts', '--pid', '--fork', 'bash', '-c', INNER, 'inner', scratch, opts.mac ?? '', (opts.fail ?? []).join(' '), opts.then ?? '', opts.nic ?? 'eth0', (opts.layers ?? []).join(' ')], {
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
    const read = (path: string): string | undefined =>
      existsSync(join(upper, path)) && !whiteout(path) ? readFileSync(join(upper, path), 'utf8') : undefined;
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
      read,
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
