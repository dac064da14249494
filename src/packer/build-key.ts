// The one-time SSH key pair of a bake: Packer logs in to the build machine with it, the seed CD
// authorizes its public half for the build user, and sysprep removes that user, so the key is
// worthless once the bake ends. Made fresh for every bake, kept in a private temp folder, deleted
// afterwards. sshpk writes the private half in OpenSSH's own format, which both Packer (Go's
// x/crypto/ssh) and ssh-keygen read.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sshpk from 'sshpk';
import { createFile } from '../output/private-file.js';

export interface BuildKey {
  /** `ssh-ed25519 AAAA… kubebake-build` */
  publicKey: string;
  /** Path of the private key (0600, in a 0700 folder). */
  privateKeyFile: string;
  /** Deletes the key pair. */
  dispose(): Promise<void>;
}

export async function createBuildKey(): Promise<BuildKey> {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = sshpk.parsePrivateKey(pem, 'pkcs8');
  key.comment = 'kubebake-build';
  const dir = await mkdtemp(join(tmpdir(), 'kubebake-build-key-'));
  const privateKeyFile = join(dir, 'id_ed25519');
  await createFile(privateKeyFile, 0o600, key.toString('openssh'), 'rebuildable');
  return {
    publicKey: key.toPublic().toString('ssh').trim(),
    privateKeyFile,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
