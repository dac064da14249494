// `kubebake certs check`: the stored CAs and admin certificate, and the API server's serving
// certificate from a TLS handshake with the stand-in kube-apiserver, whose dates the test sets.
// A near-expiry admin certificate is issued in the test with openssl from the stored CA.
// Days left are whole days, rounded down, as kubeadm's check-expiration shows them (a 1-year
// certificate just made: 364d; kubernetes/website content/en/docs/tasks/administer-cluster/
// kubeadm/kubeadm-certs.md, "Check certificate expiration").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { startFakeApiServer } from '../helpers/fake-apiserver.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools } from '../helpers/tools.js';

const TOPOLOGY = repoPath('profiles', 'default.yaml');
const DAY = 86_400_000;
const skip = missingTools('openssl');

interface Row { name: string; status: string; daysLeft: number | null; notAfter: string | null; source: string; renew: string; detail?: string }

async function withCluster(fn: (out: string, pki: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const out = join(dir, 'out');
    const r = runKubebake(['render', 'cloud-init', '-f', TOPOLOGY, '-o', out, '--delivery', 'none']);
    assert.equal(r.status, 0, r.stderr);
    await fn(out, join(out, 'default', 'secrets', 'pki'));
  });
}

/** Re-issues admin.crt from the stored CA for the same key, valid `days` days (openssl, not kubebake). */
function reissueAdmin(pki: string, days: number): void {
  const csr = spawnSync('openssl', ['req', '-new', '-key', join(pki, 'admin.key'), '-subj', '/O=kubeadm:cluster-admins/CN=kubernetes-admin'], { encoding: 'utf8' });
  assert.equal(csr.status, 0, csr.stderr);
  const crt = spawnSync('openssl', ['x509', '-req', '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-set_serial', '0x5151', '-days', String(days)], { input: csr.stdout, encoding: 'utf8' });
  assert.equal(crt.status, 0, crt.stderr);
  writeFileSync(join(pki, 'admin.crt'), crt.stdout);
}

const ca = (pki: string): { cert: string; key: string } => ({ cert: readFileSync(join(pki, 'ca.crt'), 'utf8'), key: readFileSync(join(pki, 'ca.key'), 'utf8') });
const check = (out: string, extra: string[]) => runKubebakeAsync(['certs', 'check', '-f', TOPOLOGY, '-o', out, ...extra]);
const rows = (stdout: string): Row[] => (JSON.parse(stdout) as { certificates: Row[] }).certificates;

test('certs check: an admin certificate 10 days from its end warns (exit 5); the table shows each one with its days left', { skip }, () =>
  withCluster(async (out, pki) => {
    reissueAdmin(pki, 10);
    const api = await startFakeApiServer(ca(pki), { servingValidity: { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 200 * DAY + 3_600_000) } });
    try {
      const r = await check(out, ['--server', api.url]);
      assert.equal(r.status, 5, r.stderr);
      const line = (name: string): string => r.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
      assert.match(line('ca'), / 3649d +ok +.*secrets\/pki\/ca\.crt$/);
      assert.match(line('front-proxy-ca'), / 3649d +ok /);
      assert.match(line('etcd-ca'), / 3649d +ok +.*pki\/etcd\/ca\.crt$/);
      assert.match(line('admin (admin.conf)'), / 9d +expiring /);
      assert.match(line('apiserver'), new RegExp(` 200d +ok +127\\.0\\.0\\.1:${new URL(api.url).port} \\(TLS handshake\\)$`));
      assert.match(r.stdout, /not checked: kubelet certificates/);
      assert.match(r.stderr, /warning\[\(document\)\]: admin \(admin\.conf\) \(.*admin\.crt\) expires in 9 days/);
      assert.match(r.stderr, /hint: the next kubebake render .* re-issues it from the cluster CA once it has expired/);
      assert.equal(api.log.length, 0, 'a handshake, no request');
      // A larger threshold catches the API server too; a smaller one nothing.
      const json = await check(out, ['--server', api.url, '--warn-days', '365', '--json']);
      assert.equal(json.status, 5);
      assert.deepEqual(rows(json.stdout).map((c) => [c.name, c.status, c.daysLeft]), [
        ['ca', 'ok', 3649], ['front-proxy-ca', 'ok', 3649], ['etcd-ca', 'ok', 3649], ['admin (admin.conf)', 'expiring', 9], ['apiserver', 'expiring', 200],
      ]);
      assert.match(rows(json.stdout)[4]!.renew, /kubeadm certs renew all on every control plane/);
      assert.equal((await check(out, ['--server', api.url, '--warn-days', '5'])).status, 0);
    } finally {
      await api.close();
    }
  }));

