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
import { macHyphens, type HostBoot } from './boot-params.js';

/** A word iPXE passes through unchanged (see above); anything else is a bug in a renderer. */
export function assertIpxeWord(word: string): string {
  if (!word || /\s/.test(word) || word.startsWith('#') || word.includes('${') || [';', '||', '&&'].includes(word)) {
    throw new Error(`not a literal iPXE word: ${JSON.stringify(word)}`);
  }
  return word;
}

/** How long the per-host menu waits before installing (milliseconds, iPXE's `choose --timeout`). */
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

/** Per host: a menu whose default installs the host; "local" leaves PXE for the next boot device. */
export function renderHostIpxe(plan: ClusterPlan, node: NodePlan, boot: HostBoot): string {
  const args = boot.install.args.map(assertIpxeWord).join(' ');
  return `#!ipxe
# ${GENERATED}
# ${node.name} (${node.role}, ${node.ip}): installs ${plan.os.profile} to its first disk with the ${boot.install.kind === 'autoinstall' ? 'Ubuntu installer (autoinstall)' : 'Debian installer (preseed)'};
# the installed system's first boot then runs the host's seed (${boot.seedUrl}).
menu kubebake ${plan.name}: ${node.name}
item install Install ${plan.os.profile} on ${node.name} (erases its first disk)
item local Boot from the next device (local disk)
choose --default install --timeout ${MENU_TIMEOUT_MS} target || goto local
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
