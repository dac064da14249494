// The cluster's identity, made the way kubeadm makes it, so kubeadm reuses it instead of
// generating its own: kubeadm skips any CA whose ca.crt + ca.key already sit in
// /etc/kubernetes/pki, which is what lets us know the discovery hash before any machine boots
// (Cluster API does the same). No file I/O here; secrets.ts stores what this makes.
//
// Node's crypto makes and parses keys but cannot create certificates; @peculiar/x509 (WebCrypto)
// does that. It needs reflect-metadata loaded first, so this import must stay above it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, createPublicKey, KeyObject, webcrypto, X509Certificate } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type RandomBytes = (n: number) => Uint8Array;

/** A certificate and its private key, both PEM. */
export interface KeyPair { cert: string; key: string }

// ---------------------------------------------------------------------------------------------
// Bootstrap token

export interface BootstrapToken { id: string; secret: string; value: string }

/** kubeadm's bootstrap token format: `<id>.<secret>`, id public (it names the Secret), secret not. */
export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
/** A bootstrap token anywhere in a text (kubeadm prints its join command with one): TOKEN_PATTERN, unanchored. */
export const TOKEN_IN_TEXT = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
// 256 is not a multiple of 36: mapping every byte with `% 36` would make a–d more likely than the
// rest. Bytes at or above the largest multiple of 36 (252) are thrown away and drawn again.
const ACCEPT_BELOW = 256 - (256 % TOKEN_ALPHABET.length);

