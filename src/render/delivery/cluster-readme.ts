// out/<cluster>/README.md: what a new operator needs to bring the cluster up from these files —
// the hosts, what to attach where in each hypervisor, sizes against platform limits, day-2
// commands, and a diagram of the topology. Markdown has no structure library: a text template.
import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import { HOST_PATHS, unitName } from '../../plan/host-paths.js';
import { GENERATED } from '../../util/generated.js';

const { firstbootUnit, log: LOG_PATH, status: STATUS_PATH } = HOST_PATHS;
const FIRSTBOOT_UNIT = unitName(firstbootUnit);
import type { DeliveryForm } from './forms.js';
import { httpSeedArg, seedCarriesNetwork } from './pxe/boot-params.js';
import type { HostSeed } from './seeds.js';
import { kib, LIMITS, measure } from './sizes.js';

/** Boot order: balancers first (joins go through them), then the init control plane, the others, workers. */
export function bootOrder(n: NodePlan): number {
  return n.role === 'load-balancer' ? 1 : n.initNode ? 2 : n.role === 'control-plane' ? 3 : 4;
}

/** Mermaid node ids must be plain words; host names are RFC 1123 labels (letters, digits, "-"). */
const mid = (name: string): string => `h_${name.replace(/-/g, '_')}`;

export function renderMermaid(plan: ClusterPlan): string {
  const group = (title: string, id: string, nodes: NodePlan[]): string[] =>
    nodes.length ? [`  subgraph ${id} ["${title}"]`, ...nodes.map((n) => `    ${mid(n.name)}["${n.name}<br/>${n.ip}"]`), '  end'] : [];
  const lbs = plan.nodes.filter((n) => n.role === 'load-balancer');
  const cps = plan.nodes.filter((n) => n.role === 'control-plane');
  const workers = plan.nodes.filter((n) => n.role === 'worker');
  const endpoint = plan.vip ? `VIP ${plan.vip.address}` : plan.endpoint.address;
  const lines = [
    'flowchart LR',
    `  clients(["kubectl, joining nodes, ingress clients"])`,
    ...group('load balancers (HAProxy' + (plan.vip ? ' + keepalived' : '') + ')', 'lbs', lbs),
    ...group('control planes', 'cps', cps),
    ...group('workers', 'workers', workers),
    `  clients -->|"${endpoint}:${plan.endpoint.port} (API)"| lbs`,
    `  lbs -->|"${plan.endpoint.port}"| cps`,
    ...plan.ingress.map((f) => `  lbs -->|"${f.name}: ${f.port} → NodePort ${f.nodePort}"| ${f.backends.length && workers.some((w) => w.name === f.backends[0]!.name) ? 'workers' : 'cps'}`),
    ...(workers.length ? ['  workers -.->|"kubelet joins via the API endpoint"| lbs'] : []),
  ];
  return lines.join('\n');
}

const FORM_TEXT: Record<DeliveryForm, (plan: ClusterPlan) => string> = {
  gzip: () => `### Platforms that cap user-data (EC2: 16 KB): \`hosts/<host>/user-data.gz\`

The host's user-data, gzip-compressed: cloud-init unpacks gzip user-data from every datasource, so
give this file wherever the platform takes user-data and the size table below says it is needed
(upload it as a file; do not paste it as text).`,
  iso: () => `### Any hypervisor with a CD drive (VirtualBox, Hyper-V, VMware, Proxmox, libvirt): \`hosts/<host>/seed.iso\`

Attach the host's \`seed.iso\` as the VM's CD/DVD drive (ISO 9660 with Joliet and Rock Ridge, label
\`cidata\`; it holds user-data, meta-data and network-config) and boot a cloud image of
the OS with cloud-init (NoCloud). Set the NIC's MAC to the host's MAC in the table: network-config
matches the NIC by it.`,
  tar: (plan) => `### Copying files: \`seeds.tar\` and \`hosts/<host>/seed.tar\`

\`seeds.tar\` holds every host's three files (\`hosts/<host>/user-data\`, \`meta-data\`,
\`network-config\`) and this README; \`hosts/<host>/seed.tar\` one host's. Entries
are owned by root and keep their modes (user-data 0600): unpack as root with \`tar -xpf seeds.tar\`,
e.g. into a PXE or HTTP seed server's folder (\`${httpSeedArg(plan, `http://server/${plan.name}/hosts/<host>/`)}\` on the
kernel command line${seedCarriesNetwork(plan) ? '' : `; cloud-init before 24.3 (${plan.os.profile} ships ${plan.os.facts.cloudInit}) fetches no
network-config from an HTTP seed, so give the host its address on the command line too: \`ip=\` or
\`network-config=\`, as the PXE form (\`--delivery pxe\`) writes them for each host`}).`,
  vsphere: () => `### vSphere: \`vsphere/<host>.vmx\`, \`vsphere/<host>.govc.sh\`

