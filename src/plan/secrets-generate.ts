// How each part of the bundle is made, and re-made where that is allowed. No file I/O: the store
// (src/store/) decides when, and keeps what this makes.
import { caCertHash, CA_NAMES, createAdminCert, createCa, createServiceAccountKeys, generateBootstrapToken, type CertOptions } from './pki.js';
import { entryOf, SECRET_PARTS, type SecretPart, type Secrets, type StoredSecrets } from './secrets.js';

/** The instant certificates are issued at, and the source of randomness. */
export type GenerateContext = CertOptions;

type Generator<K extends SecretPart> = (ctx: GenerateContext, made: Partial<StoredSecrets>) => Promise<StoredSecrets[K]> | StoredSecrets[K];

/** One generator per part (a part without one is a compile error); `made` holds the parts before it in the table. */
export const GENERATORS: { [K in SecretPart]: Generator<K> } = {
  token: (ctx) => generateBootstrapToken(ctx.randomBytes),
  ca: (ctx) => createCa(CA_NAMES.ca, ctx),
  frontProxyCa: (ctx) => createCa(CA_NAMES.frontProxyCa, ctx),
  etcdCa: (ctx) => createCa(CA_NAMES.etcdCa, ctx),
  sa: () => createServiceAccountKeys(),
  admin: (ctx, made) => createAdminCert(made.ca!, ctx),
  // Nothing is derived from the clock: made once, like the rest of the store.
  reportSecret: (ctx) => Buffer.from(ctx.randomBytes(entryOf('reportSecret').bytes!)).toString('hex'),
};

/**
 * Issuing a certificate again for the key it has (what `kubeadm certs renew` does), for the parts
 * whose certificate the table gives an issuer: the admin certificate behind admin.conf.
 */
export const RENEWERS: { [K in SecretPart]?: (ctx: GenerateContext, s: StoredSecrets) => Promise<StoredSecrets[K]> } = {
  admin: (ctx, s) => createAdminCert(s.ca, { ...ctx, existingKey: s.admin.key }),
};

/** Makes one part, given those before it. */
export async function generatePart<K extends SecretPart>(part: K, ctx: GenerateContext, made: Partial<StoredSecrets>): Promise<StoredSecrets[K]> {
  return (GENERATORS[part] as Generator<K>)(ctx, made);
}

/** A whole new bundle, part by part in table order. */
export async function generateSecrets(ctx: GenerateContext): Promise<Secrets> {
  const made: Partial<StoredSecrets> = {};
  for (const part of SECRET_PARTS) (made as Record<SecretPart, unknown>)[part] = await generatePart(part, ctx, made);
  return withHash(made as StoredSecrets);
}

/** The bundle with what is derived from it. */
export const withHash = (s: StoredSecrets): Secrets => ({ ...s, caCertHash: caCertHash(s.ca.cert) });
