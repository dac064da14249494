// Debian: a preseed file for the Debian installer, fetched from `url=` on the kernel command line
// (Debian installation guide, appendix B, "Automating the installation using preseeding":
// B.2.3 auto mode, B.2.4 the `url`/`interface`/`hostname`/`domain` aliases, B.4 the file's
// contents, https://d-i.debian.org/manual/en.amd64/apb.html and its example-preseed.txt). The
// network is on the kernel command line (see boot-params.ts): "preseeding the network
// configuration won't work if you're loading your preconfiguration file from the network".
// Debian preseed has no structure library: a text template, every value from the plan.
//
// Its late command installs the host's NoCloud seed for the first boot: the three files from
// the provisioning server into /var/lib/cloud/seed/nocloud/ of the new system, which cloud-init's
// NoCloud datasource reads locally (DataSourceNoCloud seed dirs "nocloud" and "nocloud-net",
// canonical/cloud-init @ 04eacd06ee60de9dbb9e7be784be20dab7342c1a) — so even cloud-init 22.4.2
// gets network-config, which it never fetches over HTTP. The installer's own static stanza in
// /etc/network/interfaces is replaced by loopback + interfaces.d, where cloud-init writes the
// host's NIC, so the NIC is not configured twice.
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import { q } from '../../../steps/shell.js';
import { installDiskKind } from '../../../topology/install-disk.js';
import { GENERATED } from '../../../util/generated.js';

/** The files the late command fetches, and their modes on the host (user-data holds join material). */
export const SEED_FETCH: readonly { file: string; mode: string }[] = [
  { file: 'meta-data', mode: '0644' },
  { file: 'network-config', mode: '0644' },
  { file: 'user-data', mode: '0600' },
];

/** The shell command (busybox sh in the installer) that installs the seed into /target. */
export function lateCommand(seedUrl: string): string {
  const dir = '/target/var/lib/cloud/seed/nocloud';
  const fetch = SEED_FETCH.map(({ file, mode }) => `wget -q -O ${dir}/${file} ${q(seedUrl + file)} && chmod ${mode} ${dir}/${file}`);
  return [
    `mkdir -p ${dir}`,
    `chmod 0700 ${dir}`,
    ...fetch,
    `printf 'auto lo\\niface lo inet loopback\\nsource /etc/network/interfaces.d/*\\n' > /target/etc/network/interfaces`,
  ].join(' && ');
}

/**
 * Where the installer gets its packages: the site's OS mirror and proxy when the topology has them
 * (a restricted network reaches no upstream host), else deb.debian.org. choose-mirror asks per
 * protocol: mirror/protocol, then mirror/<protocol>/{hostname,directory,proxy} (Debian's
 * choose-mirror.c registers the https questions on the http templates, WITH_HTTPS).
 */
function mirrorLines(plan: ClusterPlan): string[] {
  const mirror = plan.mirrors?.os?.url ? new URL(plan.mirrors.os.url) : undefined;
  const protocol = mirror?.protocol === 'https:' ? 'https' : 'http';
  const lines = [
    'd-i mirror/country string manual',
    `d-i mirror/protocol string ${protocol}`,
    `d-i mirror/${protocol}/hostname string ${mirror?.host ?? 'deb.debian.org'}`,
    `d-i mirror/${protocol}/directory string ${mirror ? mirror.pathname.replace(/\/$/, '') || '/' : '/debian'}`,
    `d-i mirror/${protocol}/proxy string ${plan.proxy?.http ?? ''}`.trimEnd(),
  ];
  // The security and updates services are upstream hosts: the first boot's sources step writes the site's.
  if (mirror) lines.push('d-i apt-setup/services-select multiselect');
  return lines;
}

/**
 * The disk and every question partman asks on its way (Debian's example-preseed.txt for
 * bookworm, package installation-guide-amd64 20230508+deb12u1, "Partitioning"):
 * - `partman-auto/disk`: "If the system has only one disk the installer will default to using
 *   that, but otherwise the device name must be given in traditional, non-devfs format (so e.g.
 *   /dev/sda …)". A kernel name is given as it is; a /dev/disk/by-id or by-path link is resolved
 *   to that name by `partman/early_command` ("run immediately before the partitioner starts …
 *   dynamic partitioner preseeding that depends on the state of the disks"), where udev's links
 *   exist. Without installDisk, the example's own recipe: `debconf-set partman-auto/disk
 *   "$(list-devices disk | head -n1)"` — the first disk list-devices (di-utils) names, which walks
 *   /sys/block/* in name order (nvme0n1 before sda before vda). The boot loader goes to the same disk
 *   (grub-installer/bootdev; "default" could pick another one of several disks).
 * - old LVM and software RAID on a reused disk: `partman-lvm/device_remove_lvm`,
 *   `partman-md/device_remove_md` ("the user will normally receive a warning. This can be
 *   preseeded away"), and their confirmations `partman-lvm/confirm(_nooverwrite)`, `partman-md/confirm`;
 * - "atomic": one root partition (and the EFI system partition on UEFI machines). Its swap
 *   partition is switched off by the first boot's os-prep step, as on every other host;
 * - `confirm_write_new_label`, `choose_partition finish`, `confirm(_nooverwrite)`: "partman
 *   automatically partition[s] without confirmation".
 */
