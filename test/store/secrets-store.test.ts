// The secrets store: created once, reused byte for byte, never silently regenerated.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { Secrets } from '../../src/plan/secrets.js';
import { loadOrCreateSecrets, type SecretsResult } from '../../src/store/secrets-store.js';
import { run } from '../helpers/tools.js';
import { snapshotDir, withTempDir } from '../helpers/tmp.js';

const NOW = new Date();
const DAY = 24 * 3600 * 1000;
/**
 * The files of a store made without an identity (the identity file is written only when one is
 * given): the layout existing stores have (test/fixtures/secrets), written out here, not taken
 * from the code under test.
 */
const ALL = [
  'token',
  'pki/ca.crt',
  'pki/ca.key',
  'pki/front-proxy-ca.crt',
  'pki/front-proxy-ca.key',
  'pki/etcd/ca.crt',
  'pki/etcd/ca.key',
  'pki/sa.key',
  'pki/sa.pub',
  'pki/admin.crt',
  'pki/admin.key',
  'report.secret',
];
const REPORT_SECRET = 'report.secret';
const IDENTITY = { name: 'seed', apiEndpoint: '10.2.47.84:6443', nodeSubnet: '10.2.47.0/24' };

type Loaded = Exclude<SecretsResult, { diagnostics: Diagnostic[] }>;
function loaded(r: SecretsResult): Loaded {
  if ('diagnostics' in r) assert.fail(`unexpected diagnostics: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r;
}
function failed(r: SecretsResult): Diagnostic[] {
  if (!('diagnostics' in r)) return assert.fail('expected diagnostics, got secrets');
  return r.diagnostics;
}

/** No diagnostic may carry key material or the token secret. */
function assertNoSecrets(ds: Diagnostic[], s: Secrets): void {
  const text = JSON.stringify(ds);
  assert.doesNotMatch(text, /PRIVATE KEY|BEGIN CERTIFICATE/);
  assert.ok(!text.includes(s.token.secret));
}

// One freshly created store, copied for each test that needs an existing one (key generation is slow).
let pristine: Promise<{ dir: string; secrets: Secrets }> | undefined;
const PRISTINE_ROOT = mkdtempSync(join(tmpdir(), 'kubebake-pristine-'));
after(() => rmSync(PRISTINE_ROOT, { recursive: true, force: true }));
function pristineStore(): Promise<{ dir: string; secrets: Secrets }> {
  return (pristine ??= (async () => {
    const dir = join(PRISTINE_ROOT, 'secrets');
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    await r.commit();
    return { dir, secrets: r.secrets };
  })());
}
/** A copy of the pristine store at `<tmp>/secrets`, modes preserved. */
async function copyOfStore(tmp: string): Promise<{ dir: string; secrets: Secrets }> {
  const p = await pristineStore();
  const dir = join(tmp, 'secrets');
  cpSync(p.dir, dir, { recursive: true, preserveTimestamps: true });
  for (const rel of ['', 'pki', 'pki/etcd']) chmodSync(join(dir, rel), 0o700);
  return { dir, secrets: p.secrets };
}

test('a missing folder is created whole: every file 0600, every folder 0700, nothing else left behind', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'cluster', 'secrets');
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual([...r.changes].sort(), [...ALL].sort());
    assert.deepEqual(r.warnings, []);
    assert.throws(() => statSync(join(tmp, 'cluster')), 'loading writes nothing; commit does');
    await r.commit();
    for (const rel of ALL) assert.equal(statSync(join(dir, rel)).mode & 0o777, 0o600, rel);
    for (const rel of ['', 'pki', 'pki/etcd']) assert.equal(statSync(join(dir, rel)).mode & 0o777, 0o700, rel || '.');
    const snap = snapshotDir(dir);
    assert.deepEqual([...snap.keys()].filter((k) => snap.get(k)!.sha256 !== undefined).sort(), [...ALL].sort(), 'only the store files');
    assert.deepEqual(snapshotDir(join(tmp, 'cluster')).size, snap.size + 1, 'no temporary folder left next to it');
    assert.equal(readFileSync(join(dir, 'token'), 'utf8'), `${r.secrets.token.value}\n`);
    assert.equal(readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'), r.secrets.ca.cert);
  });
});

test('an existing empty folder is filled', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'secrets');
    mkdirSync(dir, { mode: 0o755 });
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.equal(r.changes.length, ALL.length);
    await r.commit();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });
});

test('loading again gives deep-equal secrets and writes nothing', async () => {
  await withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    const before = snapshotDir(dir);
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual(r.secrets, secrets);
    assert.deepEqual(r.changes, []);
    assert.deepEqual(r.warnings, []);
    await r.commit();
    assert.deepEqual(snapshotDir(dir), before);
  });
});

test('rotateToken replaces the token file only', async () => {
  await withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    const before = snapshotDir(dir);
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW, rotateToken: true }));
    assert.deepEqual(r.changes, ['token']);
    await r.stage();
    await r.discard();
    const files = (m: Map<string, { sha256?: string }>) => [...m].filter(([, e]) => e.sha256 !== undefined);
    assert.deepEqual(files(snapshotDir(dir)), files(before), 'staged and discarded: the store\'s files are as they were');
    await r.commit();
    assert.notEqual(r.secrets.token.value, secrets.token.value);
    assert.match(r.secrets.token.value, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.deepEqual({ ...r.secrets, token: secrets.token }, secrets);
    const after = snapshotDir(dir);
    for (const [path, entry] of before) {
      if (path === 'token') assert.notEqual(after.get(path)!.sha256, entry.sha256);
      else if (entry.sha256) assert.deepEqual(after.get(path), entry, path);
    }
    assert.equal(after.get('token')!.mode, 0o600);
    assert.equal(readFileSync(join(dir, 'token'), 'utf8'), `${r.secrets.token.value}\n`);
    assert.deepEqual(loaded(await loadOrCreateSecrets(dir, { now: NOW })).secrets, r.secrets, 'the new token is what loads next');
  });
});

/** Damages a copy of the store, then checks: errors naming `names`, and the folder untouched. */
async function expectDamage(damage: (dir: string) => void, names: string[], code = 'secrets.damaged', now = NOW): Promise<Diagnostic[]> {
  return withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    damage(dir);
    const before = snapshotDir(dir);
    const ds = failed(await loadOrCreateSecrets(dir, { now }));
    assert.deepEqual(snapshotDir(dir), before, 'the folder is left exactly as it was');
    const errors = ds.filter((d) => d.severity === 'error');
    assert.ok(errors.length > 0);
    for (const name of names) {
      const d = errors.find((e) => e.file === join(dir, name));
      assert.ok(d, `an error for ${name} in: ${errors.map((e) => e.message).join(' | ')}`);
      assert.equal(d.code, code);
      assert.ok(d.message.includes(name), d.message);
      assert.ok(d.hint && d.hint.length > 0);
    }
    assertNoSecrets(ds, secrets);
    return ds;
  });
}

test('a missing file is an error naming it, with a restore-or-move-away hint', async () => {
  const ds = await expectDamage((dir) => unlinkSync(join(dir, 'pki', 'front-proxy-ca.key')), ['pki/front-proxy-ca.key']);
  assert.match(ds[0]!.message, /is missing/);
  assert.match(ds[0]!.hint!, /backup/);
  assert.match(ds[0]!.hint!, /move the folder away/);
});

test('a missing token points at --rotate-token; with rotateToken the store loads', async () => {
  const ds = await expectDamage((dir) => unlinkSync(join(dir, 'token')), ['token']);
  assert.match(ds[0]!.hint!, /--rotate-token/);
  await withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    unlinkSync(join(dir, 'token'));
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW, rotateToken: true }));
    assert.equal(r.secrets.caCertHash, secrets.caCertHash);
    await r.commit();
    assert.equal(statSync(join(dir, 'token')).mode & 0o777, 0o600);
  });
});

test('a malformed token is an error', async () => {
  await expectDamage((dir) => writeFileSync(join(dir, 'token'), 'ABCDEF.0123456789abcdef\n'), ['token']);
});

test('a corrupted PEM is an error naming the file', async () => {
  const corrupt = (path: string): void => {
    const pem = readFileSync(path, 'utf8');
    writeFileSync(path, pem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + '!'.repeat(64) + '\n'));
  };
  await expectDamage((dir) => corrupt(join(dir, 'pki', 'ca.crt')), ['pki/ca.crt']);
  await expectDamage((dir) => corrupt(join(dir, 'pki', 'etcd', 'ca.key')), ['pki/etcd/ca.key']);
  await expectDamage((dir) => writeFileSync(join(dir, 'pki', 'sa.pub'), 'not a key\n'), ['pki/sa.pub']);
  // A private key where the public one belongs would be handed out with it: refused.
  await expectDamage((dir) => cpSync(join(dir, 'pki', 'sa.key'), join(dir, 'pki', 'sa.pub')), ['pki/sa.pub']);
});

test('swapping ca.key and etcd/ca.key is caught: each key no longer matches its certificate', async () => {
  const ds = await expectDamage((dir) => {
    renameSync(join(dir, 'pki', 'ca.key'), join(dir, 'swap'));
    renameSync(join(dir, 'pki', 'etcd', 'ca.key'), join(dir, 'pki', 'ca.key'));
    renameSync(join(dir, 'swap'), join(dir, 'pki', 'etcd', 'ca.key'));
  }, ['pki/ca.key', 'pki/etcd/ca.key']);
  assert.ok(ds.every((d) => /does not belong to/.test(d.message)));
});

test('swapping whole CA pairs, sa.pub of another key, or an admin cert from another CA are caught', async () => {
  await expectDamage((dir) => {
    for (const ext of ['crt', 'key']) {
      renameSync(join(dir, 'pki', `ca.${ext}`), join(dir, `swap.${ext}`));
      renameSync(join(dir, 'pki', 'etcd', `ca.${ext}`), join(dir, 'pki', `ca.${ext}`));
      renameSync(join(dir, `swap.${ext}`), join(dir, 'pki', 'etcd', `ca.${ext}`));
    }
  }, ['pki/ca.crt', 'pki/etcd/ca.crt']);
  await expectDamage((dir) => {
    const pub = run('openssl', ['pkey', '-in', join(dir, 'pki', 'front-proxy-ca.key'), '-pubout']).stdout;
    writeFileSync(join(dir, 'pki', 'sa.pub'), pub);
  }, ['pki/sa.pub']);
  await expectDamage((dir) => {
    // admin.crt/key replaced by a consistent pair that some other CA signed.
    for (const ext of ['crt', 'key']) cpSync(join(dir, 'pki', `front-proxy-ca.${ext}`), join(dir, 'pki', `admin.${ext}`));
  }, ['pki/admin.crt']);
});

test('a partial folder (only some files) reports every missing file and creates nothing', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'secrets');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'token'), 'abcdef.0123456789abcdef\n', { mode: 0o600 });
    const before = snapshotDir(dir);
    const ds = failed(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual(snapshotDir(dir), before);
    // report.secret, like identity.json, is made when missing (a store from before it), never reported missing.
    assert.deepEqual(ds.map((d) => d.file).sort(), ALL.filter((f) => f !== 'token' && f !== REPORT_SECRET).map((f) => join(dir, f)).sort());
  });
});

test('report secret: a store from before it gets one on commit (0600), kept byte for byte from then on; a damaged one is an error', async () => {
  await withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    assert.match(secrets.reportSecret, /^[0-9a-f]{64}$/);
    unlinkSync(join(dir, REPORT_SECRET));
    const first = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual(first.changes, [REPORT_SECRET]);
    assert.notEqual(first.secrets.reportSecret, secrets.reportSecret);
    await first.commit();
    assert.equal(statSync(join(dir, REPORT_SECRET)).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, REPORT_SECRET), 'utf8'), `${first.secrets.reportSecret}\n`);
    const again = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual(again.changes, []);
    assert.equal(again.secrets.reportSecret, first.secrets.reportSecret);
    writeFileSync(join(dir, REPORT_SECRET), 'not hex\n', { mode: 0o600 });
    const ds = failed(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual(ds.map((d) => d.code), ['secrets.damaged']);
    assert.match(ds[0]!.message, /report\.secret is not a report secret/);
    assertNoSecrets(ds, secrets);
  });
});

test('an expired admin certificate is re-issued for the same key, with a warning; the CA stays', async () => {
  await withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    const later = new Date(NOW.getTime() + 400 * DAY);
    const r = loaded(await loadOrCreateSecrets(dir, { now: later }));
    assert.deepEqual(r.changes, ['pki/admin.crt']);
    await r.commit();
    assert.deepEqual(r.warnings.map((w) => w.code), ['secrets.admin-renewed']);
    assert.equal(r.warnings[0]!.severity, 'warning');
    assert.match(r.warnings[0]!.message, /admin\.crt expired/);
    assertNoSecrets(r.warnings, secrets);
    assert.notEqual(r.secrets.admin.cert, secrets.admin.cert);
    assert.deepEqual({ ...r.secrets, admin: secrets.admin }, secrets);
    assert.equal(r.secrets.admin.key, secrets.admin.key);
    assert.equal(readFileSync(join(dir, 'pki', 'admin.crt'), 'utf8'), r.secrets.admin.cert);
    assert.equal(statSync(join(dir, 'pki', 'admin.crt')).mode & 0o777, 0o600);
    const at = String(Math.floor(later.getTime() / 1000));
    const v = run('openssl', ['verify', '-attime', at, '-CAfile', join(dir, 'pki', 'ca.crt'), join(dir, 'pki', 'admin.crt')]);
    assert.equal(v.status, 0, v.stderr);
    // Loading again at the same instant is quiet and stable.
    const again = loaded(await loadOrCreateSecrets(dir, { now: later }));
    assert.deepEqual(again.changes, []);
    assert.deepEqual(again.secrets, r.secrets);
  });
});

test('an expired CA is an error, not a silent new cluster', async () => {
  const ds = await expectDamage(() => {}, ['pki/ca.crt', 'pki/front-proxy-ca.crt', 'pki/etcd/ca.crt'], 'secrets.expired', new Date(NOW.getTime() + 3651 * DAY));
  assert.match(ds[0]!.message, /expired on/);
});

test('files readable by others load, with a chmod warning and no change to them', async () => {
  await withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    chmodSync(join(dir, 'pki', 'ca.key'), 0o644);
    const before = snapshotDir(dir);
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual(r.secrets, secrets);
    assert.deepEqual(r.warnings.map((w) => [w.code, w.file]), [['secrets.permissions', join(dir, 'pki', 'ca.key')]]);
    assert.match(r.warnings[0]!.hint!, /chmod 600/);
    assert.deepEqual(snapshotDir(dir), before);
  });
});

test('a path that is a file, not a folder, is an error', async () => {
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'secrets');
    writeFileSync(path, 'x');
    const ds = failed(await loadOrCreateSecrets(path, { now: NOW }));
    assert.equal(ds[0]!.code, 'secrets.damaged');
    assert.equal(readFileSync(path, 'utf8'), 'x');
  });
});

test('a store records the identity it was made for and refuses another cluster with the same name', async () => {
  await withTempDir(async (tmp) => {
    const { dir, secrets } = await copyOfStore(tmp);
    // A store from before identities adopts the first identity it is loaded with, on commit.
    const adopt = loaded(await loadOrCreateSecrets(dir, { now: NOW, identity: IDENTITY }));
    assert.deepEqual(adopt.changes, ['identity.json']);
    await adopt.commit();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')), IDENTITY);
    assert.equal(statSync(join(dir, 'identity.json')).mode & 0o777, 0o600);
    assert.deepEqual(loaded(await loadOrCreateSecrets(dir, { now: NOW, identity: IDENTITY })).changes, []);
    // A second site: same name, other endpoint and subnet.
    const before = snapshotDir(dir);
    const other = { name: 'seed', apiEndpoint: '10.9.0.10:6443', nodeSubnet: '10.9.0.0/24' };
    const ds = failed(await loadOrCreateSecrets(dir, { now: NOW, identity: other }));
    assert.deepEqual(ds.map((d) => d.code), ['secrets.identity']);
    assert.match(ds[0]!.message, /belong to cluster "seed" \(apiEndpoint 10\.2\.47\.84:6443, nodeSubnet 10\.2\.47\.0\/24\), not to this topology's \(apiEndpoint 10\.9\.0\.10:6443, nodeSubnet 10\.9\.0\.0\/24\)/);
    assert.match(ds[0]!.hint!, /own output folder \(-o\)/);
    assertNoSecrets(ds, secrets);
    assert.deepEqual(snapshotDir(dir), before);
  });
});

test('a commit removes the temp files of a run that was killed while staging', async () => {
  await withTempDir(async (tmp) => {
    const { dir } = await copyOfStore(tmp);
    writeFileSync(join(dir, 'token.kubebake-tmp-0123abcd'), 'abcdef.0123456789abcdef\n', { mode: 0o600 });
    mkdirSync(join(tmp, '.secrets.kubebake-tmp-xyz'));
    const r = loaded(await loadOrCreateSecrets(dir, { now: NOW }));
    assert.deepEqual(r.changes, []);
    assert.ok(statSync(join(dir, 'token.kubebake-tmp-0123abcd')), 'loading alone changes nothing');
    await r.commit();
    assert.throws(() => statSync(join(dir, 'token.kubebake-tmp-0123abcd')));
    assert.throws(() => statSync(join(tmp, '.secrets.kubebake-tmp-xyz')));
  });
});
