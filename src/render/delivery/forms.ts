/** The forms `render cloud-init --delivery` can write besides the plain NoCloud files. */
export const DELIVERY_FORMS = ['gzip', 'iso', 'tar', 'vsphere', 'proxmox', 'libvirt', 'pxe'] as const;
export type DeliveryForm = (typeof DELIVERY_FORMS)[number];

/**
 * Parses --delivery: "all", "none" or a comma-separated list. libvirt's recipe attaches the
 * host's seed.iso, so it brings the ISO along. Returns an error message for unknown names.
 */
export function parseDeliveryForms(value: string): DeliveryForm[] | { error: string } {
  const words = value.split(',').map((w) => w.trim()).filter(Boolean);
  if (words.length === 1 && words[0] === 'all') return [...DELIVERY_FORMS];
  if (words.length === 1 && words[0] === 'none') return [];
  const unknown = words.filter((w) => !(DELIVERY_FORMS as readonly string[]).includes(w));
  if (unknown.length || !words.length) return { error: `unknown delivery form ${unknown.join(', ') || '(empty)'}: use all, none, or a list of ${DELIVERY_FORMS.join(', ')}` };
  const set = new Set(words as DeliveryForm[]);
  if (set.has('libvirt')) set.add('iso');
  return DELIVERY_FORMS.filter((f) => set.has(f));
}

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
