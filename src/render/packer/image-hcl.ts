// image.pkr.hcl: the source (the builder and how the build machine is reached) and the build
// (the provisioners, in order). Every value comes from a variable or is a constant of kubebake.
import type { ClusterPlan } from '../../plan/plan.js';
import { BUILD_USER, sealCommand } from '../../steps/sysprep.js';
import { SEED_KEY_VARIABLE, SEED_META_DATA, SEED_USER_DATA_TEMPLATE } from './cidata.js';
import { attr, block, blank, call, comment, expr, hclFile, hclTemplate, varRef, type HclNode } from './hcl.js';
import { BUILDER_TRAITS } from '../../plan/builders.js';
import type { ImageManifest as PackerImage } from '../../manifest/image-manifest.js';
import { scriptPath } from './layout.js';

const pathRoot = expr('path.root');

/**
 * The scripts run as root; -n: never wait for a password prompt. Packer's variables
 * (`{{ .Vars }}`: PACKER_BUILD_NAME, PACKER_BUILDER_TYPE and any environment_vars, each
 * KEY='value' as the default env_var_format writes them) are handed to env(1) after sudo, so
 * they reach the script whatever sudo does with the caller's environment: sudo-rs (Ubuntu 26.04's
 * sudo) ignores -E ("preserving the entire environment is not supported, '-E' is ignored",
 * trifectatechfoundation/sudo-rs src/sudo/cli/mod.rs since v0.2.8; chef/bento pull requests 1689
 * and 1691 hit it), and sudo's env_reset drops it. env is a command, not a sudo option, so no
 * sudoers setenv rule is involved either.
 */
export const EXECUTE_COMMAND = "sudo -n env {{ .Vars }} bash '{{ .Path }}'";

/** The cidata CD with the build user and the bake's public key. */
function seedCd(): HclNode[] {
  return [
    attr('cd_label', 'cidata'),
    attr('cd_content', {
      'meta-data': call('file', hclTemplate`${pathRoot}/${SEED_META_DATA}`),
      'user-data': call('templatefile', hclTemplate`${pathRoot}/${SEED_USER_DATA_TEMPLATE}`, { [SEED_KEY_VARIABLE]: varRef('build_ssh_public_key') }),
    }),
  ];
}

function communicator(image: PackerImage, keyFile: boolean): HclNode[] {
  return [
    attr('ssh_username', BUILD_USER),
    ...(keyFile ? [attr('ssh_private_key_file', varRef('build_ssh_private_key_file'))] : []),
    attr('ssh_timeout', varRef('ssh_timeout')),
    ...(BUILDER_TRAITS[image.builder].shutdownCommand
      ? [
          comment('Removes the build user, then powers off (see the README).'),
          attr('shutdown_command', sealCommand()),
          attr('shutdown_timeout', '10m'),
        ]
      : []),
  ];
}

function description(plan: ClusterPlan, image: PackerImage): string {
  return image.kind === 'node'
    ? `kubebake node image: ${plan.os.profile}, Kubernetes ${plan.kubernetes.version}, CRI-O ${plan.crio.version ?? plan.crio.minor}, ${plan.cni.plugin} ${plan.cni.version} images`
    : `kubebake load-balancer image: ${plan.os.profile}, HAProxy and keepalived`;
}

