/** The forms `render cloud-init --delivery` can write besides the plain NoCloud files. */
export const DELIVERY_FORMS = ['gzip', 'iso', 'tar', 'vsphere', 'proxmox', 'libvirt', 'pxe'] as const;
export type DeliveryForm = (typeof DELIVERY_FORMS)[number];

/** The forms a topology can have: every URL of the PXE tree starts at delivery.server (the one place this rule is written). */
export const formsFor = (forms: readonly DeliveryForm[], server: string | undefined): DeliveryForm[] => forms.filter((f) => f !== 'pxe' || server !== undefined);

/**
 * The delivery form a path of out/<cluster>/ belongs to (the paths delivery.ts writes; a test
 * checks every rendered path of each form against this), undefined for what every render writes.
 */
export function formOfPath(path: string): DeliveryForm | undefined {
  if (/^hosts\/[^/]+\/user-data\.gz$/.test(path)) return 'gzip';
  if (/^hosts\/[^/]+\/seed\.iso$/.test(path)) return 'iso';
  if (path === 'seeds.tar' || /^hosts\/[^/]+\/seed\.tar$/.test(path)) return 'tar';
  const top = path.slice(0, path.indexOf('/'));
  return (['vsphere', 'proxmox', 'libvirt', 'pxe'] as const).find((f) => f === top);
}
