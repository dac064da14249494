// Real machines for the delivery tests: a Debian 12 (or 13) disk built from Debian's packages with
// debootstrap (kernel, systemd, cloud-init), booted by QEMU in software emulation with a host's
// rendered seed.iso as its CD-ROM. Nothing leaves this machine: the guest's NIC is on QEMU's
// user network with restrict=on. After the guest powers itself off, its disk is read back with
// debugfs, so assertions rest on what the guest wrote, not on the console.
//
// Two network stacks, as cloud-init meets them in the field (FACTS.md): `ifupdown` (what the
// Debian installer gives bare metal; cloud-init renders /etc/network/interfaces.d) and `netplan`
// (netplan.io + systemd-networkd + systemd-resolved, what cloud images use). cloud-init picks its
// renderer from what it finds on the disk.
//
// The disks are built once and cached under /var/cache/kubebake-test/, keyed by a hash of the
// recipe below: change the recipe and a new disk is built.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock } from '../../src/output/lock.js';

export type NetworkStack = 'ifupdown' | 'netplan';

/**
 * The Debian releases a disk can be built from: the debootstrap suite, and the name its cache
 * folders carry. Debian 12 is every delivery test's guest; Debian 13 (trixie, cloud-init 25.1)
 * boots one host of the debian-13 profile, with netplan as its cloud images have it.
 */
export const DEBIAN_RELEASES = { bookworm: 'debian12', trixie: 'debian13' } as const;
export type DebianRelease = keyof typeof DEBIAN_RELEASES;

export const VM_CACHE = process.env.KUBEBAKE_VM_CACHE ?? '/var/cache/kubebake-test';

/** Packages of each stack, on top of the common ones. */
const STACK_PACKAGES: Record<NetworkStack, string> = {
  ifupdown: 'ifupdown isc-dhcp-client',
  netplan: 'netplan.io systemd-resolved',
};

/**
 * Runs in the guest once cloud-init and kubebake's first boot are done (or after its own bound):
 * copies what only lives in memory (addresses, routes, resolver state, the journal) to the disk,
 * then powers the guest off. It is test equipment, not part of kubebake.
 */
const PROBE = `#!/bin/sh
out=/var/log/kubebake-test
mkdir -p "$out"
echo "kubebake-test: probe started" > /dev/ttyS0
timeout 900 cloud-init status --wait > "$out/cloud-init-status" 2>&1
i=0
while [ $i -lt 600 ]; do
  case "$(cat /var/lib/kubebake/status 2>/dev/null)" in ok|failed:*) break ;; esac
  /bin/sleep 1; i=$((i + 1))
done
ip -o link show > "$out/ip-link"
ip -o -4 addr show > "$out/ip-addr"
ip -4 route show > "$out/ip-route"
cat /etc/resolv.conf > "$out/resolv.conf" 2>&1
resolvectl dns > "$out/resolvectl-dns" 2>&1 || true
hostname > "$out/hostname"
stat -fc %T /sys/fs/cgroup > "$out/cgroup-fs"
cloud-init status --long > "$out/cloud-init-status-long" 2>&1
journalctl -b --no-pager > "$out/journal" 2>&1
echo done > "$out/done"
sync
echo "kubebake-test: probe done, powering off" > /dev/ttyS0
systemctl poweroff
`;

// Type=simple: cloud-final.service is ordered after multi-user.target, so a oneshot unit there
// that waits for cloud-init would wait for itself.
const PROBE_UNIT = `[Unit]
Description=kubebake test probe: record the first boot's outcome, then power off

[Service]
Type=simple
ExecStart=/usr/local/sbin/kubebake-test-probe

[Install]
WantedBy=multi-user.target
`;

/**
 * The base every stack's disk starts from, as one shell script (run as root): $1 is the root
 * folder to fill, $2 the Debian suite. Built once per recipe and cached: debootstrap and the kernel are most of a
 * disk's build, and both stacks share them. Keeps apt's lists for the stack step.
 */
