// The cluster's secrets store: created once, then only read back. The CAs are the cluster's
// identity (every node trusts them, and the discovery hash baked into each host's kubeadm join
// config is derived from ca.crt), so new ones would silently make a different cluster. A damaged
// store is therefore an error the operator resolves, never a reason to generate fresh secrets.
//
// What lives where is the table's (plan/secrets.ts); what a loaded store must satisfy is checked
// by plan/secrets-check.ts; this room only reads, refuses an unsafe store (safe-read.ts) and
// writes (transaction.ts). Nothing here prints or returns key material in a diagnostic.
//
// Loading never writes. What a render would change (a new store, a rotated token, a renewed admin
// certificate, the recorded identity, an entry added to the store later) comes back as `changes`
// with `stage` and `commit`: the CLI stages them before writing the output and commits them only
// after the output was written, so a failed or interrupted render leaves the store as it was, and
// --check simply never commits.
import { randomBytes as cryptoRandomBytes, X509Certificate } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { checkStoreEntries, type EntryRead } from '../plan/secrets-check.js';
import { generatePart, generateSecrets, RENEWERS, withHash, type GenerateContext } from '../plan/secrets-generate.js';
import { bundleOf, entryOf, entryText, partOf, STORE_ENTRIES, type RandomBytes, type SecretField, type SecretPart, type Secrets, type StoredSecrets } from '../plan/secrets.js';
import { checkIdentity, IDENTITY_FILE, identityText, type ClusterIdentity } from './identity.js';
import { checkFolders, readStoreFile } from './safe-read.js';
import { changedFiles, isTempName, newStore, type PendingSecrets } from './transaction.js';

export type { ClusterIdentity } from './identity.js';
export { IDENTITY_FILE } from './identity.js';
export type { PendingSecrets } from './transaction.js';

export interface SecretsOptions {
  /** Replace the bootstrap token (and nothing else). */
  rotateToken?: boolean;
  /** Recorded with a new store (or an old store without one) and checked on every load. */
  identity?: ClusterIdentity;
  /** The instant certificates are issued at and checked against; the wall clock by default. */
  now?: Date;
  randomBytes?: RandomBytes;
}

export type SecretsResult =
  /** `warnings`: nothing blocking. Nothing is written until `commit()`. */
  | ({ secrets: Secrets; warnings: Diagnostic[] } & PendingSecrets)
  | { diagnostics: Diagnostic[] };

/** Where an entry lives, relative to the store folder. */
export const storePath = (field: SecretField): string => entryOf(field).store;

const error = (m: ReturnType<typeof msg.storeDamaged>, file: string): Diagnostic => ({ severity: 'error', path: [], file, ...m });

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
  const ctx: GenerateContext = { now: opts.now ?? new Date(), randomBytes: opts.randomBytes ?? ((n: number) => cryptoRandomBytes(n)) };
  try {
    const folders = await checkFolders(dir);
    if (folders.refusals.length) return { diagnostics: folders.refusals };
    const state = await folderState(dir);
    if (state === 'not-a-folder') return { diagnostics: [error(msg.storeDamaged(dir, 'is not a folder'), dir)] };
    if (state === 'new') return await createStore(dir, ctx, opts.identity);
    return await loadStore(dir, ctx, opts, folders.warnings);
  } catch (e) {
    // Only file-system errors get here (permissions, full disk); their messages carry paths, not contents.
    return { diagnostics: [error(msg.storeIo(dir, (e as Error).message), dir)] };
  }
}

async function folderState(dir: string): Promise<'new' | 'existing' | 'not-a-folder'> {
  try {
    if (!(await stat(dir)).isDirectory()) return 'not-a-folder';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw e;
  }
  return (await readdir(dir)).filter((n) => !isTempName(n)).length === 0 ? 'new' : 'existing';
}

async function createStore(dir: string, ctx: GenerateContext, identity: ClusterIdentity | undefined): Promise<SecretsResult> {
  const secrets = await generateSecrets(ctx);
  const files = new Map(STORE_ENTRIES.map((e) => [e.store, entryText(secrets, e)]));
  if (identity) files.set(IDENTITY_FILE, identityText(identity));
  return { secrets, warnings: [], ...newStore(dir, files) };
}

async function loadStore(dir: string, ctx: GenerateContext, opts: SecretsOptions, folderWarnings: Diagnostic[]): Promise<SecretsResult> {
  const found = { refusals: [] as Diagnostic[], warnings: [...folderWarnings] };
  const replaced = new Set<SecretPart>(opts.rotateToken ? ['token'] : []);

  // Read everything first, so one run reports every problem.
  const identityPath = join(dir, IDENTITY_FILE);
  const identityRead = await readStoreFile(identityPath, found);
  const reads = new Map<SecretField, EntryRead>();
  for (const e of STORE_ENTRIES) if (!replaced.has(partOf(e.field))) reads.set(e.field, await readStoreFile(join(dir, e.store), found));
  if (found.refusals.length) return { diagnostics: found.refusals };

  // The identity: these secrets belong to one cluster. A store from before identities records it on commit.
  const errors: Diagnostic[] = [];
  if ('text' in identityRead) errors.push(...checkIdentity(identityRead.text, identityPath, dir, opts.identity));
  else if ('unreadable' in identityRead) errors.push(error(msg.storeDamaged(identityPath, `cannot be read (${identityRead.unreadable})`), identityPath));
  const recordIdentity = 'missing' in identityRead && opts.identity !== undefined;

  const checked = checkStoreEntries({ reads, replaced, now: ctx.now, pathOf: (e) => join(dir, e.store) });
  errors.push(...checked.errors);
  if (errors.length) return { diagnostics: [...errors, ...found.warnings] };

  // Only now, with everything valid, are changes prepared; the caller commits them.
  const secrets = bundleOf(checked.values) as Record<SecretPart, unknown>;
  const changed = new Map<string, string>();
  const remake = async (part: SecretPart): Promise<void> => {
    secrets[part] = await generatePart(part, ctx, secrets as Partial<StoredSecrets>);
    for (const e of STORE_ENTRIES.filter((x) => partOf(x.field) === part)) changed.set(e.store, entryText(secrets as StoredSecrets, e));
  };
  for (const part of replaced) await remake(part);
  if (recordIdentity) changed.set(IDENTITY_FILE, identityText(opts.identity!));
  for (const e of checked.toAdd) await remake(partOf(e.field));
  for (const e of checked.expired) {
    const part = partOf(e.field);
    const old = entryText(secrets as StoredSecrets, e);
    secrets[part] = await RENEWERS[part]!(ctx, secrets as StoredSecrets);
    changed.set(e.store, entryText(secrets as StoredSecrets, e));
    found.warnings.push({ severity: 'warning', path: [], file: join(dir, e.store), ...msg.storeRenewed(join(dir, e.store), validTo(old), validTo(entryText(secrets as StoredSecrets, e))) });
  }
  return { secrets: withHash(secrets as StoredSecrets), warnings: found.warnings, ...changedFiles(dir, changed) };
}

const validTo = (pem: string): string => new Date(new X509Certificate(pem).validTo).toISOString();
