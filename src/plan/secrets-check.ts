// What a loaded store holds, checked against the table (secrets.ts): each entry parses as its kind,
// each key belongs to its certificate, the CAs are the CAs kubeadm would make, the admin
// certificate is the cluster CA's. Pure: the store (src/store/) reads the files and hands their
// texts here. Nothing here returns key material in a diagnostic: messages name the file and the
// problem, nothing else.
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import { parseBootstrapToken, type BootstrapToken } from './pki.js';
import { entryOf, STORE_ENTRIES, type SecretField, type SecretPart, type StoreEntry } from './secrets.js';

/** What reading an entry's file gave. 'refused': the reader reported why already (a link, say). */
export type EntryRead = { text: string } | { missing: true } | { unreadable: string } | { refused: true };

export interface CheckInput {
  reads: ReadonlyMap<SecretField, EntryRead>;
  /** Parts made anew on this load (--rotate-token): not read, not checked. */
  replaced: ReadonlySet<SecretPart>;
  /** Certificates are checked against this instant. */
  now: Date;
  /** An entry's path, for messages. */
  pathOf: (e: StoreEntry) => string;
}

export interface CheckResult {
  errors: Diagnostic[];
  /** Each entry's value as read (PEM text, a parsed token, a hex string). */
  values: Map<SecretField, string | BootstrapToken>;
  /** Entries a store lacks that were added to it later: the store makes them. */
  toAdd: StoreEntry[];
  /** Issued certificates past their end: the store issues them again. */
  expired: StoreEntry[];
}

const problem = (m: Message, file: string): Diagnostic => ({ severity: 'error', path: [], file, ...m });

/** Default description of each kind, for "… is not <it>". */
const KIND_TEXT: Record<StoreEntry['kind'], string> = {
  certificate: 'a PEM certificate',
  'private-key': 'a PEM private key in a form kubeadm reads (PKCS#1, PKCS#8 or SEC 1)',
  'public-key': 'a PEM public key (PKIX "PUBLIC KEY")',
  'bootstrap-token': 'a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})',
  'random-hex': 'hexadecimal digits',
};

// Parsers that say only "yes" or "no": Node's own error text is not shown to anyone.
function parseCert(pem: string): X509Certificate | undefined {
  try {
    return pem.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(pem) : undefined;
  } catch {
    return undefined;
  }
}
/** The PEM forms client-go's keyutil reads: PKCS#1, SEC 1 and PKCS#8 (unencrypted). */
function parsePrivateKey(pem: string): KeyObject | undefined {
  try {
    return /-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem) ? createPrivateKey(pem) : undefined;
  } catch {
    return undefined;
  }
}
/** sa.pub is handed to every control plane; createPublicKey would also take a private key, so insist. */
function parsePublicKey(pem: string): KeyObject | undefined {
  try {
    return pem.includes('-----BEGIN PUBLIC KEY-----') && !pem.includes('PRIVATE') ? createPublicKey(pem) : undefined;
  } catch {
    return undefined;
  }
}
const isHexOfBytes = (text: string, bytes: number): boolean => text.length === 2 * bytes && /^[0-9a-f]*$/.test(text);

/** An entry's text parsed as its kind: the public key it carries (PEM kinds) and its value. */
interface Parsed { value: string | BootstrapToken; publicKey?: KeyObject; cert?: X509Certificate }
function parse(e: StoreEntry, text: string): Parsed | undefined {
  switch (e.kind) {
    case 'certificate': {
      const cert = parseCert(text);
      return cert && { value: text, cert, publicKey: cert.publicKey };
    }
    case 'private-key': {
      const key = parsePrivateKey(text);
      return key && { value: text, publicKey: createPublicKey(key) };
    }
    case 'public-key': {
      const key = parsePublicKey(text);
      return key && { value: text, publicKey: key };
    }
    case 'bootstrap-token':
      return ((t) => t && { value: t })(parseBootstrapToken(text.trim()));
    case 'random-hex':
      return isHexOfBytes(text.trim(), e.bytes!) ? { value: text.trim() } : undefined;
  }
}

const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
const commonName = (c: X509Certificate): string | undefined =>
  c.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);

/** Checks every entry; one run reports every problem (what could not be read, then what is malformed, then what does not match). */
export function checkStoreEntries({ reads, replaced, now, pathOf }: CheckInput): CheckResult {
  const errors: Diagnostic[] = [];
  const result: CheckResult = { errors, values: new Map(), toAdd: [], expired: [] };
  const at = (e: StoreEntry): string => pathOf(e);
  const damaged = (e: StoreEntry, what: string): void => void errors.push(problem(msg.storeDamaged(at(e), what), at(e)));
  const entries = STORE_ENTRIES.filter((e) => !replaced.has(e.field.split('.')[0] as SecretPart));

  const texts = new Map<StoreEntry, string>();
  for (const e of entries) {
    const read = reads.get(e.field) ?? { missing: true };
    if ('text' in read) texts.set(e, read.text);
    else if ('missing' in read) {
      if (e.addedLater) result.toAdd.push(e);
      else errors.push(problem(msg.storeMissing(at(e), e.replaceable === true), at(e)));
    } else if ('unreadable' in read) damaged(e, `cannot be read (${read.unreadable})`);
  }

  const parsed = new Map<SecretField, Parsed>();
  for (const [e, text] of texts) {
    const p = parse(e, text);
    if (p) {
      parsed.set(e.field, p);
      result.values.set(e.field, p.value);
    } else errors.push(problem(msg.storeMalformed(at(e), e.describe ?? KIND_TEXT[e.kind], e.replaceable === true), at(e)));
  }

  for (const e of entries) {
    const p = parsed.get(e.field);
    if (!p) continue;
    const pair = e.pairOf && parsed.get(e.pairOf);
    if (pair && !spki(p.publicKey!).equals(spki(pair.publicKey!))) damaged(e, `does not belong to ${at(entryOf(e.pairOf!))} (their public keys differ)`);
    const cert = p.cert;
    if (!cert) continue;
    if (e.ca !== undefined) {
      const cn = commonName(cert);
      if (!cert.ca) damaged(e, 'is not a CA certificate (basicConstraints CA:TRUE is missing)');
      else if (cn !== e.ca) damaged(e, `is not the ${e.ca} CA (its subject is CN=${cn ?? '(none)'})`);
      else if (!cert.verify(cert.publicKey)) damaged(e, 'is not self-signed');
      if (new Date(cert.validTo) <= now) errors.push(problem(msg.storeCaExpired(at(e), new Date(cert.validTo).toISOString()), at(e)));
    }
    if (e.issuer !== undefined) {
      const ca = parsed.get(e.issuer)?.cert;
      if (ca && !(cert.checkIssued(ca) && cert.verify(ca.publicKey))) damaged(e, `is not signed by ${at(entryOf(e.issuer))}`);
      if (new Date(cert.validTo) <= now) result.expired.push(e);
    }
  }
  return result;
}
