// The cluster's secrets: the typed bundle the renderers receive, and the one table that says, entry
// by entry, where each piece lives in the secrets store, what it is, what it must match, and who
// receives it. Everything else reads the table: generation (secrets-generate.ts), the checks of a
// loaded store (secrets-check.ts), the store's reading and writing (src/store/), and what a control
// plane is shipped (manifest/host-manifest.ts, steps/bootstrap.ts). After Cluster API's
// util/secret/certificates.go, where one descriptor list drives generate, lookup, save and
// write-out. Adding a secret: its field in `Secrets`, its row, and its generator.
import { CA_NAMES, type BootstrapToken } from './pki.js';

export type { BootstrapToken, KeyPair, RandomBytes } from './pki.js';
import type { KeyPair } from './pki.js';

export interface Secrets {
  token: BootstrapToken;
  ca: KeyPair;
  frontProxyCa: KeyPair;
  etcdCa: KeyPair;
  admin: KeyPair;
  sa: { key: string; pub: string };
  /** `sha256:<hex>` of the cluster CA's public key, for kubeadm's discovery.caCertHashes. */
  caCertHash: string;
  /**
   * 32 random bytes (hex) from which each host's progress-report key is derived (plan/report-keys.ts).
   * Only `kubebake serve` holds it; a host gets only its own derived key.
   */
  reportSecret: string;
}

/** What the store holds: everything but what is derived (caCertHash, from ca.cert). */
export type StoredSecrets = Omit<Secrets, 'caCertHash'>;
/** A part of the bundle, made by one generator (a CA's certificate and key come together). */
export type SecretPart = keyof StoredSecrets;
type Leaf = string | BootstrapToken;
/** Where an entry sits in the bundle: a part ("token") or a member of one ("ca.key"). */
export type SecretField = { [K in SecretPart]: StoredSecrets[K] extends Leaf ? K : `${K}.${keyof StoredSecrets[K] & string}` }[SecretPart];

/** What an entry's text is, which says how it is read back and checked. */
export type EntryKind = 'certificate' | 'private-key' | 'public-key' | 'bootstrap-token' | 'random-hex';

/**
 * Who receives an entry. 'control-planes': the same file on every control plane, under kubeadm's
 * pki folder (kubeadm's shared certificates: it reuses them instead of making a cluster of its
 * own); 'nodes': inside every node's kubeadm configuration; 'operator': admin.conf, in the output
 * only; 'server': `kubebake serve` only, each host receiving a key derived for it alone.
 */
export type Receivers = 'control-planes' | 'nodes' | 'operator' | 'server';

export interface StoreEntry {
  field: SecretField;
  /** Its path in the store folder (the pki/ names are kubeadm's own). */
  store: string;
  /** Its path under kubeadm's /etc/kubernetes/pki, for the entries control planes receive. */
  host?: string;
  kind: EntryKind;
  /** The entry whose public key must equal this one's (a private key's certificate; sa.pub's sa.key). */
  pairOf?: SecretField;
  /** A CA certificate: the common name kubeadm gives that CA. */
  ca?: string;
  /** A certificate this CA certificate must have issued; when it expired, issued again for the same key. */
  issuer?: SecretField;
  receivers: Receivers;
  /** A private key or secret value: 0600 wherever it is written. */
  secret: boolean;
  /** Not part of the cluster identity: replaced on its own (--rotate-token), which a problem with it points at. */
  replaceable?: true;
  /** Added to the store after its first version: made once when a store lacks it, kept from then on. */
  addedLater?: true;
  /** A random-hex entry: how many random bytes it holds. */
  bytes?: number;
  /** What it is, for a message about a malformed one (default: by its kind). */
  describe?: string;
}

