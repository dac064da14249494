// The generators in src/plan/pki.ts, checked by openssl (an independent reader of X.509).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClusterPki,
  caCertHash,
  createAdminCert,
  createClusterPki,
  generateBootstrapToken,
  parseBootstrapToken,
  randomSerial,
  randomTokenChars,
} from '../../src/plan/pki.js';
import { run } from '../helpers/tools.js';
import { withTempDir } from '../helpers/tmp.js';

const TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A randomBytes stub that hands out `bytes` in order (cycling), and records how many it gave. */
function scripted(bytes: number[]): { rng: (n: number) => Uint8Array; given: () => number } {
  let i = 0;
  return {
    rng: (n) => Uint8Array.from({ length: n }, () => bytes[i++ % bytes.length]!),
    given: () => i,
  };
}

test('bootstrap tokens match kubeadm’s format (1000 draws) and parse back', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const t = generateBootstrapToken(randomBytes);
    assert.match(t.value, TOKEN_RE);
    assert.equal(t.value, `${t.id}.${t.secret}`);
    assert.deepEqual(parseBootstrapToken(t.value), t);
    seen.add(t.value);
  }
  assert.equal(seen.size, 1000);
  for (const bad of ['abcdef.0123456789abcdeF', 'abcde.0123456789abcdef', 'abcdef-0123456789abcdef', ' abcdef.0123456789abcdef', ''])
    assert.equal(parseBootstrapToken(bad), undefined, bad);
});

test('bytes 252..255 are rejected, never folded in with % 36 (no modulo bias)', () => {
  // 255 % 36 = 3 ('d') and 252 % 36 = 0 ('a'): if either were used the token would start with them.
  const { rng } = scripted([255, 252, 253, 254, ...Array.from({ length: 22 }, (_, i) => i)]);
  const t = generateBootstrapToken(rng);
  assert.equal(t.value, 'abcdef.ghijklmnopqrstuv');

  // A stream of only rejectable bytes, then good ones: the generator keeps asking.
  const s = scripted([...Array(40).fill(255), ...Array.from({ length: 22 }, () => 35)]);
  assert.equal(generateBootstrapToken(s.rng).value, '999999.9999999999999999');
  assert.ok(s.given() >= 62);

  // Every byte value once: the 252 accepted ones cover each character exactly 7 times.
  const all = scripted(Array.from({ length: 256 }, (_, i) => i));
  const chars = randomTokenChars(252, all.rng);
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 36);
  for (const c of ALPHABET) assert.equal(counts.get(c), 7, c);
});

test('token characters are roughly uniform over many draws (chi-square)', () => {
  const counts = new Map<string, number>(ALPHABET.split('').map((c) => [c, 0]));
  let n = 0;
  for (let i = 0; i < 20000; i++) {
    for (const c of generateBootstrapToken(randomBytes).value.replace('.', '')) {
      counts.set(c, counts.get(c)! + 1);
      n++;
    }
  }
  const expected = n / 36;
  const chi2 = [...counts.values()].reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
  // 35 degrees of freedom: p = 0.0001 is at about 73; a biased generator (a–d 8/7 as likely) scores thousands.
  assert.ok(chi2 < 80, `chi-square ${chi2.toFixed(1)}`);
});

test('serial numbers are positive and at most 20 bytes, whatever the random bytes', () => {
  for (const fill of [0x00, 0xff, 0x80, 0x7f]) {
    const hex = randomSerial((n) => new Uint8Array(n).fill(fill));
    assert.equal(hex.length, 32);
    assert.ok(parseInt(hex.slice(0, 2), 16) >= 0x40 && parseInt(hex.slice(0, 2), 16) < 0x80, hex);
  }
});

// One PKI for the openssl checks below.
const NOW = new Date();
let pki: Promise<ClusterPki> | undefined;
const thePki = (): Promise<ClusterPki> => (pki ??= createClusterPki({ now: NOW, randomBytes }));

/** Writes the PKI as kubeadm's file names into `dir`. */
function writePki(dir: string, p: ClusterPki): void {
  const files: Record<string, string> = {
    'ca.crt': p.ca.cert,
    'ca.key': p.ca.key,
    'front-proxy-ca.crt': p.frontProxyCa.cert,
    'front-proxy-ca.key': p.frontProxyCa.key,
    'etcd-ca.crt': p.etcdCa.cert,
    'etcd-ca.key': p.etcdCa.key,
    'admin.crt': p.admin.cert,
    'admin.key': p.admin.key,
    'sa.key': p.sa.key,
    'sa.pub': p.sa.pub,
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 });
}

const ok = (r: { status: number | null; stdout: string; stderr: string }): string => {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

test('openssl: each CA is a self-signed ECDSA P-256 CA with CA:TRUE and Certificate Sign, valid 10 years', async () => {
  const p = await thePki();
  await withTempDir((dir) => {
    writePki(dir, p);
    for (const [file, cn] of [['ca.crt', 'kubernetes'], ['front-proxy-ca.crt', 'front-proxy-ca'], ['etcd-ca.crt', 'etcd-ca']] as const) {
      const text = ok(run('openssl', ['x509', '-noout', '-text', '-in', file], { cwd: dir }));
      assert.match(text, /Basic Constraints: critical\s+CA:TRUE/, file);
      assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign/, file);
      assert.match(text, /Subject Key Identifier/, file);
      assert.match(text, /Public-Key: \(256 bit\)/, file);
      assert.match(text, /NIST CURVE: P-256/, file);
      assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/, file);
      assert.match(text, new RegExp(`Subject: CN = ${cn}\\n`), file);
      assert.match(text, new RegExp(`Issuer: CN = ${cn}\\n`), file);
      ok(run('openssl', ['verify', '-CAfile', file, file], { cwd: dir })); // self-signed, trusted as its own root
      const dates = ok(run('openssl', ['x509', '-noout', '-startdate', '-enddate', '-in', file], { cwd: dir }));
      const start = Date.parse(/notBefore=(.*)/.exec(dates)![1]!);
      const end = Date.parse(/notAfter=(.*)/.exec(dates)![1]!);
      assert.equal(Math.floor(NOW.getTime() / 1000) - start / 1000, 5 * 60, 'backdated 5 minutes like kubeadm');
      assert.equal(end / 1000 - Math.floor(NOW.getTime() / 1000), 3650 * 24 * 3600, '10 × 365 days like kubeadm');
      const serial = /serial=([0-9A-F]+)/.exec(ok(run('openssl', ['x509', '-noout', '-serial', '-in', file], { cwd: dir })))![1]!;
      assert.ok(serial.length <= 40 && parseInt(serial[0]!, 16) < 8, `serial ${serial} positive, ≤ 20 bytes`);
    }
  });
});