cloud-init's VMware datasource reads \`guestinfo.userdata\` and \`guestinfo.metadata\`
(network-config travels inside the metadata), each gzip+base64; the metadata asks it to clear
\`guestinfo.userdata\` once read (\`redact\`, cloud-init 21.3 and later), so the cluster's keys do not stay
in the guest's view of the VM settings (the \`.vmx\` lines keep them: store them like the user-data). Either add
the lines of \`vsphere/<host>.vmx\` to the powered-off VM's configuration parameters and give its NIC the
MAC in the table (Edit Settings → Network adapter → MAC Address: Manual), or run
\`vsphere/<host>.govc.sh [VM name] [network]\` with \`GOVC_URL\` and credentials set (govc 0.27 or later): it sets the
guestinfo from files (\`govc vm.change -f\`, so no value is on a command line) and gives the VM's first NIC (\`ethernet-0\`) the host's MAC (\`govc vm.network.change\`,
which needs the NIC's network: the second argument or \`GOVC_NETWORK\`, else the datacenter's only
one). vSphere takes any unique manual MAC, kubebake's 52:54:00:… included; within VMware's own
00:50:56 only up to 00:50:56:3f:ff:ff.`,
  proxmox: (plan) => `### Proxmox VE: \`proxmox/\`

Copy the \`proxmox/\` folder to the Proxmox node, then for each host run
\`proxmox/<host>.qm.sh <vmid>\`: it copies \`proxmox/snippets/<file>\` onto the storage
\`${plan.delivery.proxmox.snippetStorage}\` (\`delivery.proxmox.snippetStorage\` in the topology; its content
types must include "Snippets"), adds a CloudInit drive on \`$CLOUDINIT_STORAGE\` (default
\`local-lvm\`) if the VM has none, runs \`qm set <vmid> --cicustom "user=…,network=…,meta=…"\`
and sets net0's MAC to the host's, keeping its model (any Proxmox offers) and options. A VM without
a net0, or with one the script cannot read, stops it before it changes anything, saying what to set.`,
  libvirt: () => `### libvirt: \`libvirt/<host>.virt-install.sh\`

\`libvirt/<host>.virt-install.sh CLOUD-IMAGE.qcow2 [network]\` copies the host's \`seed.iso\` into the
pool (\`$POOL_DIR\`, default /var/lib/libvirt/images), creates a disk backed by the cloud image and
runs \`virt-install --import\` with the seed as a CD-ROM and the NIC's MAC set.`,
  pxe: (plan) => `### Bare metal over the network: \`pxe/\`

\`kubebake serve\` serves \`pxe/\` at \`${plan.delivery.server}/\` (\`delivery.server\`). Machines boot iPXE
(\`boot.ipxe\` → \`ipxe/<MAC>.ipxe\`) or UEFI GRUB (\`grub/grub.cfg-<MAC>\`), install ${plan.os.profile} with
${plan.os.family === 'ubuntu' ? '`autoinstall/<host>.yaml`' : '`preseed/<host>.cfg`'}, and the installed system's first boot runs the host's seed
(\`nocloud/<host>/\`). Put the netboot kernel and initrd into \`pxe/boot/${plan.os.profile}/\` and point DHCP at
iPXE: \`pxe/README.md\` has the file names, dnsmasq and ISC dhcpd settings, and \`pxe/hosts.json\` every
host's MAC, seed URL and kernel arguments. Set each machine's boot order to local disk first, then network.`,
};

