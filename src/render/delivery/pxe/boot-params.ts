// What a PXE-booted host is told on its kernel command line, derived once per host and used by
// every boot script (iPXE, GRUB) and by hosts.json, so the scripts cannot disagree.
//
// Two command lines per host:
// - `seed`: for booting the host's OS itself with its NoCloud seed over HTTP (a cloud image's or
//   an installed system's kernel, e.g. QEMU -kernel/-append or a disk's GRUB). Chosen per OS from
//   the cloud-init version in src/topology/facts/os-facts.ts:
//   · `ds=nocloud-net;s=URL/` before cloud-init 24.1, `ds=nocloud;s=URL/` from 24.1 (nocloudSeedDsName);
//   · the static address three ways, because before 24.3 an HTTP seed's network-config is never
//     fetched (httpSeedFetchesNetworkConfig) and a host on a network without DHCP cannot reach the
//     seed at all without an address:
//     `network-config=BASE64` — the host's own network-config, which cloud-init reads from the
//       kernel command line before any datasource (cloudinit/net/cmdline.py read_kernel_cmdline_config,
//       present from 20.1 through 26.2: canonical/cloud-init @ 04eacd06ee60de9dbb9e7be784be20dab7342c1a;
//       stages._find_networking_config ranks it first, and the local stage applies it even when
//       no local datasource is found — cloudinit/cmd/main.py main_init at 22.4.2 — so the address
//       is up before the network stage fetches the seed);
//     `ip=<ip>::<gw>:<netmask>:<host>:<iface>:none:<dns0>:<dns1>` — the kernel's nfsroot syntax that
//       initramfs-tools (klibc ipconfig) and dracut read; initramfs-tools fills an empty <iface>
//       from `BOOTIF=01-<mac-with-hyphens>` (scripts/functions configure_networking and
//       _update_ip_param, Debian initramfs-tools-core 0.142+deb12u3). cloud-init turns what the
//       initramfs configured into network config (cmdline.py KlibcNetworkConfigSource: "ip=" on
//       the command line and /run/net-*.conf).
// - `install`: for the OS's netboot installer, which then installs the host to disk:
//   Ubuntu's live-server (subiquity; casper reads ip= like initramfs-tools, fetches the ISO from
//   url= into RAM — root=/dev/ram0 ramdisk_size=… url=<ISO>, the pattern of Ubuntu's netboot
//   pxelinux.cfg; not booted here for each release — and its cloud-init reads the autoinstall
//   document as NoCloud user-data, canonical/subiquity doc/tutorial/providing-autoinstall.rst), or the Debian
//   installer (preseed file from url=, network preseeded on the command line because the preseed
//   file itself comes over the network).
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import { httpSeedFetchesNetworkConfig, nocloudSeedDsName } from '../../../topology/facts/os-facts.js';
import { intToIp, parseCidr } from '../../../util/addressing.js';

export type Installer = 'autoinstall' | 'preseed';

/**
 * A kernel argument that the kernel reads as exactly itself: its command-line parser splits on
 * whitespace and treats `"` as quoting that cannot be escaped ("You can use \" around spaces,
 * but can't escape \"": torvalds/linux lib/cmdline.c next_arg), so neither may appear, nor any
 * control character. The topology's patterns keep them out; one here is a renderer's bug.
 */