// (No single quotes inside the unshare blocks: each is one single-quoted bash -c argument.)
const BASE_RECIPE = `set -euo pipefail
root=$1 suite=$2
debootstrap --variant=minbase "$suite" "$root" >/dev/null
unshare --mount --fork bash -eu -c '
  root=$1
  mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"; mount --rbind /dev "$root/dev"
  export DEBIAN_FRONTEND=noninteractive
  chroot "$root" apt-get update -qq
  # initramfs-tools before the kernel: its hook builds the initrd the kernel is booted with.
  # locales and openssh-server as on an installed Debian: the locale and ssh modules of cloud-init use them.
  # e2fsprogs: the resizefs module of cloud-init runs resize2fs; trixie made it Priority important
  # (bookworm: required), so a trixie minbase lacks it where installed systems and cloud images have it.
  chroot "$root" apt-get install -y -qq --no-install-recommends systemd-sysv udev initramfs-tools kmod \\
    linux-image-amd64 cloud-init iproute2 locales openssh-server e2fsprogs >/dev/null
  chroot "$root" apt-get clean
' inner "$root"
# The locale an English Debian install generates. cloud-init's locale module defaults to it, and on
# Debian it cannot generate it itself (Debian's locale-gen ignores its argument).
sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' "$root/etc/locale.gen"
chroot "$root" locale-gen >/dev/null
echo '/dev/vda / ext4 rw,commit=1 0 0' > "$root/etc/fstab"
echo debian-test > "$root/etc/hostname"
# The test's seeds come on a CD labelled cidata; looking at other datasources only costs time.
printf 'datasource_list: [ NoCloud, None ]\\n' > "$root/etc/cloud/cloud.cfg.d/90-kubebake-test.cfg"
# First boot's apt retries wait 10-50 s between attempts; here no mirror is reachable, so waiting
# proves nothing: sleep in the guest (found first on PATH) waits 1 s at most. The probe uses /bin/sleep.
printf '#!/bin/sh\\n# kubebake VM test: waits cut to 1 s (nothing is reachable from this guest)\\nexec /bin/sleep 1\\n' > "$root/usr/local/bin/sleep"
chmod 0755 "$root/usr/local/bin/sleep"
# Likewise each apt attempt waits out the resolver (5 s, twice, per name) for DNS servers that
# never answer here: every service the guest starts gives up on a name after 1 s (glibc RES_OPTIONS).
mkdir -p "$root/etc/systemd/system.conf.d"
printf '[Manager]\\nDefaultEnvironment="RES_OPTIONS=timeout:1 attempts:1"\\n' > "$root/etc/systemd/system.conf.d/90-kubebake-test.conf"
`;

/** A stack on a copy of the base: $1 is that copy, $2 the stack's packages. */
const STACK_RECIPE = `set -euo pipefail
root=$1 packages=$2
unshare --mount --fork bash -eu -c '
  root=$1 packages=$2
  mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"; mount --rbind /dev "$root/dev"
  export DEBIAN_FRONTEND=noninteractive
  # The cached base may be older than the current lists of the mirror.
  chroot "$root" apt-get update -qq
  chroot "$root" apt-get install -y -qq --no-install-recommends $packages >/dev/null
  chroot "$root" apt-get clean
' inner "$root" "$packages"
# No package lists inside: the guest has no way to any mirror (restrict=on).
rm -rf "$root"/var/lib/apt/lists/*
if [ -x "$root/usr/sbin/netplan" ]; then
  chroot "$root" systemctl enable systemd-networkd systemd-resolved >/dev/null 2>&1
fi
`;

const digest = (...parts: string[]): string => parts.reduce((h, p) => h.update(p).update('\0'), createHash('sha256')).digest('hex').slice(0, 16);
const baseHash = (release: DebianRelease): string => digest(BASE_RECIPE, release);
const recipeHash = (stack: NetworkStack, release: DebianRelease): string => digest(BASE_RECIPE, release, STACK_RECIPE, STACK_PACKAGES[stack], PROBE, PROBE_UNIT);