function sourceBody(plan: ClusterPlan, image: PackerImage): HclNode[] {
  switch (image.builder) {
    case 'qemu':
      return [
        comment('The official cloud image is the disk; the vendor\'s checksum file verifies it.'),
        attr('iso_url', varRef('source_image_url')),
        attr('iso_checksum', varRef('source_image_checksum')),
        attr('disk_image', true),
        attr('format', varRef('output_format')),
        attr('disk_size', varRef('disk_size')),
        attr('disk_interface', 'virtio'),
        attr('net_device', 'virtio-net'),
        attr('accelerator', varRef('accelerator')),
        attr('headless', varRef('headless')),
        attr('cpus', varRef('cpus')),
        attr('memory', varRef('memory')),
        attr('output_directory', varRef('output_directory')),
        attr('vm_name', hclTemplate`${varRef('image_name')}.${varRef('output_format')}`),
        blank,
        ...seedCd(),
        blank,
        ...communicator(image, true),
      ];
    case 'proxmox-clone':
      return [
        attr('proxmox_url', varRef('proxmox_url')),
        attr('username', varRef('proxmox_username')),
        attr('token', varRef('proxmox_token')),
        attr('insecure_skip_tls_verify', varRef('proxmox_insecure_skip_tls_verify')),
        attr('node', varRef('proxmox_node')),
        blank,
        comment('The build runs on the template\'s own disk: this plugin cannot resize it (disks listed here are added next to it), so image-verify checks it has packer.diskSizeGB.'),
        attr('clone_vm', varRef('proxmox_clone_vm')),
        attr('full_clone', true),
        attr('vm_name', hclTemplate`build-${varRef('image_name')}`),
        attr('template_name', varRef('image_name')),
        attr('template_description', description(plan, image)),
        attr('os', 'l26'),
        attr('cores', varRef('cpus')),
        attr('memory', varRef('memory')),
        attr('scsi_controller', 'virtio-scsi-pci'),
        comment('Packer reads the build VM\'s address from the guest agent.'),
        attr('qemu_agent', true),
        block('network_adapters', [], [attr('model', 'virtio'), attr('bridge', varRef('proxmox_bridge'))]),
        comment('Packer\'s temporary key for the build user goes in through Proxmox\'s cloud-init drive.'),
        block('ipconfig', [], [attr('ip', 'dhcp')]),
        attr('cloud_init', true),
        blank,
        ...communicator(image, false),
      ];
    case 'vsphere-clone':
      return [
        attr('vcenter_server', varRef('vsphere_server')),
        attr('username', varRef('vsphere_username')),
        attr('password', varRef('vsphere_password')),
        attr('insecure_connection', varRef('vsphere_insecure_connection')),
        attr('datacenter', varRef('vsphere_datacenter')),
        attr('cluster', varRef('vsphere_cluster')),
        attr('datastore', varRef('vsphere_datastore')),
        attr('folder', varRef('vsphere_folder')),
        blank,
        attr('template', varRef('vsphere_template')),
        attr('network', varRef('vsphere_network')),
        attr('vm_name', varRef('image_name')),
        attr('notes', description(plan, image)),
        attr('CPUs', varRef('cpus')),
        attr('RAM', varRef('memory')),
        attr('disk_size', varRef('disk_size_mib')),
        attr('convert_to_template', true),
        attr('remove_cdrom', true),
        blank,
        ...seedCd(),
        blank,
        ...communicator(image, true),
      ];
  }
}

function buildBody(plan: ClusterPlan, image: PackerImage): HclNode[] {
  const nodes: HclNode[] = [attr('name', image.name), attr('sources', [`source.${image.builder}.${image.name}`])];
  image.provisions.forEach(({ phase, step }, i) => {
    const body: HclNode[] = [attr('script', hclTemplate`${pathRoot}/${scriptPath(i, step)}`), attr('execute_command', EXECUTE_COMMAND)];
    // The seal step deletes the user Packer is logged in as: nothing can clean up after it.
    if (phase === 'seal') body.push(attr('skip_clean', true));
    nodes.push(blank, comment(phase === 'image' ? `image step (first-boot user-data runs the same script): ${step.name}` : step.name), block('provisioner', ['shell'], body));
  });
  return nodes;
}

export function renderImageHcl(plan: ClusterPlan, image: PackerImage): string {
  return hclFile(`${image.name}: ${description(plan, image)} (generated by kubebake - edit the topology instead).`, [
    block('source', [image.builder, image.name], sourceBody(plan, image)),
    blank,
    block('build', [], buildBody(plan, image)),
  ]);
}