function partitioning(node: NodePlan): string[] {
  const disk = node.installDisk;
  const kind = disk ? installDiskKind(disk) : undefined;
  const select =
    disk && kind && 'kind' in kind && kind.kind === 'kernel'
      ? [`d-i partman-auto/disk string ${disk}`, `d-i grub-installer/bootdev string ${disk}`]
      : [`d-i partman/early_command string ${earlyDiskCommand(disk)}`, 'd-i grub-installer/bootdev string default'];
  return [
    ...select,
    'd-i partman-auto/method string regular',
    'd-i partman-lvm/device_remove_lvm boolean true',
    'd-i partman-md/device_remove_md boolean true',
    'd-i partman-lvm/confirm boolean true',
    'd-i partman-lvm/confirm_nooverwrite boolean true',
    'd-i partman-md/confirm boolean true',
    'd-i partman-auto/choose_recipe select atomic',
    'd-i partman-partitioning/confirm_write_new_label boolean true',
    'd-i partman/choose_partition select finish',
    'd-i partman/confirm boolean true',
    'd-i partman/confirm_nooverwrite boolean true',
  ];
}

/**
 * The shell command (busybox sh in the installer) that picks the disk: a link resolved to its
 * kernel name (busybox's readlink -f: CONFIG_READLINK and CONFIG_FEATURE_READLINK_FOLLOW are on in
 * Debian's udeb build, debian/config/pkg/udeb of the busybox source package, 1.36.1), or the first one listed.
 */
export function earlyDiskCommand(link?: string): string {
  const pick = link ? `readlink -f ${q(link)}` : 'list-devices disk | head -n1';
  return `disk="$(${pick})" && debconf-set partman-auto/disk "$disk" && debconf-set grub-installer/bootdev "$disk"`;
}

/**
 * One debconf line as debconf-set-selections reads it: a line ending in `\` is joined with the
 * next (debconf 1.5.82, /usr/bin/debconf-set-selections: `while (/\\$/ && ! eof)`), and a line
 * break or other control character would start another answer. The topology's patterns keep
 * them out of every value; one here is a renderer's bug.
 */
export function debconfLine(line: string): string {
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]|\\$/.test(line)) throw new Error(`not one debconf line: ${JSON.stringify(line)}`);
  return line;
}

export function renderPreseed(plan: ClusterPlan, node: NodePlan, seedUrl: string): string {
  const lines = [
    `# ${GENERATED}`,
    `# Debian installer preseed for ${node.name} (${node.role}): installs ${plan.os.profile} to ${node.installDisk ?? 'the first disk'}, then the`,
    `# host's NoCloud seed; cloud-init does the rest on the first boot. Network: kernel command line.`,
    'd-i debian-installer/locale string en_US.UTF-8',
    'd-i keyboard-configuration/xkb-keymap select us',
    `d-i netcfg/get_hostname string ${node.name}`,
    `d-i netcfg/get_domain string ${plan.network.searchDomain ?? ''}`,
    `d-i netcfg/hostname string ${node.name}`,
    `d-i netcfg/get_nameservers string ${plan.network.dns.join(' ')}`,
    ...mirrorLines(plan),
    // No password anywhere: root's is locked ("!" in /etc/shadow), the admin user and its SSH keys
    // come from the host's cloud-config on the first boot.
    'd-i passwd/root-login boolean true',
    'd-i passwd/root-password-crypted password !',
    'd-i passwd/make-user boolean false',
    'd-i clock-setup/utc boolean true',
    'd-i time/zone string Etc/UTC',
    'd-i clock-setup/ntp boolean true',
    ...partitioning(node),
    'tasksel tasksel/first multiselect standard, ssh-server',
    'd-i pkgsel/include string cloud-init',
    'd-i pkgsel/upgrade select none',
    'popularity-contest popularity-contest/participate boolean false',
    'd-i grub-installer/only_debian boolean true',
    'd-i finish-install/reboot_in_progress note',
    `d-i preseed/late_command string ${lateCommand(seedUrl)}`,
  ];
  return lines.map(debconfLine).join('\n') + '\n';
}
