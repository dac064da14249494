// GRUB (UEFI network boot): `grub/grub.cfg`, a menu with one entry per host, and per MAC
// `grub/grub.cfg-<mac-with-hyphens>`, which GRUB's net boot loads before grub.cfg: "GRUB will
// search for its configuration files in order … (FWPATH)/grub.cfg-(MAC ADDRESS OF NIC) …
// (FWPATH)/grub.cfg", e.g. grub.cfg-52-54-00-ec-33-81 (GRUB manual, "Network"; Debian
// grub2-common 2.06-13+deb12u2 /usr/share/info/grub.info). So a known machine boots its own
// file and an unknown one gets the menu, which waits with "local" selected.
// Quoting: ";" is a GRUB metacharacter (manual, "Shell-like scripting" → Words), so every
// kernel argument is single-quoted, which "preserves the literal value of each character"
// (a single quote itself cannot appear inside; grubWord refuses it). cloud-init's NoCloud docs
// warn about the same ("an unescaped semicolon is interpreted as the end of a statement").
// Files come over HTTP from the provisioning server: GRUB's device `(http,HOST:PORT)`. The port
// needs a GRUB whose net module reads "server:port" (and "[v6]:port"): Debian 12's 2.06 does
// (grub-efi-amd64-bin 2.06-13+deb12u2 net.mod carries that parser's "mismatched [ in address" and
// "bad port number" errors); not booted here.
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import { GENERATED } from '../../../util/generated.js';
import { macHyphens, type BootDefault, type HostInstall } from './boot-params.js';

export function grubWord(word: string): string {
  if (word.includes("'") || /[\n\r]/.test(word)) throw new Error(`cannot single-quote for GRUB: ${JSON.stringify(word)}`);
  return `'${word}'`;
}

/** `http://10.2.47.5:8080/boot/x` → `(http,10.2.47.5:8080)/boot/x`. */
export function grubHttpPath(url: string): string {
  const u = new URL(url);
  return `(http,${u.host})${u.pathname}`;
}

function menuEntry(plan: ClusterPlan, node: NodePlan, boot: HostInstall): string {
  return `menuentry ${grubWord(`${node.name} (${node.role}, ${node.ip}): install ${plan.os.profile}`)} --id ${grubWord(node.name)} {
  echo ${grubWord(`Loading the ${plan.os.profile} installer for ${node.name}…`)}
  linux ${grubWord(grubHttpPath(boot.kernelUrl))} ${boot.install.args.map(grubWord).join(' ')}
  initrd ${grubWord(grubHttpPath(boot.initrdUrl))}
}`;
}

const LOCAL_ENTRY = `menuentry 'Boot from the next device (local disk)' --id local {
  exit
}`;

/** The shared menu: every host, "local" selected and no timeout — an unknown machine never installs anything by itself. */
export function renderGrubMenu(plan: ClusterPlan, boots: readonly { node: NodePlan; boot: HostInstall }[]): string {
  return `# ${GENERATED}
# Cluster ${plan.name}: one entry per host. Machines with a grub.cfg-<MAC> next to this file boot their own entry.
set default=local
set timeout=-1
${boots.map(({ node, boot }) => menuEntry(plan, node, boot)).join('\n')}
${LOCAL_ENTRY}
`;
}

/** A host's own config: its install entry and "local"; `dflt` is chosen after 10 s (see renderHostIpxe). */
export function renderGrubHost(plan: ClusterPlan, node: NodePlan, boot: HostInstall, dflt: BootDefault): string {
  return `# ${GENERATED}
# ${node.name}: GRUB loads this file (grub.cfg-<its MAC>) before grub.cfg. Without a choice: ${dflt === 'install' ? 'install (kubebake serve: this host is armed to install)' : 'boot from the next device (local disk)'}.
set default=${grubWord(dflt === 'install' ? node.name : 'local')}
set timeout=10
${menuEntry(plan, node, boot)}
${LOCAL_ENTRY}
`;
}

export const hostGrubPath = (mac: string): string => `grub/grub.cfg-${macHyphens(mac)}`;