/** Why VM tests cannot run here, or undefined when they can. */
export function vmUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (debootstrap, chroot)';
  for (const [tool, args] of [['qemu-system-x86_64', ['--version']], ['debootstrap', ['--version']], ['debugfs', ['-V']], ['mkfs.ext4', ['-V']]] as const) {
    const r = spawnSync(tool, args);
    if (r.error) return `${tool} is not installed (apt-get install qemu-system-x86 debootstrap e2fsprogs)`;
  }
  return undefined;
}

export interface DebianDisk { stack: NetworkStack; release: DebianRelease; disk: string; kernel: string; initrd: string; buildSeconds?: number }

/** Runs one of the recipes; its last output on failure. */
function runRecipe(what: string, recipe: string, args: readonly string[]): void {
  const r = spawnSync('bash', ['-c', recipe, 'recipe', ...args], { encoding: 'utf8', timeout: 1_200_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`building ${what} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${r.stderr.slice(-3000)}`);
}

/** Removes what an older recipe built under VM_CACHE (`prefix` + another hash): never used again. */
function removeOlder(prefix: string, current: string): void {
  for (const old of readdirSync(VM_CACHE).filter((d) => d.startsWith(prefix) && join(VM_CACHE, d) !== current)) rmSync(join(VM_CACHE, old), { recursive: true, force: true });
}

/** The base root folder, built now when missing (debootstrap from Debian's mirror, the kernel, cloud-init). */
function baseRoot(release: DebianRelease): string {
  const name = DEBIAN_RELEASES[release];
  const dir = join(VM_CACHE, `${name}-base-${baseHash(release)}`);
  if (existsSync(join(dir, 'complete'))) return join(dir, 'root');
  const work = mkdtempSync(join(VM_CACHE, '.build-base-'));
  try {
    mkdirSync(join(work, 'root'));
    runRecipe(`the ${release} base root`, BASE_RECIPE, [join(work, 'root'), release]);
    writeFileSync(join(work, 'complete'), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    removeOlder(`${name}-base-`, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return join(dir, 'root');
}

/**
 * The cached disk for a stack, built now when missing: the shared base root (a few minutes, once),
 * copied, plus the stack's packages. Test files run side by side and ask for the same disks, so a
 * build holds VM_CACHE's lock: a second asker waits and then finds the disk built.
 */
export async function debianDisk(stack: NetworkStack, release: DebianRelease = 'bookworm'): Promise<DebianDisk> {
  const name = DEBIAN_RELEASES[release];
  const dir = join(VM_CACHE, `${name}-${stack}-${recipeHash(stack, release)}`);
  const files = { stack, release, disk: join(dir, 'disk.img'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') };
  if (existsSync(join(dir, 'complete'))) return files;
  const started = Date.now();
  mkdirSync(VM_CACHE, { recursive: true });
  const unlock = await acquireLock(VM_CACHE, { waitSeconds: 2400 });
  try {
    if (existsSync(join(dir, 'complete'))) return files; // built while this one waited
    const base = baseRoot(release);
    const work = mkdtempSync(join(VM_CACHE, `.build-${stack}-`));
    try {
      const root = join(work, 'root');
      const cp = spawnSync('cp', ['-a', base, root], { encoding: 'utf8' });
      if (cp.status !== 0) throw new Error(`copying the base root failed: ${cp.stderr}`);
      runRecipe(`the ${release} ${stack} root`, STACK_RECIPE, [root, STACK_PACKAGES[stack]]);
      writeFileSync(join(root, 'usr/local/sbin/kubebake-test-probe'), PROBE, { mode: 0o755 });
      writeFileSync(join(root, 'etc/systemd/system/kubebake-test-probe.service'), PROBE_UNIT);
      mkdirSync(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
      spawnSync('ln', ['-sf', '/etc/systemd/system/kubebake-test-probe.service', join(root, 'etc/systemd/system/multi-user.target.wants/kubebake-test-probe.service')]);
      copyFileSync(join(root, 'vmlinuz'), join(work, 'vmlinuz'));
      copyFileSync(join(root, 'initrd.img'), join(work, 'initrd.img'));
      const mk = spawnSync('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', root, join(work, 'disk.img'), '3G'], { encoding: 'utf8' });
      if (mk.status !== 0) throw new Error(`mkfs.ext4 -d failed: ${mk.stderr}`);
      rmSync(root, { recursive: true, force: true });
      writeFileSync(join(work, 'complete'), `${new Date().toISOString()} ${Math.round((Date.now() - started) / 1000)} s\n`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
      removeOlder(`${name}-${stack}-`, dir); // 3 GB (sparse) each
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    await unlock();
  }
  return { ...files, buildSeconds: Math.round((Date.now() - started) / 1000) };
}

export interface VmBoot {
  /** Everything the serial console printed. */
  console: string;
  seconds: number;
  /** QEMU's exit: 0 after the guest powered off. */
  exitCode: number | null;
  timedOut: boolean;
  /** A file from the guest's disk after it stopped (undefined when absent). */
  read(path: string): string | undefined;
  /** The guest's disk (the boot's scratch copy): `again` boots it once more. */
  diskPath: string;
  /** Removes the boot's scratch disk (a 3 GB sparse copy each). */
  dispose(): void;
}

export interface VmOptions {
  disk: DebianDisk;
  /** The seed as a cidata CD-ROM; absent when the guest fetches it over the network. */
  seedIso?: string;
  mac: string;
  /** Kernel arguments after the disk's own (e.g. an HTTP seed's ds=…;s=… and network-config=…). */
  append?: readonly string[];
  /**
   * Lets the guest (and only it, restrict=on stays) reach one server: its TCP connections to
   * addr:port each start `command` (QEMU's guestfwd cmd: form), whose stdin/stdout is the connection.
   */
  guestfwd?: { addr: string; port: number; command: string };
  /** Boot from the network with the NIC's iPXE ROM (-boot n) instead of the disk's kernel; QEMU's DHCP offers `bootfile`. */
  pxe?: { bootfile: string };
  /** Stops the guest early (as the timeout does). */
  signal?: AbortSignal;
  /** Wall-clock bound for the whole boot; QEMU is killed after it. */
  timeoutMs: number;
  /** A reboot: boot this earlier boot's disk again (same instance, same seed) instead of a fresh copy. */
  again?: VmBoot;
  /**
   * QEMU's user network as a platform's: its subnet, the gateway address QEMU answers as (`host`),
   * the first address its DHCP hands out (`dhcpstart`: the first lease, e.g. a host's reservation)
   * and its DNS address (QEMU docs, -netdev user: net=, host=, dhcpstart=, dns=). Default QEMU's 10.0.2.0/24.
   */
  network?: { net: string; host: string; dhcpstart: string; dns: string };
  /** Files an installer left on the disk: written into this boot's copy before it starts (absolute path → content, mode). */
  files?: Record<string, { content: string; mode: number }>;
}

/**
 * Writes a file into a stopped guest's disk (debugfs -w), e.g. a drop-in that orders the test
 * probe after a unit before a reboot. The parent folder is created when missing.
 */
export function writeGuestFile(diskPath: string, path: string, content: string, mode = 0o644): void {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-guestfile-'));
  try {
    const local = join(dir, 'file');
    writeFileSync(local, content);
    const parent = path.slice(0, path.lastIndexOf('/'));
    const r = spawnSync('debugfs', ['-w', '-R', `mkdir ${parent}`, diskPath], { encoding: 'utf8' });
    const w = spawnSync('debugfs', ['-w', '-R', `write ${local} ${path}`, diskPath], { encoding: 'utf8' });
    if (w.status !== 0 || /rror|not found/i.test(w.stderr.replace(/^debugfs [^\n]*\n/, ''))) throw new Error(`debugfs write ${path} failed: ${r.stderr} ${w.stderr}`);
    // A regular file (0100000) with the given permissions.
    const m = spawnSync('debugfs', ['-w', '-R', `sif ${path} mode 0${(0o100000 | mode).toString(8)}`, diskPath], { encoding: 'utf8' });
    if (m.status !== 0 || /rror|not found/i.test(m.stderr.replace(/^debugfs [^\n]*\n/, ''))) throw new Error(`debugfs sif ${path} mode failed: ${m.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Boots a throw-away copy of the disk with the seed as a CD-ROM, waits for the guest to power
 * itself off (or the bound), and returns its console and a reader of its disk. The NIC sits on a
 * PCIe root port, as libvirt and Proxmox q35 machines place it, so the kernel names it enp1s0.
 */
export async function bootVm(opts: VmOptions): Promise<VmBoot> {
  const scratch = mkdtempSync(join(tmpdir(), 'kubebake-vm-'));
  const disk = opts.again?.diskPath ?? join(scratch, 'disk.img');
  if (!opts.again) {
    const cp = spawnSync('cp', ['--sparse=always', opts.disk.disk, disk]);
    if (cp.status !== 0) throw new Error(`copying the disk failed: ${cp.stderr}`);
    for (const [path, f] of Object.entries(opts.files ?? {})) writeGuestFile(disk, path, f.content, f.mode);
  }
  const consoleLog = join(scratch, 'console.log');
  const args = [
    '-accel', 'tcg', '-machine', 'q35', '-cpu', 'max', '-m', '1024', '-smp', '1',
    '-display', 'none', '-no-reboot', '-serial', `file:${consoleLog}`, '-monitor', 'none',
    ...(opts.pxe
      ? ['-boot', 'n']
      : ['-kernel', opts.disk.kernel, '-initrd', opts.disk.initrd,
        '-append', ['root=/dev/vda rw console=ttyS0 panic=-1 rootflags=commit=1 sysctl.vm.dirty_expire_centisecs=100 sysctl.vm.dirty_writeback_centisecs=100', ...(opts.append ?? [])].join(' ')]),
    '-drive', `file=${disk},format=raw,if=virtio`,
    ...(opts.seedIso ? ['-drive', `file=${opts.seedIso},media=cdrom,readonly=on`] : []),
    // QEMU options separate with commas: a comma inside the command is written twice.
    '-netdev', `user,id=n0,restrict=on${opts.network ? `,net=${opts.network.net},host=${opts.network.host},dhcpstart=${opts.network.dhcpstart},dns=${opts.network.dns}` : ''}${opts.pxe ? `,bootfile=${opts.pxe.bootfile}` : ''}${opts.guestfwd ? `,guestfwd=tcp:${opts.guestfwd.addr}:${opts.guestfwd.port}-cmd:${opts.guestfwd.command.replace(/,/g, ',,')}` : ''}`,
    '-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2',
    '-device', `virtio-net-pci,netdev=n0,bus=rp1,mac=${opts.mac}`,
  ];
  const started = Date.now();
  // timeout(1) bounds the guest even if this process dies first (a test-runner kill skips
  // 'exit' handlers); the timer below and the exit handler end it sooner when they can.
  const qemu = spawn('timeout', ['-s', 'KILL', String(Math.ceil(opts.timeoutMs / 1000) + 30), 'qemu-system-x86_64', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const killOnExit = (): void => void qemu.kill('SIGTERM');
  process.once('exit', killOnExit);
  let stderr = '';
  qemu.stderr.on('data', (d) => (stderr += d));
  let timedOut = false;
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill('SIGTERM'); // timeout(1) passes it on to QEMU, which stops at once
    }, opts.timeoutMs);
    const stop = (): void => void qemu.kill('SIGTERM');
    opts.signal?.addEventListener('abort', stop);
    qemu.on('exit', (code) => {
      opts.signal?.removeEventListener('abort', stop);
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
      resolve(code);
    });
    qemu.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const consoleText = (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '') + (stderr ? `\n[qemu stderr] ${stderr}` : '');
  const cache = new Map<string, string | undefined>();
  const read = (path: string): string | undefined => {
    if (!cache.has(path)) {
      const r = spawnSync('debugfs', ['-R', `cat ${path}`, disk], { encoding: 'utf8', maxBuffer: 64 << 20 });
      cache.set(path, r.status === 0 && !/File not found/.test(r.stderr) ? r.stdout : undefined);
    }
    return cache.get(path);
  };
  return {
    console: consoleText,
    seconds,
    exitCode,
    timedOut,
    read,
    diskPath: disk,
    dispose: () => rmSync(scratch, { recursive: true, force: true }),
  };
}
