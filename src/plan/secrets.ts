// The cluster's secrets store: created once, then only read back. The CAs are the cluster's
// identity (every node trusts them, and the discovery hash baked into each host's kubeadm join
// config is derived from ca.crt), so new ones would silently make a different cluster. A damaged
// store is therefore an error the operator resolves, never a reason to generate fresh secrets.
//
// This is the only file of the plan that touches the disk. Nothing here prints or returns key
// material in a diagnostic: messages name the file and the problem, nothing else.
//
// Loading never writes. What a render would change (a new store, a rotated token, a renewed admin
// certificate, the recorded identity) comes back as `changes` with `stage` and `commit`: the CLI
// stages them before writing the output and commits them only after the output was written, so a
// failed or interrupted render leaves the store as it was, and --check simply never commits.
import { createPublicKey, createPrivateKey, randomBytes as cryptoRandomBytes, type KeyObject, X509Certificate } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import {
  type BootstrapToken,
  type KeyPair,
  type RandomBytes,
  CA_NAMES,
  caCertHash,
  createAdminCert,
  createClusterPki,
  generateBootstrapToken,
  parseBootstrapToken,
} from './pki.js';

export type { BootstrapToken, KeyPair, RandomBytes } from './pki.js';

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

/**
 * What the secrets belong to. A second site whose topology reuses a cluster name in the same
 * output folder must not silently receive the first cluster's CA and token: the store records
 * the identity it was made for and refuses another.
 */
export interface ClusterIdentity { name: string; apiEndpoint: string; nodeSubnet: string }

export interface SecretsOptions {
  /** Replace the bootstrap token (and nothing else). */
  rotateToken?: boolean;
  /** Recorded with a new store (or an old store without one) and checked on every load. */
  identity?: ClusterIdentity;
  /** The instant certificates are issued at and checked against; the wall clock by default. */
  now?: Date;
  randomBytes?: RandomBytes;
}

/** Changes a render would make to the store, applied only by `commit`. */
export interface PendingSecrets {
  /** Files that change, relative to the store (empty: nothing to commit). */
  changes: string[];
  /** Writes the changes beside their targets (temp names); nothing is replaced yet. */
  stage(): Promise<void>;
  /** Renames the staged changes into place (stages first if needed). */
  commit(): Promise<void>;
  /** Removes staged files; the store stays as it was. */
  discard(): Promise<void>;
}

export type SecretsResult =
  /** `warnings`: nothing blocking. Nothing is written until `commit()`. */
  | ({ secrets: Secrets; warnings: Diagnostic[] } & PendingSecrets)
  | { diagnostics: Diagnostic[] };

/** The store's layout, relative to its folder. The pki/ names are kubeadm's own. */
export const SECRET_FILES = {
  token: 'token',
  identity: 'identity.json',
  caCert: 'pki/ca.crt',
  caKey: 'pki/ca.key',
  frontProxyCaCert: 'pki/front-proxy-ca.crt',
  frontProxyCaKey: 'pki/front-proxy-ca.key',
  etcdCaCert: 'pki/etcd/ca.crt',
  etcdCaKey: 'pki/etcd/ca.key',
  saKey: 'pki/sa.key',
  saPub: 'pki/sa.pub',
  adminCert: 'pki/admin.crt',
  adminKey: 'pki/admin.key',
  reportSecret: 'report.secret',
} as const;
const ALL_FILES: string[] = Object.values(SECRET_FILES);
const TMP_MARK = '.kubebake-tmp';
const FOLDERS = ['', 'pki', 'pki/etcd'];
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const DAMAGED_HINT =
  'restore the secrets folder from its backup; or, to start a NEW cluster identity (every node must be ' +
  're-provisioned), move the folder away and run again. kubebake never regenerates part of it.';
const TOKEN_HINT =
  'restore it from backup, or run with --rotate-token to make a new bootstrap token (the token is not part ' +
  'of the cluster identity; nodes not yet joined need the re-rendered user-data)';

const CA_EXPIRED_HINT =
  'an expired CA cannot be fixed by re-rendering: renew it on the cluster and put the new files here, ' +
  'or move the folder away to create a NEW cluster identity';

const problem = (code: string, file: string, message: string, hint = DAMAGED_HINT): Diagnostic => ({
  severity: 'error',
  code,
  path: [],
  file,
  message,
  hint,
});

