// What each Packer builder can and cannot do, in one table: every template, script list and
// README decision reads it instead of comparing builder names.
import type { Builder } from '../topology/types.js';

export interface BuilderTraits {
  /** Boots with kubebake's cidata CD carrying the one-time build key (the builder has no way to pass Packer's key itself). */
  seedCd: boolean;
  /** Has a shutdown_command (the seal runs there); otherwise the seal is the last provisioner. */
  shutdownCommand: boolean;
  /** Starts from the OS vendor's cloud image URL (recorded in the image's provenance). */
  vendorImage: boolean;
}

export const BUILDER_TRAITS: Record<Builder, BuilderTraits> = {
  qemu: { seedCd: true, shutdownCommand: true, vendorImage: true },
  // Proxmox passes Packer's own key through its cloud-init drive and shuts the VM down through its API.
  'proxmox-clone': { seedCd: false, shutdownCommand: false, vendorImage: false },
  'vsphere-clone': { seedCd: true, shutdownCommand: true, vendorImage: false },
};
