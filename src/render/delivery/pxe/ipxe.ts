// iPXE scripts: `boot.ipxe`, one dispatcher every machine chains to (DHCP filename), and per MAC
// `ipxe/<mac-with-hyphens>.ipxe`. The dispatcher names the script with iPXE's settings syntax
// `${mac:hexhyp}`: the MAC setting read as the "hexhyp" type, hyphen-separated hex
// (https://ipxe.org/cfg/mac: `echo ${net0/mac:hexhyp}` → 52-54-00-12-34-56; without a device
// prefix the setting is looked up in the device that booted). iPXE has no quoting: a command
// line is split on whitespace and a token is special only when it IS ";", "||" or "&&", or
// starts with "#" (ipxe/ipxe src/core/exec.c split_command/command_terminator @
// 0062c07d921352213a42cb5771bf2f33fa85cce9), and "${…}" in a token is expanded. So
// `ds=nocloud;s=http://…/` passes through as one kernel argument; assertIpxeWord guards the rest.
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import { GENERATED } from '../../../util/generated.js';
import { macHyphens, type BootDefault, type HostInstall } from './boot-params.js';

/** A word iPXE passes through unchanged (see above); anything else is a bug in a renderer. */
export function assertIpxeWord(word: string): string {
  if (!word || /\s/.test(word) || word.startsWith('#') || word.includes('${') || [';', '||', '&&'].includes(word)) {
    throw new Error(`not a literal iPXE word: ${JSON.stringify(word)}`);
  }
  return word;
}

/** How long a menu waits before its default (milliseconds, iPXE's `choose --timeout`). */
export const MENU_TIMEOUT_MS = 10_000;

export function renderDispatcher(plan: ClusterPlan, server: string): string {
  return `#!ipxe
# ${GENERATED}
# Cluster ${plan.name}: sends each machine to ipxe/<its MAC, hyphen-separated>.ipxe (see hosts.json).
chain --autofree ${assertIpxeWord(`${server}/ipxe/`)}\${mac:hexhyp}.ipxe || goto unknown
:unknown
echo This machine (MAC \${mac}) is no host of cluster ${plan.name}: nothing to boot.
echo Add its MAC to the topology (hosts[].mac) and render again.
prompt --timeout ${MENU_TIMEOUT_MS} Press a key for the iPXE shell, or wait to boot from disk || exit
shell
`;
}

/**
 * Per host: a menu with "install" and "local" (leave PXE for the next boot device). `dflt` is
 * what happens when nobody chooses: the offline tree says `local` (installing is a choice made at
 * the console), `kubebake serve` says `install` only for a host armed to install (serve/state.ts).
 */
export function renderHostIpxe(plan: ClusterPlan, node: NodePlan, boot: HostInstall, dflt: BootDefault): string {
  const args = boot.install.args.map(assertIpxeWord).join(' ');
  const disk = node.installDisk ?? (boot.install.kind === 'autoinstall' ? 'its largest disk' : 'its first disk');
  return `#!ipxe
# ${GENERATED}
# ${node.name} (${node.role}, ${node.ip}): "install" installs ${plan.os.profile} to ${disk} with the ${boot.install.kind === 'autoinstall' ? 'Ubuntu installer (autoinstall)' : 'Debian installer (preseed)'};
# the installed system's first boot then runs the host's seed (${boot.seedUrl}).
# Without a choice within ${MENU_TIMEOUT_MS / 1000} s: ${dflt === 'install' ? 'install (kubebake serve: this host is armed to install)' : 'boot from the next device (local disk)'}.
menu kubebake ${plan.name}: ${node.name}
item install Install ${plan.os.profile} on ${node.name} (erases ${disk})
item local Boot from the next device (local disk)
choose --default ${dflt} --timeout ${MENU_TIMEOUT_MS} target || goto local
goto \${target}
:install
kernel ${assertIpxeWord(boot.kernelUrl)} initrd=initrd ${args}
initrd --name initrd ${assertIpxeWord(boot.initrdUrl)}
boot
:local
exit
`;
}

export const hostIpxePath = (mac: string): string => `ipxe/${macHyphens(mac)}.ipxe`;