/**
 * Loads the secrets in `dir`, or creates them all if the folder is missing or empty.
 * A complete store is validated (formats, key ↔ certificate, CA flags, signatures, expiry) and
 * returned as read, byte for byte, so the same store always renders the same files.
 *
 * Decision on an expired admin certificate (admin.conf): it is re-issued from the stored CA for
 * the same admin key (like `kubeadm certs renew admin.conf`), written in place, and reported as a
 * warning. An expired CA is an error: renewing a CA is a cluster operation, not a render step.
 */
export async function loadOrCreateSecrets(dir: string, opts: SecretsOptions = {}): Promise<SecretsResult> {
  const now = opts.now ?? new Date();
  const randomBytes = opts.randomBytes ?? ((n: number) => cryptoRandomBytes(n));
  try {
    const state = await folderState(dir);
    if (state === 'not-a-folder') return { diagnostics: [problem('secrets.damaged', dir, `${dir} is not a folder`)] };
    if (state === 'new') return { ...(await createStore(dir, now, randomBytes, opts.identity)), warnings: [] };
    return await loadStore(dir, { now, randomBytes, rotateToken: opts.rotateToken ?? false, identity: opts.identity });
  } catch (e) {
    // Only file-system errors get here (permissions, full disk); their messages carry paths, not contents.
    return { diagnostics: [problem('secrets.io', dir, `cannot use the secrets folder ${dir}: ${(e as Error).message}`, 'check the folder and its permissions')] };
  }
}

async function folderState(dir: string): Promise<'new' | 'existing' | 'not-a-folder'> {
  try {
    if (!(await stat(dir)).isDirectory()) return 'not-a-folder';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw e;
  }
  return (await readdir(dir)).filter((n) => !n.includes(TMP_MARK)).length === 0 ? 'new' : 'existing';
}

// ---------------------------------------------------------------------------------------------
// Creating