test('certs check: an expired API server certificate is an error (exit 6), reported with its date and how to renew it', { skip }, () =>
  withCluster(async (out, pki) => {
    const ended = new Date(Date.now() - 2 * DAY);
    const api = await startFakeApiServer(ca(pki), { servingValidity: { notBefore: new Date(Date.now() - 400 * DAY), notAfter: ended } });
    try {
      const r = await check(out, ['--server', api.url]);
      assert.equal(r.status, 6, r.stderr);
      assert.match(r.stderr, new RegExp(`error\\[\\(document\\)\\]: apiserver \\(127\\.0\\.0\\.1:\\d+ \\(TLS handshake\\)\\) expired on ${ended.toISOString().slice(0, 16).replace('T', ' ')} UTC`));
      assert.match(r.stderr, /hint: kubeadm renews every control-plane certificate on each upgrade/);
      // An expired admin certificate too, read as it is (the store's loader would renew it).
      reissueAdmin(pki, 10);
      const json = await check(out, ['--server', api.url, '--json']);
      assert.equal(json.status, 6);
      assert.equal(rows(json.stdout)[4]!.status, 'expired');
      assert.ok(rows(json.stdout)[4]!.daysLeft! < 0);
    } finally {
      await api.close();
    }
  }));

test("certs check: another cluster's API server, and one that does not answer, cannot be checked (exit 1); the stored ones are reported all the same", { skip }, () =>
  withCluster(async (out) =>
    withCluster(async (_, otherPki) => {
      const other = await startFakeApiServer(ca(otherPki), { servingValidity: { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 300 * DAY) } });
      try {
        const r = await check(out, ['--server', other.url, '--json']);
        assert.equal(r.status, 1, r.stderr);
        const api = rows(r.stdout)[4]!;
        assert.equal(api.status, 'foreign');
        assert.match(api.detail!, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT_SIGNATURE/);
        assert.deepEqual(rows(r.stdout).slice(0, 4).map((c) => c.status), ['ok', 'ok', 'ok', 'ok']);
      } finally {
        await other.close();
      }
      const closed = createServer();
      await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
      const port = (closed.address() as { port: number }).port;
      await new Promise<void>((res) => closed.close(() => res()));
      const r = await check(out, ['--server', `https://127.0.0.1:${port}`]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`apiserver \\(127\\.0\\.0\\.1:${port} \\(TLS handshake\\)\\) could not be checked: ECONNREFUSED`));
      assert.match(r.stdout, /^ca .* 3649d +ok/m);
    }),
  ));

test('certs check: without --server, each control plane of the topology at <address>:6443', { skip: process.getuid?.() !== 0 ? 'needs root (a private network namespace)' : missingTools('unshare') }, () =>
  withCluster(async (out) => {
    // In a network namespace of its own (tests never reach the network): the profile's addresses
    // lead nowhere, and each control plane is reported as not answering.
    const r = spawnSync('unshare', ['--net', process.execPath, repoPath('bin', 'kubebake.js'), 'certs', 'check', '-f', TOPOLOGY, '-o', out, '--json', '--timeout', '2'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(rows(r.stdout).slice(4).map((c) => [c.name, c.source, c.status]), [
      ['apiserver cp1', '10.20.0.11:6443 (TLS handshake)', 'unreachable'],
      ['apiserver cp2', '10.20.0.12:6443 (TLS handshake)', 'unreachable'],
      ['apiserver cp3', '10.20.0.13:6443 (TLS handshake)', 'unreachable'],
    ]);
    assert.match(rows(r.stdout)[4]!.detail!, /^ENETUNREACH/);
  }));

test('certs check: no store is an input error; bad options are usage errors', () =>
  withTempDir(async (dir) => {
    const r = runKubebake(['certs', 'check', '-f', TOPOLOGY, '-o', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no secrets store in .*default\/secrets/);
    for (const bad of [['--warn-days', 'soon'], ['--warn-days', '-1'], ['--server', 'http://x:1'], ['--timeout', '0']]) {
      assert.equal(runKubebake(['certs', 'check', '-f', TOPOLOGY, '-o', dir, ...bad]).status, 2, bad.join(' '));
    }
  }));
