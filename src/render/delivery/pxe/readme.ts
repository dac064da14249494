// pxe/README.md: how an operator wires this tree into a network — where the netboot kernels go,
// how DHCP sends machines here, what each host boots. Markdown: a text template.
// DHCP recipes follow poseidon/matchbox docs/network-setup.md @ 2d55773119e8cf6c224ebf4b24be2e9ea8a81515
// (client-arch matches, the iPXE user class, proxy DHCP beside an existing server); the iPXE
// boot programs are Debian's package `ipxe` (1.0.0+git-20190125.36a4c85-5.1: /usr/lib/ipxe/undionly.kpxe,
// /usr/lib/ipxe/ipxe.efi).
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import { GENERATED } from '../../../util/generated.js';
import { bootDir, seedCarriesNetwork, UBUNTU_ISO, type HostBoot } from './boot-params.js';
import { hostIpxePath, MENU_TIMEOUT_MS } from './ipxe.js';

const KERNELS: Record<'ubuntu' | 'debian', (plan: ClusterPlan) => string> = {
  ubuntu: (plan) => `the Ubuntu ${plan.os.release} live-server ISO's \`casper/vmlinuz\` as \`linux\` and \`casper/initrd\` as \`initrd\`,
and the ISO itself as \`${UBUNTU_ISO}\` (the installer downloads it into RAM: give machines at least
4 GiB more memory than the ISO's size; \`ramdisk_size\` in the kernel arguments allows 3.3 GiB)`,
  debian: (plan) => `the Debian installer's netboot kernel and initrd:
\`https://deb.debian.org/debian/dists/${plan.os.codename}/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux\`
as \`linux\` and \`…/initrd.gz\` as \`initrd\``,
};

export function renderPxeReadme(plan: ClusterPlan, server: string, hosts: readonly { node: NodePlan; boot: HostBoot }[]): string {
  const dir = bootDir(plan);
  const rows = hosts.map(({ node, boot }) => `| ${node.name} | ${node.role} | ${node.ip} | ${node.mac ?? '— (no MAC: only the grub.cfg menu)'} | ${node.mac ? `\`${hostIpxePath(node.mac)}\`` : '—'} | ${boot.seedUrl} |`);
  const host = new URL(server).hostname;
  return `# PXE boot tree of ${plan.name}

<!-- ${GENERATED} -->

\`kubebake serve\` serves this folder at ${server}/ (\`delivery.server\` in the topology). A machine
that boots from the network gets iPXE, which loads \`boot.ipxe\`; that sends it to
\`ipxe/<its MAC>.ipxe\`, a menu with "install" (${plan.os.profile} on the host's \`installDisk\`, else ${plan.os.family === 'ubuntu' ? 'its largest disk' : 'the first disk the installer lists'},
with the ${plan.os.family === 'ubuntu' ? 'Ubuntu installer and `autoinstall/<host>.yaml`' : 'Debian installer and `preseed/<host>.cfg`'}) and "local" (the next boot device). The installed
system's first boot runs the host's cloud-config (\`nocloud/<host>/\`), exactly as a cloud image with a seed ISO would.

**What happens when nobody chooses (after ${MENU_TIMEOUT_MS / 1000} s):**

- these files, served as they are by any web server: **local** — installing is a choice made at the console;
- from \`kubebake serve\`, which answers these names itself: **install** while the host is *armed*
  (the server has not yet seen its installer fetch its config or its system report, or
  \`kubebake serve --reinstall <host>\` armed it again), **local** from the moment its installer
  fetched its config. So a machine that boots the network first is not reinstalled after the
  installer's reboot; an install that failed midway needs \`--reinstall\`.

Boot order: local disk first, then network — an empty disk falls through to PXE.

| host | role | address | MAC | iPXE script | NoCloud seed |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

\`hosts.json\` lists the same, with each host's kernel arguments and files.

## Kernel and initrd

Put ${KERNELS[plan.os.family](plan)} into \`${dir}/\` here, so they are served as
\`${server}/${dir}/linux\` and \`…/initrd\`.

## DHCP

The hosts' addresses are static (kernel command line, then network-config); DHCP is needed only
for the firmware's PXE boot itself. iPXE's boot programs come with Debian's \`ipxe\` package
(\`/usr/lib/ipxe/undionly.kpxe\` for BIOS, \`/usr/lib/ipxe/ipxe.efi\` for UEFI): copy them to a TFTP folder.

dnsmasq as the network's DHCP server (\`/etc/dnsmasq.d/kubebake-${plan.name}.conf\`):

\`\`\`ini
dhcp-range=<first free address>,<last free address>,1h
enable-tftp
tftp-root=/srv/tftp
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:efi64,option:client-arch,7
dhcp-match=set:efi64,option:client-arch,9
dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe
dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi
dhcp-boot=tag:ipxe,${server}/boot.ipxe
\`\`\`

Beside an existing DHCP server that you cannot change, run dnsmasq as proxy DHCP (it only adds the
boot file; addresses stay with the existing server):

\`\`\`ini
port=0
dhcp-range=${plan.network.nodeSubnet.split('/')[0]},proxy
enable-tftp
tftp-root=/srv/tftp
dhcp-userclass=set:ipxe,iPXE
pxe-service=tag:!ipxe,x86PC,"chainload iPXE",undionly.kpxe
pxe-service=tag:!ipxe,X86-64_EFI,"chainload iPXE (UEFI)",ipxe.efi
pxe-service=tag:ipxe,x86PC,"kubebake ${plan.name}",${server}/boot.ipxe
pxe-service=tag:ipxe,X86-64_EFI,"kubebake ${plan.name}",${server}/boot.ipxe
\`\`\`

An existing ISC dhcpd: \`next-server <TFTP server>;\` and
\`if exists user-class and option user-class = "iPXE" { filename "${server}/boot.ipxe"; } else { filename "undionly.kpxe"; }\`
(\`ipxe.efi\` for UEFI clients). Make sure ${host} is reachable from the node subnet ${plan.network.nodeSubnet}.

### UEFI with GRUB instead of iPXE

\`grub/grub.cfg\` has one menu entry per host and \`grub/grub.cfg-<MAC>\` the entry of one host,
which GRUB's network boot looks for first. Copy \`grub/\`'s files next to the network GRUB image
(the folder \`grub-mknetdir\` printed) on the TFTP server; GRUB then loads the kernels from
${server} over HTTP (GRUB 2.06 or later).

## Booting a host's OS directly

\`hosts.json\` → \`hosts.<host>.kernelArgs\` boots a kernel of ${plan.os.profile} (a cloud image's, or
QEMU's \`-kernel … -append\`) with the host's HTTP seed: \`ds=…;s=<seed URL>\` (\`nocloud-net\` before
cloud-init 24.1) and its static address as \`ip=\`, \`BOOTIF=\` and \`network-config=\` (cloud-init
${plan.os.facts.cloudInit} of ${plan.os.profile} ${seedCarriesNetwork(plan) ? 'also fetches network-config from the seed' : 'never fetches network-config from an HTTP seed'}).
`;
}
