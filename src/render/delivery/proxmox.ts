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
 * The NIC models Proxmox VE offers for a VM's netN: proxmox/qemu-server src/PVE/QemuServer/Network.pm
 * @ 4fd7e7d92b1238f2bb6e839e7c1590a7475a46f3, `$nic_model_list`. In `$net_fmt` each model is also a
 * key aliasing `macaddr` ("virtio=BC:24:11:…", how `qm config` shows a net0 Proxmox wrote), the
 * `model` key is the default key (a bare "virtio" names the model), and `model=` / `macaddr=` can
 * be spelled out.
 */
export const PROXMOX_NIC_MODELS = [
  'e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er',
  'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3',
] as const;

/**
 * Reads net0 before anything is changed and rewrites it as "<model>=<MAC>,<its other options>",
 * whichever way it names model and MAC; a net0 it cannot read (no net0, no model it knows, two
 * models) stops the script with the fix, rather than leave the VM with a MAC network-config
 * does not match.
 */
function net0Steps(mac: string): { read: string; set: string } {
  const models = PROXMOX_NIC_MODELS.join('|');
  const fix = 'set it by hand: qm set $vmid --net0 <model>=$mac,bridge=<bridge>';
  return {
    read: `# network-config matches the NIC by this MAC: net0 keeps its model and options and gets this address.
mac=${q(mac)}
net0=$(sed -n 's/^net0: //p' <<< "$config")
if [ -z "$net0" ]; then
  echo "VM $vmid has no net0: add one with MAC $mac (qm set $vmid --net0 virtio=$mac,bridge=vmbr0), then run this again" >&2
  exit 1
fi
model='' options=''
IFS=, read -r -a fields <<< "$net0"
for field in "\${fields[@]}"; do
  case $field in model=*) key=\${field#model=} ;; *) key=\${field%%=*} ;; esac
  case $key in
    ${models})
      if [ -n "$model" ]; then echo "VM $vmid: net0 names two NIC models ($net0): ${fix}" >&2; exit 1; fi
      model=$key ;;
    macaddr) ;;
    *) options="$options,$field" ;;
  esac
done
if [ -z "$model" ]; then
  echo "VM $vmid: no NIC model this script knows in net0 ($net0): ${fix}" >&2
  exit 1
fi`,
    set: `qm set "$vmid" --net0 "$model=$mac$options"`,
  };
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
  const net0 = node.mac ? net0Steps(node.mac) : undefined;
  return script(
    `Attaches ${seed.host}'s cloud-init files to a Proxmox VM. Run on the Proxmox node. Usage: $0 VMID`,
    `vmid=\${1:?usage: $0 VMID}
here=$(cd "$(dirname "$0")" && pwd)
cloudinit_storage=\${CLOUDINIT_STORAGE:-local-lvm}
config=$(qm config "$vmid")
${net0 ? `${net0.read}\n` : ''}${copy}
if ! grep -q 'cloudinit' <<< "$config"; then
  qm set "$vmid" --ide2 "$cloudinit_storage:cloudinit"
fi
qm set "$vmid" --cicustom ${q(cicustomValue(plan, seed.host))}${net0 ? `\n${net0.set}` : ''}
echo "VM $vmid: cloud-init from ${storage}:snippets (${n.user} …)${net0 ? ', net0 with MAC $mac' : ''}; start it to run cloud-init"`,
  );
}
