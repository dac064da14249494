// libvirt: virt-install creates the VM around a disk image with the host's seed.iso as a CD-ROM
// (the very ISO the VM tests boot), the NIC with the MAC network-config matches, and the host's
// name. `--osinfo` takes libosinfo short ids; the script falls back to "generic" when the local
// osinfo database does not know the OS (virt-install's own default, see its man page:
// virt-manager/virt-manager man/virt-install.rst @ 0254d72f8d4fb7878784e5c9c36d8edfcda53fda).
import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import { q, script } from '../../steps/shell.js';

/**
 * libosinfo short id per OS profile ("osinfo-query os" lists them; debian13: osinfo-db
 * data/os/debian.org/debian-13.xml.in @ 043607c92f746b4599422710fd742a8254276cbf).
 */
const OSINFO: Record<ClusterPlan['os']['profile'], string> = {
  'ubuntu-20.04': 'ubuntu20.04',
  'ubuntu-22.04': 'ubuntu22.04',
  'ubuntu-24.04': 'ubuntu24.04',
  'ubuntu-26.04': 'ubuntu26.04',
  'debian-12': 'debian12',
  'debian-13': 'debian13',
};

/** Sizes per role: what kubeadm asks of a control plane (2 CPUs), and a little for a balancer. */
const SIZE: Record<NodePlan['role'], { memory: number; vcpus: number }> = {
  'control-plane': { memory: 4096, vcpus: 2 },
  worker: { memory: 4096, vcpus: 2 },
  'load-balancer': { memory: 1024, vcpus: 1 },
};

export function renderVirtInstallScript(plan: ClusterPlan, node: NodePlan): string {
  const size = SIZE[node.role];
  const mac = node.mac ? `,mac=${node.mac}` : '';
  return script(
    `Creates ${node.name} as a libvirt VM booting a copy of a cloud image with its seed.iso. Usage: $0 CLOUD-IMAGE.qcow2 [libvirt network]`,
    `image=\${1:?usage: $0 CLOUD-IMAGE.qcow2 [network]}
network=\${2:-default}
here=$(cd "$(dirname "$0")" && pwd)
pool=\${POOL_DIR:-/var/lib/libvirt/images}
osinfo=${q(OSINFO[plan.os.profile])}
osinfo-query os short-id="$osinfo" 2>/dev/null | grep -q "$osinfo" || osinfo=generic
install -m 0600 "$here/../hosts/${node.name}/seed.iso" "$pool/${plan.name}-${node.name}-seed.iso"
qemu-img create -f qcow2 -F qcow2 -b "$(realpath "$image")" "$pool/${plan.name}-${node.name}.qcow2" ${plan.packer.diskSizeGB}G
virt-install --name ${q(`${plan.name}-${node.name}`)} --memory ${size.memory} --vcpus ${size.vcpus} \\
  --osinfo "$osinfo" --import --noautoconsole \\
  --disk "$pool/${plan.name}-${node.name}.qcow2",format=qcow2,bus=virtio \\
  --disk "$pool/${plan.name}-${node.name}-seed.iso",device=cdrom \\
  --network "network=$network,model=virtio${mac}"`,
  );
}