export function kernelArg(arg: string): string {
  if (!arg || /[\s"\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(arg)) throw new Error(`not a literal kernel argument: ${JSON.stringify(arg)}`);
  return arg;
}

/** What the boot scripts (iPXE, GRUB) load for a host: its netboot installer. */
export interface HostInstall {
  host: string;
  mac?: string;
  ip: string;
  /** `<server>/nocloud/<host>/`: NoCloud appends user-data, meta-data, vendor-data, network-config. */
  seedUrl: string;
  /** Kernel and initrd the boot scripts load: the operator's netboot installer for the OS. */
  kernelUrl: string;
  initrdUrl: string;
  install: { kind: Installer; url: string; args: string[] };
}

export interface HostBoot extends HostInstall {
  /** Kernel arguments, one word each (none contains a space), for booting the OS with its seed. */
  seedArgs: string[];
}

/**
 * What a host's boot script does when nobody chooses: `install` (only `kubebake serve` answers
 * so, for a host armed to install: src/serve/state.ts) or `local`, leave the network boot for
 * the next boot device — the installed disk. Installing is always in the menu.
 */
export type BootDefault = 'install' | 'local';

/** Where the operator puts each OS's netboot kernel and initrd, relative to the server's root. */
export const bootDir = (plan: ClusterPlan): string => `boot/${plan.os.profile}`;

/** The Ubuntu live-server ISO the installer downloads at boot (casper `url=`), next to its kernel. */
export const UBUNTU_ISO = 'live-server.iso';

export const macHyphens = (mac: string): string => mac.toLowerCase().replace(/:/g, '-');

function netmask(cidr: string): string {
  const { prefix } = parseCidr(cidr);
  return intToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

export const installerOf = (plan: ClusterPlan): Installer => (plan.os.family === 'ubuntu' ? 'autoinstall' : 'preseed');

/** The kernel's `ip=` static form (at most two DNS servers fit), plus BOOTIF when only the MAC names the NIC. */
function ipArgs(plan: ClusterPlan, node: NodePlan): string[] {
  const dns = plan.network.dns.slice(0, 2);
  const ip = `ip=${node.ip}::${plan.network.gateway}:${netmask(plan.network.nodeSubnet)}:${node.name}:${node.interface ?? ''}:none${dns.map((d) => `:${d}`).join('')}`;
  return node.interface || !node.mac ? [ip] : [ip, `BOOTIF=01-${macHyphens(node.mac)}`];
}

/** The kernel argument naming NoCloud with an HTTP seed, as this OS's cloud-init needs it (nocloudSeedDsName). */
export const httpSeedArg = (plan: ClusterPlan, url: string): string => `ds=${nocloudSeedDsName(plan.os.facts.cloudInit)};s=${url}`;
const baseOf = (server: string): string => server.replace(/\/+$/, '');

export function hostBoot(plan: ClusterPlan, server: string, node: NodePlan, networkConfig: string): HostBoot {
  const install = hostInstall(plan, server, node);
  const seedArgs = [
    ...ipArgs(plan, node),
    // Plain base64 (cloud-init also takes gzip+base64, whose bytes vary between zlib builds).
    `network-config=${Buffer.from(networkConfig, 'utf8').toString('base64')}`,
    httpSeedArg(plan, install.seedUrl),
  ];
  return { ...install, seedArgs: seedArgs.map(kernelArg) };
}

export function hostInstall(plan: ClusterPlan, server: string, node: NodePlan): HostInstall {
  const base = baseOf(server);
  const seedUrl = `${base}/nocloud/${node.name}/`;
  const kind = installerOf(plan);
  const dir = `${base}/${bootDir(plan)}`;
  const install =
    kind === 'autoinstall'
      ? {
          kind,
          url: `${base}/autoinstall/${node.name}/`,
          // casper: the live system is the ISO downloaded into RAM (root=/dev/ram0, ramdisk_size in KiB).
          args: [...ipArgs(plan, node), 'root=/dev/ram0', 'ramdisk_size=3500000', `url=${dir}/${UBUNTU_ISO}`, 'autoinstall', httpSeedArg(plan, `${base}/autoinstall/${node.name}/`)],
        }
      : {
          kind,
          url: `${base}/preseed/${node.name}.cfg`,
          args: [
            'auto=true',
            'priority=critical',
            `url=${base}/preseed/${node.name}.cfg`,
            `interface=${node.interface ?? 'auto'}`,
            'netcfg/disable_autoconfig=true',
            `netcfg/get_ipaddress=${node.ip}`,
            `netcfg/get_netmask=${netmask(plan.network.nodeSubnet)}`,
            `netcfg/get_gateway=${plan.network.gateway}`,
            `netcfg/get_nameservers=${plan.network.dns[0]}`,
            'netcfg/confirm_static=true',
            `hostname=${node.name}`,
            `domain=${plan.network.searchDomain ?? ''}`,
          ],
        };
  return { host: node.name, mac: node.mac, ip: node.ip, seedUrl, kernelUrl: `${dir}/linux`, initrdUrl: `${dir}/initrd`, install: { ...install, args: install.args.map(kernelArg) } };
}

/** Whether this OS's cloud-init reads network-config from an HTTP seed (else only the command line carries the address). */
export const seedCarriesNetwork = (plan: ClusterPlan): boolean => httpSeedFetchesNetworkConfig(plan.os.facts.cloudInit);
