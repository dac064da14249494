// The Packer plugin each builder needs and the Packer versions that install it: facts about
// upstream releases, used by the Packer templates and listed by `kubebake manifest`.
import type { Builder } from '../types.js';

export interface PluginPin {
  /** The local name in required_plugins. */
  name: string;
  source: string;
  /** Exact release. */
  version: string;
}

/**
 * One plugin per builder, each pinned to a release tag that exists upstream (checked in the
 * stored repositories, 2026-11-30):
 * - hashicorp/packer-plugin-qemu: newest tag v1.1.4 (7db0aae19166404c9ba02771c1d0572d98159203);
 *   HEAD 94d9fee5c9e115ac1da679a35593bed3badb6302 has version/version.go "1.1.5" + "dev" (unreleased).
 * - hashicorp/packer-plugin-proxmox: newest tag v1.2.4 (125377540780857e3b0b96f5645580ad2e50cc81,
 *   2026-07-16); HEAD is 1.2.5-dev.
 * - vSphere: the plugin's Go module and README moved to github.com/vmware/vsphere with 2.x
 *   (hashicorp/packer-plugin-vsphere README @ 2e0125d1cdddb9a5704f373af34d842cfeef9979:
 *   `source = "github.com/vmware/vsphere"`, `version = ">= 2.0.0"`). The newest tag that could be
 *   verified is v2.0.0 (2af6d832a1c2470ad76f55a37b31d92decca03a6); vmware/packer-plugin-vsphere
 *   itself is not reachable from here, so later 2.x releases are not pinned.
 */
export const PLUGINS: Record<Builder, PluginPin> = {
  qemu: { name: 'qemu', source: 'github.com/hashicorp/qemu', version: '1.1.4' },
  'proxmox-clone': { name: 'proxmox', source: 'github.com/hashicorp/proxmox', version: '1.2.4' },
  'vsphere-clone': { name: 'vsphere', source: 'github.com/vmware/vsphere', version: '2.0.0' },
};

/** Packer ≥ 1.11 installs plugins only from required_plugins sources (`packer init`). */
export const PACKER_REQUIRED_VERSION = '>= 1.11.0, < 2.0.0';
