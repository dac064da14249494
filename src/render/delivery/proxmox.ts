// Proxmox VE: `qm set <vmid> --cicustom "user=<storage>:snippets/<file>,network=…,meta=…"` makes
// Proxmox build the VM's NoCloud drive from snippet files instead of its own cloud-init fields.
// It needs a CloudInit drive on the VM and a storage whose content types include "snippets".
// Proxmox's qemu-server takes user, network, meta and vendor snippets (proxmox/qemu-server
// src/PVE/QemuServer/Cloudinit.pm @ 03f2fbafc2b67819e089dbed809aca174edb2309,
// get_custom_cloudinit_files); kubebake's user-data is complete on its own, so there is no vendor=.
import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import { q, script } from '../../steps/shell.js';
import type { HostSeed } from './seeds.js';

/** Snippet file names: one flat folder on the Proxmox storage is shared by every cluster. */
export function snippetNames(plan: ClusterPlan, host: string): { user: string; network: string; meta: string } {
  const base = `${plan.name}-${host}`;
  return { user: `${base}-user-data.yaml`, network: `${base}-network-config.yaml`, meta: `${base}-meta-data.yaml` };
}

export function cicustomValue(plan: ClusterPlan, host: string): string {
  const s = plan.delivery.proxmox.snippetStorage;
  const n = snippetNames(plan, host);
  return `user=${s}:snippets/${n.user},network=${s}:snippets/${n.network},meta=${s}:snippets/${n.meta}`;
}

/**
 * Run on the Proxmox node from the folder this script is in: copies the snippets onto the
 * storage (pvesm path resolves where that storage keeps them), adds a CloudInit drive when the
 * VM has none, points --cicustom at the snippets and, when the topology gives one, sets the MAC
 * that network-config matches.
 */
export function renderQmScript(plan: ClusterPlan, node: NodePlan, seed: HostSeed): string {
  const storage = plan.delivery.proxmox.snippetStorage;
  const n = snippetNames(plan, seed.host);
  const copy = ([n.user, n.network, n.meta] as const)
    .map((f) => `install -m 0600 "$here/snippets/${f}" "$(pvesm path ${q(`${storage}:snippets/${f}`)})"`)
    .join('\n');
  const mac = node.mac
    ? `\n# network-config matches the NIC by this MAC: keep the VM's net0 bridge and model, set its address.
net0=$(qm config "$vmid" | sed -n 's/^net0: //p')
if [ -n "$net0" ]; then
  qm set "$vmid" --net0 "$(printf '%s' "$net0" | sed -E 's/^(virtio|e1000|vmxnet3|rtl8139)=[0-9A-Fa-f:]+/\\1=${node.mac}/')"
else
  echo "VM $vmid has no net0: add one with MAC ${node.mac}" >&2
fi`
    : '';
  return script(
    `Attaches ${seed.host}'s cloud-init files to a Proxmox VM. Run on the Proxmox node. Usage: $0 VMID`,
    `vmid=\${1:?usage: $0 VMID}
here=$(cd "$(dirname "$0")" && pwd)
cloudinit_storage=\${CLOUDINIT_STORAGE:-local-lvm}
${copy}
if ! qm config "$vmid" | grep -q 'cloudinit'; then
  qm set "$vmid" --ide2 "$cloudinit_storage:cloudinit"
fi
qm set "$vmid" --cicustom ${q(cicustomValue(plan, seed.host))}${mac}
echo "VM $vmid: cloud-init from ${storage}:snippets (${n.user} …); start it to run cloud-init"`,
  );
}