async function createStore(dir: string, now: Date, randomBytes: RandomBytes, identity: ClusterIdentity | undefined): Promise<{ secrets: Secrets } & PendingSecrets> {
  const pki = await createClusterPki({ now, randomBytes });
  const secrets: Secrets = { token: generateBootstrapToken(randomBytes), ...pki, caCertHash: caCertHash(pki.ca.cert), reportSecret: newReportSecret(randomBytes) };
  const contents = fileContents(secrets);
  if (identity) contents.set(SECRET_FILES.identity, identityText(identity));
  const files = ALL_FILES.filter((f) => contents.has(f));

  // Written into a private sibling folder, then renamed into place in one step: an interrupted
  // run leaves either no store or a complete one, never a partial store that would read as damaged.
  let tmp: string | undefined;
  const stage = async (): Promise<void> => {
    if (tmp) return;
    await removeStaleTemps(dir);
    await mkdir(dirname(dir), { recursive: true });
    tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}${TMP_MARK}-`));
    try {
      for (const folder of FOLDERS) {
        await mkdir(join(tmp, folder), { recursive: true, mode: DIR_MODE });
        await chmod(join(tmp, folder), DIR_MODE); // mkdtemp and the umask decide otherwise
      }
      for (const rel of files) await writeSecretFile(join(tmp, rel), contents.get(rel)!);
    } catch (e) {
      await discard();
      throw e;
    }
  };
  const discard = async (): Promise<void> => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    tmp = undefined;
  };
  const commit = async (): Promise<void> => {
    await stage();
    // An empty folder left by someone is replaced (rename only replaces an empty one).
    await rename(tmp!, dir);
    tmp = undefined;
    await syncFolder(dirname(dir));
  };
  return { secrets, changes: files, stage, commit, discard };
}

/** The report secret: made once, like the rest of the store; nothing is derived from the clock. */
const newReportSecret = (randomBytes: RandomBytes): string => Buffer.from(randomBytes(32)).toString('hex');
const REPORT_SECRET = /^[0-9a-f]{64}$/;

const identityText = (id: ClusterIdentity): string =>
  JSON.stringify({ name: id.name, apiEndpoint: id.apiEndpoint, nodeSubnet: id.nodeSubnet }, null, 2) + '\n';

/** Temp files and folders of runs that were interrupted (the caller holds the output lock). */
async function removeStaleTemps(dir: string): Promise<void> {
  const parent = dirname(dir);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (name.startsWith(`.${basename(dir)}${TMP_MARK}-`)) await rm(join(parent, name), { recursive: true, force: true });
  }
  for (const folder of FOLDERS) {
    for (const name of await readdir(join(dir, folder)).catch(() => [] as string[])) {
      if (name.includes(TMP_MARK)) await rm(join(dir, folder, name), { force: true });
    }
  }
}

function fileContents(s: Secrets): Map<string, string> {
  const F = SECRET_FILES;
  return new Map([
    [F.token, `${s.token.value}\n`],
    [F.caCert, s.ca.cert],
    [F.caKey, s.ca.key],
    [F.frontProxyCaCert, s.frontProxyCa.cert],
    [F.frontProxyCaKey, s.frontProxyCa.key],
    [F.etcdCaCert, s.etcdCa.cert],
    [F.etcdCaKey, s.etcdCa.key],
    [F.saKey, s.sa.key],
    [F.saPub, s.sa.pub],
    [F.adminCert, s.admin.cert],
    [F.adminKey, s.admin.key],
    [F.reportSecret, `${s.reportSecret}\n`],
  ]);
}

/** A new file created 0600 (never briefly wider), exclusively and without following a link, synced. */
async function writeSecretFile(path: string, content: string): Promise<void> {
  const fh = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, FILE_MODE);
  try {
    await fh.chmod(FILE_MODE); // the umask applies at creation; set the mode explicitly
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Changed files of an existing store: staged under unpredictable temp names, renamed over their targets on commit. */
function pendingFiles(dir: string, contents: Map<string, string>): PendingSecrets {
  let staged: Map<string, string> | undefined;
  const discard = async (): Promise<void> => {
    for (const tmp of staged?.values() ?? []) await rm(tmp, { force: true });
    staged = undefined;
  };
  const stage = async (): Promise<void> => {
    if (staged || contents.size === 0) return;
    await removeStaleTemps(dir);
    staged = new Map();
    try {
      for (const [rel, text] of contents) {
        const tmp = join(dir, `${rel}${TMP_MARK}-${cryptoRandomBytes(6).toString('hex')}`);
        staged.set(rel, tmp);
        await writeSecretFile(tmp, text);
      }
    } catch (e) {
      await discard();
      throw e;
    }
  };
  const commit = async (): Promise<void> => {
    if (contents.size === 0) return removeStaleTemps(dir); // what a killed run left behind
    await stage();
    for (const [rel, tmp] of staged!) await rename(tmp, join(dir, rel));
    staged = undefined;
    await syncFolder(dir);
  };
  return { changes: [...contents.keys()], stage, commit, discard };
}

async function syncFolder(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Loading and validating

/** A certificate and its key; `caName` marks a CA and the common name kubeadm gives it. */
interface CertPair { cert: string; key: string; caName?: string }
const PAIRS: CertPair[] = [
  { cert: SECRET_FILES.caCert, key: SECRET_FILES.caKey, caName: CA_NAMES.ca },
  { cert: SECRET_FILES.frontProxyCaCert, key: SECRET_FILES.frontProxyCaKey, caName: CA_NAMES.frontProxyCa },
  { cert: SECRET_FILES.etcdCaCert, key: SECRET_FILES.etcdCaKey, caName: CA_NAMES.etcdCa },
  { cert: SECRET_FILES.adminCert, key: SECRET_FILES.adminKey },
];

const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });

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
const commonName = (c: X509Certificate): string | undefined =>
  c.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);

async function loadStore(
  dir: string,
  opts: { now: Date; randomBytes: RandomBytes; rotateToken: boolean; identity?: ClusterIdentity },
): Promise<SecretsResult> {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const at = (rel: string): string => join(dir, rel);
  const damaged = (rel: string, what: string): void => void errors.push(problem('secrets.damaged', at(rel), `${at(rel)} ${what}`));

  // Read everything first, so one run reports every problem.
  const text = new Map<string, string>();
  for (const rel of ALL_FILES) {
    try {
      text.set(rel, await readFile(at(rel), 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (rel === SECRET_FILES.identity && code === 'ENOENT') continue; // a store from before identities: recorded on commit
      if (rel === SECRET_FILES.reportSecret && code === 'ENOENT') continue; // a store from before reports: made once, on commit
      if (rel === SECRET_FILES.token && opts.rotateToken) continue; // about to be replaced anyway
      if (rel === SECRET_FILES.token && code === 'ENOENT')
        errors.push(problem('secrets.damaged', at(rel), `${at(rel)} is missing`, TOKEN_HINT));
      else damaged(rel, code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? 'error'})`);
    }
  }
  warnings.push(...(await looseModes(dir)));

  // The identity: these secrets belong to one cluster.
  let recordIdentity = false;
  const idText = text.get(SECRET_FILES.identity);
  if (idText !== undefined) {
    const stored = parseIdentity(idText);
    if (!stored) damaged(SECRET_FILES.identity, 'is not a kubebake cluster identity (JSON with name, apiEndpoint, nodeSubnet)');
    else if (opts.identity) {
      const diff = (Object.keys(stored) as (keyof ClusterIdentity)[]).filter((k) => stored[k] !== opts.identity![k]);
      if (diff.length)
        errors.push(
          problem(
            'secrets.identity',
            at(SECRET_FILES.identity),
            `the secrets in ${dir} belong to cluster "${stored.name}" (${diff.map((k) => `${k} ${stored[k]}`).join(', ')}), not to this topology's (${diff.map((k) => `${k} ${opts.identity![k]}`).join(', ')})`,
            'if this is another cluster, give it its own output folder (-o) or another name, so it gets its own CA and token; ' +
              `if it is the same cluster and its ${diff.join(' and ')} really changed, write the new value into ${at(SECRET_FILES.identity)}`,
          ),
        );
    }
  } else recordIdentity = opts.identity !== undefined;

  // The token.
  let token: BootstrapToken | undefined;
  if (opts.rotateToken) token = generateBootstrapToken(opts.randomBytes);
  else if (text.has(SECRET_FILES.token)) {
    token = parseBootstrapToken(text.get(SECRET_FILES.token)!.trim());
    if (!token)
      errors.push(problem('secrets.damaged', at(SECRET_FILES.token), `${at(SECRET_FILES.token)} is not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})`, TOKEN_HINT));
  }

  // Each PEM parses as what it should be.
  const certs = new Map<string, X509Certificate>();
  const keys = new Map<string, KeyObject>();
  for (const pair of PAIRS) {
    const c = text.get(pair.cert);
    const k = text.get(pair.key);
    const cert = c === undefined ? undefined : parseCert(c);
    const key = k === undefined ? undefined : parsePrivateKey(k);
    if (cert) certs.set(pair.cert, cert);
    else if (c !== undefined) damaged(pair.cert, 'is not a PEM certificate');
    if (key) keys.set(pair.key, key);
    else if (k !== undefined) damaged(pair.key, 'is not a PEM private key in a form kubeadm reads (PKCS#1, PKCS#8 or SEC 1)');
  }

  // Each key belongs to its certificate; the CAs are CAs, the admin certificate is the CA's.
  let adminExpired = false;
  for (const pair of PAIRS) {
    const cert = certs.get(pair.cert);
    const key = keys.get(pair.key);
    if (cert && key && !spki(cert.publicKey).equals(spki(createPublicKey(key))))
      damaged(pair.key, `does not belong to ${at(pair.cert)} (their public keys differ)`);
    if (!cert) continue;
    if (pair.caName !== undefined) {
      const cn = commonName(cert);
      if (!cert.ca) damaged(pair.cert, 'is not a CA certificate (basicConstraints CA:TRUE is missing)');
      else if (cn !== pair.caName) damaged(pair.cert, `is not the ${pair.caName} CA (its subject is CN=${cn ?? '(none)'})`);
      else if (!cert.verify(cert.publicKey)) damaged(pair.cert, 'is not self-signed');
      if (new Date(cert.validTo) <= opts.now) errors.push(problem('secrets.expired', at(pair.cert), `${at(pair.cert)} expired on ${new Date(cert.validTo).toISOString()}`, CA_EXPIRED_HINT));
    } else {
      const ca = certs.get(SECRET_FILES.caCert);
      if (ca && !(cert.checkIssued(ca) && cert.verify(ca.publicKey))) damaged(pair.cert, `is not signed by ${at(SECRET_FILES.caCert)}`);
      adminExpired = new Date(cert.validTo) <= opts.now;
    }
  }

  // The service-account pair: no certificate, so the public half is compared directly.
  const saKeyText = text.get(SECRET_FILES.saKey);
  const saPubText = text.get(SECRET_FILES.saPub);
  const saKey = saKeyText === undefined ? undefined : parsePrivateKey(saKeyText);
  const saPub = saPubText === undefined ? undefined : parsePublicKey(saPubText);
  if (saKeyText !== undefined && !saKey) damaged(SECRET_FILES.saKey, 'is not a PEM private key in a form kubeadm reads (PKCS#1, PKCS#8 or SEC 1)');
  if (saPubText !== undefined && !saPub) damaged(SECRET_FILES.saPub, 'is not a PEM public key (PKIX "PUBLIC KEY")');
  if (saKey && saPub && !spki(createPublicKey(saKey)).equals(spki(saPub)))
    damaged(SECRET_FILES.saPub, `does not belong to ${at(SECRET_FILES.saKey)} (their public keys differ)`);

  // The report secret: a store from before progress reports gets one (once; kept from then on).
  const reportText = text.get(SECRET_FILES.reportSecret);
  const newReport = reportText === undefined ? newReportSecret(opts.randomBytes) : undefined;
  if (reportText !== undefined && !REPORT_SECRET.test(reportText.trim())) damaged(SECRET_FILES.reportSecret, 'is not a report secret (64 hexadecimal digits)');

  if (errors.length) return { diagnostics: [...errors, ...warnings] };

  const get = (rel: string): string => text.get(rel)!;
  const secrets: Secrets = {
    token: token!,
    ca: { cert: get(SECRET_FILES.caCert), key: get(SECRET_FILES.caKey) },
    frontProxyCa: { cert: get(SECRET_FILES.frontProxyCaCert), key: get(SECRET_FILES.frontProxyCaKey) },
    etcdCa: { cert: get(SECRET_FILES.etcdCaCert), key: get(SECRET_FILES.etcdCaKey) },
    admin: { cert: get(SECRET_FILES.adminCert), key: get(SECRET_FILES.adminKey) },
    sa: { key: get(SECRET_FILES.saKey), pub: get(SECRET_FILES.saPub) },
    caCertHash: caCertHash(get(SECRET_FILES.caCert)),
    reportSecret: newReport ?? reportText!.trim(),
  };

  // Only now, with everything valid, are changes prepared; the caller commits them.
  const changed = new Map<string, string>();
  if (opts.rotateToken) changed.set(SECRET_FILES.token, `${secrets.token.value}\n`);
  if (recordIdentity) changed.set(SECRET_FILES.identity, identityText(opts.identity!));
  if (newReport) changed.set(SECRET_FILES.reportSecret, `${newReport}\n`);
  if (adminExpired) {
    const old = new X509Certificate(secrets.admin.cert).validTo;
    secrets.admin = await createAdminCert(secrets.ca, { now: opts.now, randomBytes: opts.randomBytes, existingKey: secrets.admin.key });
    changed.set(SECRET_FILES.adminCert, secrets.admin.cert);
    warnings.push({
      severity: 'warning',
      code: 'secrets.admin-renewed',
      path: [],
      file: at(SECRET_FILES.adminCert),
      message: `${at(SECRET_FILES.adminCert)} expired on ${new Date(old).toISOString()}; issued a new one from the cluster CA for the same key, valid until ${new Date(new X509Certificate(secrets.admin.cert).validTo).toISOString()}`,
      hint: 'admin.conf changes with it; hand the new admin.conf to whoever uses kubectl',
    });
  }
  return { secrets, warnings, ...pendingFiles(dir, changed) };
}

function parseIdentity(text: string): ClusterIdentity | undefined {
  try {
    const v = JSON.parse(text) as Partial<ClusterIdentity>;
    return typeof v.name === 'string' && typeof v.apiEndpoint === 'string' && typeof v.nodeSubnet === 'string'
      ? { name: v.name, apiEndpoint: v.apiEndpoint, nodeSubnet: v.nodeSubnet }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Warnings for files or folders others can read (say, restored from a backup or a git checkout). */
async function looseModes(dir: string): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const rel of [...FOLDERS, ...ALL_FILES]) {
    const path = join(dir, rel);
    let mode: number;
    try {
      mode = (await stat(path)).mode & 0o777;
    } catch {
      continue; // missing files are reported elsewhere
    }
    const want = FOLDERS.includes(rel) ? DIR_MODE : FILE_MODE;
    if (mode & 0o077)
      out.push({
        severity: 'warning',
        code: 'secrets.permissions',
        path: [],
        file: path,
        message: `${path} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')})`,
        hint: `chmod ${want.toString(8)} ${path}`,
      });
  }
  return out;
}