export function renderClusterReadme(plan: ClusterPlan, seeds: readonly HostSeed[], forms: readonly DeliveryForm[]): string {
  const sizes = new Map(measure(seeds).map((s) => [s.host, s]));
  const nodes = [...plan.nodes].sort((a, b) => bootOrder(a) - bootOrder(b) || a.ordinal - b.ordinal);
  const hostRows = nodes.map((n) => {
    const nic = n.mac ? `${n.mac}${n.macAssigned ? ' (assigned by kubebake: set it on the VM)' : ''}` : `— (by name: ${n.interface})`;
    const role = n.initNode ? 'control-plane (kubeadm init)' : n.role;
    return `| ${bootOrder(n)} | ${n.name} | ${role} | ${n.ip} | ${nic} |`;
  });
  const limited = LIMITS.filter((l) => l.bytes !== undefined);
  const sizeRows = [...sizes.values()].map((s) => {
    const cells = limited.map((l) => (s.over.includes(l.platform) ? '**over**' : s.gzipOnly.includes(l.platform) ? 'gzip' : 'ok'));
    return `| ${s.host} | ${kib(s.userData)} | ${kib(s.gzip)} | ${cells.join(' | ')} |`;
  });
  const admin = plan.access.adminUser;
  const init = plan.nodes.find((n) => n.initNode)!;
  return `# ${plan.name}

<!-- ${GENERATED} -->

${plan.nodes.length} hosts, Kubernetes ${plan.kubernetes.version} on ${plan.os.profile}, ${plan.cni.plugin}; API at
\`${plan.endpoint.hostPort}\`${plan.vip ? ' (a VIP kept by keepalived on the load balancers)' : ''}.

\`\`\`mermaid
${renderMermaid(plan)}
\`\`\`

## Hosts

Boot in this order (each host also waits by itself: joins retry until the API answers through the
load balancer, for up to ${plan.bootstrap.apiWaitSeconds} s).

| boot | host | role | address | NIC (MAC network-config matches) |
| --- | --- | --- | --- | --- |
${hostRows.join('\n')}

Every host: netmask from \`${plan.network.nodeSubnet}\`, gateway \`${plan.network.gateway}\`, DNS \`${plan.network.dns.join(', ')}\`${plan.network.searchDomain ? `, search \`${plan.network.searchDomain}\`` : ''}.
A host's network-config names exactly one NIC (by MAC, else by interface name): other NICs stay
unconfigured.${plan.os.family === 'debian' ? `

Debian machines that use ifupdown (a Debian-installer install): cloud-init writes the DNS servers
into /etc/network/interfaces.d as \`dns-nameservers\`, which ifupdown applies only when the
\`resolvconf\` package is installed; without it, the first boot's \`resolver\` step writes them to
/etc/resolv.conf, as the installer does for a static address. Cloud images (netplan +
systemd-networkd + systemd-resolved) apply them from network-config.` : ''}

## What to attach where

Every host's seed has three files: \`user-data\` (everything its first boot needs: identity,
users, join material, its configuration and kubebake's runner and steps), \`meta-data\` and
\`network-config\`. The user-data alone brings a host up: where a platform takes nothing else
(a single user-data box: Harvester, OpenStack Horizon, VMware Cloud Director, Multipass
\`--cloud-init\`, \`virt-install --cloud-init user-data=…\`, EC2 and Azure), give it
\`hosts/<host>/user-data\` (or \`user-data.gz\` where the size table says so). Without its
network-config the host takes the platform's network (DHCP, or the address the platform assigns):
give the host the address in the table there (a static assignment, or a DHCP reservation for its
MAC). First boot checks it and stops with \`failed: address: …\` in ${STATUS_PATH} when the
host does not have its address.

${forms.map((f) => FORM_TEXT[f](plan)).join('\n\n')}

## User-data sizes

A host's user-data is everything it receives from kubebake. "gzip" means: give that platform
\`hosts/<host>/user-data.gz\` instead.

| host | user-data | gzip | ${limited.map((l) => `${l.platform} (${kib(l.bytes!)} ${l.measure})`).join(' | ')} |
| --- | --- | --- | ${limited.map(() => '---').join(' | ')} |
${sizeRows.join('\n')}

Proxmox snippets, the cidata ISO and libvirt carry files on a disk: kubebake knows no limit for
them. Where even the gzip form is over a limit, use \`image: baked\` (the install steps move into
the image) or one of those forms.

## Day 2

\`\`\`sh
# progress of a host's first boot: "running: <step>", "ok" or "failed: <step>: <reason>"
ssh ${admin}@${init.ip} cat ${STATUS_PATH}
ssh ${admin}@${init.ip} sudo tail -n 50 ${LOG_PATH}
# the cluster, through the API endpoint
kubectl --kubeconfig admin.conf get nodes -o wide
# first boot runs as ${FIRSTBOOT_UNIT}: again at every boot (resuming at the step that did not
# finish) until it says ok; after fixing a failed step's cause, run it now
ssh ${admin}@<host> sudo systemctl start ${FIRSTBOOT_UNIT}
# nodes booted after the token expired (bootstrap.tokenTTL): register a fresh token through the
# API and re-render every host with it, before booting them
kubebake token create -f <topology.yaml>
# add a host: add it to the topology, render again, attach its new files
kubebake render cloud-init -f <topology.yaml>
\`\`\`
`;
}
