// The delivery room's entry points, for the CLI.
export { DELIVERY_FORMS, formOfPath, formsFor, type DeliveryForm } from './forms.js';
export { renderDeliveryTree } from './delivery.js';
export type { HostSeed } from './seeds.js';
export { sizeReport } from './sizes.js';