/** Draws `length` characters of [a-z0-9] uniformly (rejection sampling, no modulo bias). */
export function randomTokenChars(length: number, randomBytes: RandomBytes): string {
  let out = '';
  while (out.length < length) {
    // Ask for a few spare bytes so one rejection rarely costs another call.
    for (const b of randomBytes(length - out.length + 4)) {
      if (b >= ACCEPT_BELOW) continue;
      out += TOKEN_ALPHABET[b % TOKEN_ALPHABET.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateBootstrapToken(randomBytes: RandomBytes): BootstrapToken {
  const chars = randomTokenChars(22, randomBytes);
  const id = chars.slice(0, 6);
  const secret = chars.slice(6);
  return { id, secret, value: `${id}.${secret}` };
}

/** Parses a stored token; undefined when it is not in kubeadm's format. */
export function parseBootstrapToken(value: string): BootstrapToken | undefined {
  const m = TOKEN_PATTERN.exec(value);
  return m ? { id: m[1]!, secret: m[2]!, value } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Certificates

const DAY = 24 * 60 * 60 * 1000;
// kubeadm's own constants: CAs live 10 years, leaf certificates 1 year (365-day years, not
// calendar years), and notBefore is backdated 5 minutes so a node whose clock runs slightly
// behind does not reject a certificate as "not yet valid".
export const CA_VALIDITY_MS = 10 * 365 * DAY;
export const LEAF_VALIDITY_MS = 365 * DAY;
export const BACKDATE_MS = 5 * 60 * 1000;

/** The three CAs kubeadm creates, by their kubeadm common names. */
export const CA_NAMES = { ca: 'kubernetes', frontProxyCa: 'front-proxy-ca', etcdCa: 'etcd-ca' } as const;
/** kubeadm ≥ 1.29 binds this group to cluster-admin (system:masters is kept for super-admin.conf). */
export const ADMIN_SUBJECT = { commonName: 'kubernetes-admin', organization: 'kubeadm:cluster-admins' } as const;

// ECDSA P-256 with SHA-256, one of kubeadm's encryption algorithms ("ECDSA-P256":
// ClusterConfiguration.encryptionAlgorithm in kubeadm.k8s.io/v1beta4, kubernetes/kubernetes#123054).
// Its keys and certificates are a fifth of RSA-2048's size, which is what lets a control plane's
// user-data, shared PKI included, stay within 16 KiB. Stores made with RSA keys still load and
// render as they are (see keyAlgorithmOf).
const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** kubeadm's name for the algorithm of a stored CA key: what its config must say for new keys to match. */
export type KeyAlgorithm = 'ECDSA-P256' | 'RSA-2048';

export function keyAlgorithmOf(privateKeyPem: string): KeyAlgorithm {
  return createPrivateKey(privateKeyPem).asymmetricKeyType === 'ec' ? 'ECDSA-P256' : 'RSA-2048';
}

export interface CertOptions { now: Date; randomBytes: RandomBytes }

/**
 * A positive serial of 16 random bytes (RFC 5280 allows up to 20). The top bit is cleared so DER
 * needs no sign byte, and the next one set so the length is always 16 (no leading zero to strip).
 */
export function randomSerial(randomBytes: RandomBytes): string {
  const bytes = Uint8Array.from(randomBytes(16));
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

/**
 * Private keys in the PEM form kubeadm itself writes (keyutil.MarshalPrivateKeyToPEM): SEC 1
 * "EC PRIVATE KEY" for ECDSA, PKCS#1 "RSA PRIVATE KEY" for RSA.
 */
function privateKeyPem(key: CryptoKey | KeyObject): string {
  const k = key instanceof KeyObject ? key : KeyObject.from(key);
  return k.export({ type: k.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs1', format: 'pem' }) as string;
}

const newKeys = async (): Promise<CryptoKeyPair> => (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;

/** The WebCrypto signing algorithm for a stored key. */
const signingFor = (pem: string): typeof EC_SIGNING | typeof RSA_SIGNING => (keyAlgorithmOf(pem) === 'ECDSA-P256' ? EC_SIGNING : RSA_SIGNING);

/** Imports a PEM private key (any form Node reads) as a WebCrypto signing key. */
async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  const alg = keyAlgorithmOf(pem) === 'ECDSA-P256' ? EC_ALGORITHM : RSA_SIGNING;
  return webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
}

async function importPublicKey(pem: string): Promise<CryptoKey> {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  const alg = keyAlgorithmOf(pem) === 'ECDSA-P256' ? EC_ALGORITHM : RSA_SIGNING;
  return webcrypto.subtle.importKey('spki', der, alg, true, ['verify']);
}

/** A self-signed CA as kubeadm makes it (client-go certutil.NewSelfSignedCACert). */
export async function createCa(commonName: string, opts: CertOptions): Promise<KeyPair> {
  const keys = await newKeys();
  const now = opts.now.getTime();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(opts.randomBytes),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    signingAlgorithm: EC_SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: privateKeyPem(keys.privateKey) };
}

/**
 * The admin client certificate for admin.conf, signed by the cluster CA. Pass `existingKey` to
 * renew the certificate for the key it already has (what `kubeadm certs renew` does).
 */
export async function createAdminCert(ca: KeyPair, opts: CertOptions & { existingKey?: string }): Promise<KeyPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  let publicKey: CryptoKey;
  let key: string;
  if (opts.existingKey !== undefined) {
    publicKey = await importPublicKey(opts.existingKey);
    key = opts.existingKey;
  } else {
    const keys = await newKeys();
    publicKey = keys.publicKey;
    key = privateKeyPem(keys.privateKey);
  }
  const now = opts.now.getTime();
  // Never outlive the CA: a client certificate past its issuer's notAfter is rejected anyway.
  const notAfter = Math.min(now + LEAF_VALIDITY_MS, caCert.notAfter.getTime());
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(opts.randomBytes),
    // Go orders the subject O before CN; kubeadm's admin.crt reads "O = …, CN = kubernetes-admin".
    subject: [{ O: [ADMIN_SUBJECT.organization] }, { CN: [ADMIN_SUBJECT.commonName] }],
    issuer: caCert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    // Signed with whatever key the CA has (an RSA CA of an older store signs with RSA).
    signingAlgorithm: signingFor(ca.key),
    publicKey,
    signingKey: await importSigningKey(ca.key),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key };
}

/** The service-account signing key pair: sa.key (private) and sa.pub ("PUBLIC KEY", PKIX), as kubeadm writes them. */
export async function createServiceAccountKeys(): Promise<{ key: string; pub: string }> {
  const keys = await newKeys();
  const pub = KeyObject.from(keys.publicKey).export({ type: 'spki', format: 'pem' }) as string;
  return { key: privateKeyPem(keys.privateKey), pub };
}

export interface ClusterPki {
  ca: KeyPair;
  frontProxyCa: KeyPair;
  etcdCa: KeyPair;
  admin: KeyPair;
  sa: { key: string; pub: string };
}

/** Everything a cluster's control planes share, plus the admin credentials. Keys are made in parallel. */
export async function createClusterPki(opts: CertOptions): Promise<ClusterPki> {
  const [ca, frontProxyCa, etcdCa, sa] = await Promise.all([
    createCa(CA_NAMES.ca, opts),
    createCa(CA_NAMES.frontProxyCa, opts),
    createCa(CA_NAMES.etcdCa, opts),
    createServiceAccountKeys(),
  ]);
  const admin = await createAdminCert(ca, opts);
  return { ca, frontProxyCa, etcdCa, admin, sa };
}

/**
 * kubeadm's discovery hash (--discovery-token-ca-cert-hash): sha256 over the DER
 * SubjectPublicKeyInfo of the cluster CA, not over the whole certificate.
 */
export function caCertHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
