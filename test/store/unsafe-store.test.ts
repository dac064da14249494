// A secrets store others could change is refused, and no link inside it is followed: whoever can
// replace a file there decides the cluster's CA (or learns its keys).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, cpSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { loadOrCreateSecrets, type SecretsResult } from '../../src/store/secrets-store.js';
import { FIXTURE_NOW, FIXTURE_SECRETS_DIR } from '../helpers/cluster.js';
import { snapshotDir, withTempDir } from '../helpers/tmp.js';

const OTHER_UID = 4321;
const asRoot = process.getuid?.() === 0;
const IDENTITY = { name: 'lab', apiEndpoint: '10.0.0.1:6443', nodeSubnet: '10.0.0.0/24' };

/** `<tmp>/cluster/secrets`: a copy of the fixture store, private as a render leaves it. */
function storeIn(tmp: string): { cluster: string; dir: string } {
  const cluster = join(tmp, 'cluster');
  const dir = join(cluster, 'secrets');
  mkdirSync(cluster, { mode: 0o700 });
  cpSync(FIXTURE_SECRETS_DIR, dir, { recursive: true });
  for (const rel of ['', 'pki', 'pki/etcd']) chmodSync(join(dir, rel), 0o700);
  for (const rel of ['token', 'report.secret', 'pki/ca.crt', 'pki/ca.key', 'pki/sa.key', 'pki/sa.pub', 'pki/admin.crt', 'pki/admin.key', 'pki/front-proxy-ca.crt', 'pki/front-proxy-ca.key', 'pki/etcd/ca.crt', 'pki/etcd/ca.key'])
    chmodSync(join(dir, rel), 0o600);
  return { cluster, dir };
}

function refused(r: SecretsResult): Diagnostic[] {
  if (!('diagnostics' in r)) return assert.fail('the store was used');
  return r.diagnostics;
}

/** Refused with one secrets.unsafe error on `path` whose message and hint match, and nothing written. */
async function expectRefused(setUp: (s: { cluster: string; dir: string }) => string, message: RegExp, hint: RegExp): Promise<void> {
  await withTempDir(async (tmp) => {
    const s = storeIn(tmp);
    const path = setUp(s);
    const before = snapshotDir(tmp);
    const ds = refused(await loadOrCreateSecrets(s.dir, { now: FIXTURE_NOW, identity: IDENTITY }));
    const d = ds.find((x) => x.file === path);
    assert.ok(d, `a diagnostic for ${path} in: ${ds.map((x) => `${x.file}: ${x.message}`).join(' | ')}`);
    assert.equal(d.severity, 'error');
    assert.equal(d.code, 'secrets.unsafe');
    assert.ok(d.message.startsWith(path), d.message);
    assert.match(d.message, message);
    assert.match(d.hint ?? '', hint);
    assert.doesNotMatch(JSON.stringify(ds), /PRIVATE KEY|BEGIN CERTIFICATE/);
    assert.deepEqual(snapshotDir(tmp), before, 'nothing written');
  });
}

test('a private store of the user loads (the cases below differ from it in one thing only)', async () => {
  await withTempDir(async (tmp) => {
    const r = await loadOrCreateSecrets(storeIn(tmp).dir, { now: FIXTURE_NOW, identity: IDENTITY });
    assert.ok(!('diagnostics' in r), 'diagnostics' in r ? r.diagnostics.map((d) => d.message).join('; ') : '');
    assert.deepEqual(r.warnings, []);
  });
});