const ROWS = [
  { field: 'token', store: 'token', kind: 'bootstrap-token', receivers: 'nodes', secret: true, replaceable: true },
  { field: 'ca.cert', store: 'pki/ca.crt', host: 'ca.crt', kind: 'certificate', ca: CA_NAMES.ca, receivers: 'control-planes', secret: false },
  { field: 'ca.key', store: 'pki/ca.key', host: 'ca.key', kind: 'private-key', pairOf: 'ca.cert', receivers: 'control-planes', secret: true },
  { field: 'frontProxyCa.cert', store: 'pki/front-proxy-ca.crt', host: 'front-proxy-ca.crt', kind: 'certificate', ca: CA_NAMES.frontProxyCa, receivers: 'control-planes', secret: false },
  { field: 'frontProxyCa.key', store: 'pki/front-proxy-ca.key', host: 'front-proxy-ca.key', kind: 'private-key', pairOf: 'frontProxyCa.cert', receivers: 'control-planes', secret: true },
  { field: 'etcdCa.cert', store: 'pki/etcd/ca.crt', host: 'etcd/ca.crt', kind: 'certificate', ca: CA_NAMES.etcdCa, receivers: 'control-planes', secret: false },
  { field: 'etcdCa.key', store: 'pki/etcd/ca.key', host: 'etcd/ca.key', kind: 'private-key', pairOf: 'etcdCa.cert', receivers: 'control-planes', secret: true },
  { field: 'sa.key', store: 'pki/sa.key', host: 'sa.key', kind: 'private-key', receivers: 'control-planes', secret: true },
  { field: 'sa.pub', store: 'pki/sa.pub', host: 'sa.pub', kind: 'public-key', pairOf: 'sa.key', receivers: 'control-planes', secret: false },
  { field: 'admin.cert', store: 'pki/admin.crt', kind: 'certificate', issuer: 'ca.cert', receivers: 'operator', secret: false },
  { field: 'admin.key', store: 'pki/admin.key', kind: 'private-key', pairOf: 'admin.cert', receivers: 'operator', secret: true },
  { field: 'reportSecret', store: 'report.secret', kind: 'random-hex', bytes: 32, receivers: 'server', secret: true, addedLater: true, describe: 'a report secret (64 hexadecimal digits)' },
] as const satisfies readonly StoreEntry[];

// Every field of the bundle has its row: a field without one is a compile error here.
type Unlisted = Exclude<SecretField, (typeof ROWS)[number]['field']>;
const everyFieldListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyFieldListed;

export const STORE_ENTRIES: readonly StoreEntry[] = ROWS;

export const entryOf = (field: SecretField): StoreEntry => STORE_ENTRIES.find((e) => e.field === field)!;
export const partOf = (field: SecretField): SecretPart => field.split('.')[0] as SecretPart;

/** The parts in table order: the order they are generated in (a part may use those before it). */
export const SECRET_PARTS: readonly SecretPart[] = [...new Set(STORE_ENTRIES.map((e) => partOf(e.field)))];

/** The store's folders, relative to it ('' is the store itself), parents first. */
export const STORE_FOLDERS: readonly string[] = [
  '',
  ...new Set(STORE_ENTRIES.flatMap((e) => e.store.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/')))),
];

/** An entry's value in a bundle. */
export function valueOf(s: StoredSecrets, field: SecretField): Leaf {
  const [part, member] = field.split('.') as [SecretPart, string | undefined];
  const v = s[part] as unknown;
  return (member === undefined ? v : (v as Record<string, Leaf>)[member]) as Leaf;
}

/** A bundle from its entries' values (those of `values`; the caller completes the rest). */
export function bundleOf(values: ReadonlyMap<SecretField, Leaf>): Partial<StoredSecrets> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of values) {
    const [part, member] = field.split('.') as [SecretPart, string | undefined];
    out[part] = member === undefined ? value : { ...(out[part] as object | undefined), [member]: value };
  }
  return out as Partial<StoredSecrets>;
}

/** An entry's text, in the store and on a host: a PEM as it is; a token or a hex value on a line of its own. */
export function entryText(s: StoredSecrets, e: StoreEntry): string {
  const v = valueOf(s, e.field);
  return typeof v === 'string' ? (e.kind === 'random-hex' ? `${v}\n` : v) : `${v.value}\n`;
}

/** What a joining control plane needs so kubeadm reuses the cluster's identity instead of making one. */
export const SHARED_PKI = STORE_ENTRIES.filter((e): e is StoreEntry & { host: string } => e.receivers === 'control-planes' && e.host !== undefined);
