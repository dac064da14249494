// The build machine's NoCloud seed (a CD labelled cidata, from cd_content), for builders that
// boot a cloud image without a way to hand it Packer's key themselves (qemu, vsphere-clone).
// Packer's own temporary key pair cannot be used: it is generated after the CD is made
// (hashicorp/packer-plugin-qemu#182), so each bake brings a one-time key pair instead and the
// seed is a templatefile() that receives its public half.
import { BUILD_USER } from '../../steps/sysprep.js';
import { GENERATED } from '../../util/generated.js';
import { toYaml11 } from '../../util/yaml.js';
import type { ImageManifest as PackerImage } from '../../manifest/image-manifest.js';

/** The template variable templatefile() fills in (image.pkr.hcl passes it). */
export const SEED_KEY_VARIABLE = 'ssh_public_key';
export const SEED_USER_DATA_TEMPLATE = 'cidata/user-data.pkrtpl';
export const SEED_META_DATA = 'cidata/meta-data';

const KEY_SENTINEL = 'KUBEBAKE_BUILD_KEY_SENTINEL';

/**
 * user-data as a Packer template: the only template sequence in it is the key, written with
 * jsonencode() so any key comment stays one valid YAML scalar.
 */
export function renderSeedUserDataTemplate(): string {
  const body = toYaml11({
    users: [
      {
        name: BUILD_USER,
        gecos: 'kubebake image build (removed before the image is sealed)',
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: [KEY_SENTINEL],
      },
    ],
    ssh_pwauth: false,
    disable_root: true,
  });
  if (/[$%]\{/.test(body)) throw new Error('seed user-data must contain no template sequence but the key');
  return `#cloud-config\n# ${GENERATED}\n# Seed of the Packer build machine only; the key is filled in by templatefile().\n${body.replace(KEY_SENTINEL, `\${jsonencode(${SEED_KEY_VARIABLE})}`)}`;
}

export function renderSeedMetaData(image: PackerImage): string {
  return toYaml11({ 'instance-id': `kubebake-build-${image.name}`, 'local-hostname': 'kubebake-build' });
}