test('a store or cluster folder another user owns is refused, naming the owner and the fix', { skip: !asRoot && 'chown to another user needs root' }, async () => {
  await expectRefused(({ dir }) => (chownSync(dir, OTHER_UID, OTHER_UID), dir), /belongs to user 4321, not to you \(user 0\)/, /chown -R 0 .*secrets/);
  await expectRefused(({ cluster }) => (chownSync(cluster, OTHER_UID, OTHER_UID), cluster), /belongs to user 4321/, /chown -R 0 .*cluster/);
  await expectRefused(({ dir }) => (chownSync(join(dir, 'pki', 'ca.key'), OTHER_UID, OTHER_UID), join(dir, 'pki', 'ca.key')), /belongs to user 4321/, /chown/);
  await expectRefused(({ dir }) => (chownSync(join(dir, 'pki', 'etcd'), OTHER_UID, OTHER_UID), join(dir, 'pki', 'etcd')), /belongs to user 4321/, /chown/);
});

test('a store, one of its folders or files, or the cluster folder that others may write is refused', async () => {
  await expectRefused(({ dir }) => (chmodSync(dir, 0o770), dir), /can be written by its group \(mode 0770\)/, /chmod go-w /);
  await expectRefused(({ cluster }) => (chmodSync(cluster, 0o777), cluster), /can be written by its group and every user \(mode 0777\)/, /chmod go-w /);
  await expectRefused(({ dir }) => (chmodSync(join(dir, 'pki'), 0o702), join(dir, 'pki')), /can be written by every user/, /chmod go-w /);
  await expectRefused(({ dir }) => (chmodSync(join(dir, 'pki', 'sa.key'), 0o620), join(dir, 'pki', 'sa.key')), /can be written by its group/, /chmod go-w /);
});

test('a new store is not made in a cluster folder others may write', async () => {
  await withTempDir(async (tmp) => {
    const cluster = join(tmp, 'cluster');
    mkdirSync(cluster, { mode: 0o700 });
    chmodSync(cluster, 0o775);
    const ds = refused(await loadOrCreateSecrets(join(cluster, 'secrets'), { now: FIXTURE_NOW }));
    assert.deepEqual(ds.map((d) => [d.code, d.file]), [['secrets.unsafe', cluster]]);
  });
});

test('links inside the store are never followed: a linked file or folder is refused', async () => {
  // The link points at the store's own (valid) content: followed, the store would load.
  await expectRefused(({ cluster, dir }) => {
    const key = join(dir, 'pki', 'ca.key');
    renameSync(key, join(cluster, 'ca.key.elsewhere'));
    symlinkSync(join(cluster, 'ca.key.elsewhere'), key);
    return key;
  }, /is a symbolic link; kubebake never follows links inside the secrets store/, /readlink/);
  await expectRefused(({ cluster, dir }) => {
    renameSync(join(dir, 'pki'), join(cluster, 'pki.elsewhere'));
    symlinkSync(join(cluster, 'pki.elsewhere'), join(dir, 'pki'));
    return join(dir, 'pki');
  }, /is a symbolic link/, /real file or folder/);
  await expectRefused(({ cluster, dir }) => {
    writeFileSync(join(cluster, 'identity.elsewhere'), JSON.stringify(IDENTITY), { mode: 0o600 });
    symlinkSync(join(cluster, 'identity.elsewhere'), join(dir, 'identity.json'));
    return join(dir, 'identity.json');
  }, /is a symbolic link/, /readlink/);
});

test('the store itself may be a link (to an encrypted volume, say): what it points at is checked', async () => {
  await withTempDir(async (tmp) => {
    const { dir } = storeIn(tmp);
    renameSync(dir, join(tmp, 'vault'));
    symlinkSync(join(tmp, 'vault'), dir);
    const r = await loadOrCreateSecrets(dir, { now: FIXTURE_NOW });
    assert.ok(!('diagnostics' in r), 'diagnostics' in r ? r.diagnostics.map((d) => d.message).join('; ') : '');
    chmodSync(join(tmp, 'vault'), 0o777);
    const ds = refused(await loadOrCreateSecrets(dir, { now: FIXTURE_NOW }));
    assert.deepEqual(ds.map((d) => [d.code, d.file]), [['secrets.unsafe', dir]]);
  });
});
