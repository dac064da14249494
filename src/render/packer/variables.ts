// The input variables of an image's template: one table, printed three ways (variables.pkr.hcl,
// image.auto.pkrvars.hcl, the README's table of PKR_VAR_ settings).
import type { ClusterPlan } from '../../plan/plan.js';
import { artifactName, type ImageManifest as PackerImage } from '../../manifest/image-manifest.js';

export interface VariableDef {
  name: string;
  type: 'string' | 'number' | 'bool';
  description: string;
  /** A generic default, written in variables.pkr.hcl. */
  default?: string | number | boolean;
  /** This plan's value, written in image.auto.pkrvars.hcl (never a secret). */
  value?: string | number | boolean;
  /** Obfuscated in Packer's output; such a variable never has a default or a value in a file. */
  sensitive?: boolean;
  /** Allowed values, checked by a validation block. */
  oneOf?: readonly string[];
}

/** Variables with neither default nor value: Packer reads them from PKR_VAR_<name> (or -var). */
export const fromEnvironment = (v: VariableDef): boolean => v.default === undefined && v.value === undefined;

const common = (plan: ClusterPlan, image: PackerImage): VariableDef[] => [
  { name: 'image_name', type: 'string', description: 'Name of the built image (template, VM or disk file stem).', value: artifactName(plan, image) },
  { name: 'os_profile', type: 'string', description: 'kubebake OS profile the image is built from.', value: plan.os.profile },
  ...(image.kind === 'node'
    ? ([
        { name: 'kubernetes_version', type: 'string', description: 'Kubernetes version the scripts were rendered for (informational: re-render with kubebake to change it).', value: plan.kubernetes.version },
        { name: 'crio_version', type: 'string', description: 'CRI-O version (or minor) the scripts were rendered for (informational).', value: plan.crio.version ?? plan.crio.minor },
        { name: 'cni_plugin', type: 'string', description: 'CNI whose images are pre-pulled (informational).', value: plan.cni.plugin },
        { name: 'cni_version', type: 'string', description: 'CNI release whose images are pre-pulled (informational).', value: plan.cni.version },
      ] satisfies VariableDef[])
    : []),
  { name: 'cpus', type: 'number', description: 'Virtual CPUs of the build machine.', default: 2 },
  { name: 'memory', type: 'number', description: 'Memory of the build machine, in MiB.', default: 4096 },
  { name: 'ssh_timeout', type: 'string', description: 'How long to wait for SSH on the build machine.', default: '30m' },
];

/** The build user's key pair, made fresh for each bake (kubebake bake images, or ssh-keygen by hand). */
const buildKey: VariableDef[] = [
  {
    name: 'build_ssh_public_key',
    type: 'string',
    description: 'Public half of a one-time SSH key pair for the build user (OpenSSH format). Generated for each bake; the image keeps no trace of it.',
  },
  {
    name: 'build_ssh_private_key_file',
    type: 'string',
    description: 'Path to the private half of that key pair (PEM/OpenSSH). Never copied into the image.',
  },
];

function builderVariables(plan: ClusterPlan, image: PackerImage): VariableDef[] {
  switch (image.builder) {
    case 'qemu':
      return [
        { name: 'source_image_url', type: 'string', description: `Official ${plan.os.profile} cloud image the build starts from.`, value: plan.os.image.url },
        {
          name: 'source_image_checksum',
          type: 'string',
          description: 'Checksum of the source image: the vendor\'s signed-off checksum file (file:<url>), looked up by file name.',
          value: `file:${plan.os.image.checksumUrl}`,
        },
        { name: 'output_directory', type: 'string', description: 'Where the built disk image is written (relative to this folder).', value: 'output' },
        { name: 'output_format', type: 'string', description: 'Disk image format.', value: plan.packer.outputFormat, oneOf: ['qcow2', 'raw'] },
        { name: 'disk_size', type: 'string', description: 'Size of the image\'s disk (the root file system grows to it on first boot).', value: `${plan.packer.diskSizeGB}G` },
        { name: 'accelerator', type: 'string', description: 'QEMU accelerator; "tcg" where KVM is unavailable (much slower).', default: 'kvm', oneOf: ['kvm', 'tcg', 'hvf', 'whpx', 'xen', 'none'] },
        { name: 'headless', type: 'bool', description: 'Run QEMU without a console window.', default: true },
        ...buildKey,
      ];
    case 'proxmox-clone':
      return [
        { name: 'proxmox_url', type: 'string', description: 'Proxmox API URL, e.g. https://pve.example:8006/api2/json.' },
        { name: 'proxmox_username', type: 'string', description: 'API user with the token id, e.g. packer@pve!kubebake.' },
        { name: 'proxmox_token', type: 'string', description: 'API token secret.', sensitive: true },
        { name: 'proxmox_node', type: 'string', description: 'Proxmox node the build VM runs on.' },
        { name: 'proxmox_clone_vm', type: 'string', description: `Name of the VM template to clone: the ${plan.os.profile} cloud image with a cloud-init drive and qemu-guest-agent.` },
        { name: 'proxmox_bridge', type: 'string', description: 'Bridge of the build VM\'s network adapter (needs DHCP and a route to the package mirrors).', default: 'vmbr0' },
        { name: 'proxmox_insecure_skip_tls_verify', type: 'bool', description: 'Skip verifying the Proxmox API certificate (self-signed labs only).', default: false },
      ];
    case 'vsphere-clone':
      return [
        { name: 'vsphere_server', type: 'string', description: 'vCenter server name or address.' },
        { name: 'vsphere_username', type: 'string', description: 'vCenter user.' },
        { name: 'vsphere_password', type: 'string', description: 'vCenter password.', sensitive: true },
        { name: 'vsphere_datacenter', type: 'string', description: 'Datacenter of the build VM.' },
        { name: 'vsphere_cluster', type: 'string', description: 'Cluster the build VM runs in.' },
        { name: 'vsphere_datastore', type: 'string', description: 'Datastore for the build VM and the resulting template.' },
        { name: 'vsphere_network', type: 'string', description: 'Network of the build VM (needs DHCP and a route to the package mirrors).' },
        { name: 'vsphere_template', type: 'string', description: `Template to clone: the ${plan.os.profile} cloud image with cloud-init and open-vm-tools.` },
        { name: 'vsphere_folder', type: 'string', description: 'VM folder for the resulting template ("" for the datacenter\'s root folder).', default: '' },
        { name: 'vsphere_insecure_connection', type: 'bool', description: 'Skip verifying the vCenter certificate (self-signed labs only).', default: false },
        { name: 'disk_size_mib', type: 'number', description: 'Size of the template\'s primary disk, in MiB.', value: plan.packer.diskSizeGB * 1024 },
        ...buildKey,
      ];
  }
}

export function imageVariables(plan: ClusterPlan, image: PackerImage): VariableDef[] {
  return [...common(plan, image), ...builderVariables(plan, image)];
}