test('openssl: admin.crt is signed by ca.crt, CN=kubernetes-admin O=kubeadm:cluster-admins, clientAuth, 1 year', async () => {
  const p = await thePki();
  await withTempDir((dir) => {
    writePki(dir, p);
    assert.equal(ok(run('openssl', ['verify', '-CAfile', 'ca.crt', 'admin.crt'], { cwd: dir })).trim(), 'admin.crt: OK');
    assert.notEqual(run('openssl', ['verify', '-CAfile', 'etcd-ca.crt', 'admin.crt'], { cwd: dir }).status, 0, 'not by another CA');
    const subject = ok(run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', 'admin.crt'], { cwd: dir })).trim();
    assert.equal(subject, 'subject=CN=kubernetes-admin,O=kubeadm:cluster-admins');
    const text = ok(run('openssl', ['x509', '-noout', '-text', '-in', 'admin.crt'], { cwd: dir }));
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /Extended Key Usage:\s+TLS Web Client Authentication\n/);
    const aki = /Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)![1];
    const caText = ok(run('openssl', ['x509', '-noout', '-text', '-in', 'ca.crt'], { cwd: dir }));
    assert.equal(aki, /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)![1]);
    const dates = ok(run('openssl', ['x509', '-noout', '-enddate', '-in', 'admin.crt'], { cwd: dir }));
    assert.equal(Date.parse(/notAfter=(.*)/.exec(dates)![1]!) / 1000 - Math.floor(NOW.getTime() / 1000), 365 * 24 * 3600);
  });
});

test('openssl: every key matches its certificate; keys are SEC 1 EC P-256 (as kubeadm writes them); sa.pub is sa.key’s public half', async () => {
  const p = await thePki();
  await withTempDir((dir) => {
    writePki(dir, p);
    for (const name of ['ca', 'front-proxy-ca', 'etcd-ca', 'admin']) {
      const fromKey = ok(run('openssl', ['pkey', '-in', `${name}.key`, '-pubout'], { cwd: dir }));
      const fromCert = ok(run('openssl', ['x509', '-pubkey', '-noout', '-in', `${name}.crt`], { cwd: dir }));
      assert.equal(fromKey, fromCert, name);
    }
    for (const key of [p.ca.key, p.frontProxyCa.key, p.etcdCa.key, p.admin.key, p.sa.key]) assert.match(key, /^-----BEGIN EC PRIVATE KEY-----\n/);
    for (const name of ['ca.key', 'sa.key']) {
      const text = ok(run('openssl', ['ec', '-check', '-noout', '-text', '-in', name], { cwd: dir }));
      assert.match(text, /Private-Key: \(256 bit\)[\s\S]*NIST CURVE: P-256/, name);
    }
    assert.equal(ok(run('openssl', ['pkey', '-in', 'sa.key', '-pubout'], { cwd: dir })), p.sa.pub);
    assert.match(p.sa.pub, /^-----BEGIN PUBLIC KEY-----\n/);
  });
});

test('caCertHash equals the openssl pipeline kubeadm documents', async () => {
  const p = await thePki();
  await withTempDir((dir) => {
    writePki(dir, p);
    const out = ok(run('sh', ['-c', 'openssl x509 -pubkey -noout -in ca.crt | openssl pkey -pubin -outform DER | sha256sum'], { cwd: dir }));
    assert.equal(caCertHash(p.ca.cert), `sha256:${out.split(' ')[0]}`);
    assert.match(caCertHash(p.ca.cert), /^sha256:[0-9a-f]{64}$/);
  });
});

test('an admin certificate can be renewed for its existing key from the stored CA', async () => {
  const p = await thePki();
  const later = new Date(NOW.getTime() + 400 * 24 * 3600 * 1000);
  const renewed = await createAdminCert(p.ca, { now: later, randomBytes, existingKey: p.admin.key });
  assert.equal(renewed.key, p.admin.key);
  assert.notEqual(renewed.cert, p.admin.cert);
  await withTempDir((dir) => {
    writePki(dir, p);
    writeFileSync(join(dir, 'renewed.crt'), renewed.cert);
    const at = String(Math.floor(later.getTime() / 1000));
    assert.equal(ok(run('openssl', ['verify', '-attime', at, '-CAfile', 'ca.crt', 'renewed.crt'], { cwd: dir })).trim(), 'renewed.crt: OK');
    assert.equal(
      ok(run('openssl', ['x509', '-pubkey', '-noout', '-in', 'renewed.crt'], { cwd: dir })),
      ok(run('openssl', ['pkey', '-in', 'admin.key', '-pubout'], { cwd: dir })),
    );
  });
});
