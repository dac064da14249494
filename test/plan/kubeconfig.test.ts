// admin.conf from the stored secrets: valid kubeconfig YAML whose credentials openssl accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Secrets } from '../../src/plan/secrets.js';
import { loadOrCreateSecrets } from '../../src/store/secrets-store.js';
import { renderAdminKubeconfig } from '../../src/config/kubeconfig.js';
import { run } from '../helpers/tools.js';
import { withTempDir } from '../helpers/tmp.js';

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}

const fromB64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

test('admin.conf is a kubeconfig whose client certificate verifies against its CA (openssl)', async () => {
  await withTempDir(async (tmp) => {
    const r = await loadOrCreateSecrets(join(tmp, 'secrets'), {});
    assert.ok(!('diagnostics' in r));
    const s: Secrets = r.secrets;
    const input = { clusterName: 'seed', server: 'https://10.2.47.80:6443', caCert: s.ca.cert, clientCert: s.admin.cert, clientKey: s.admin.key };
    const text = renderAdminKubeconfig(input);
    assert.equal(renderAdminKubeconfig(input), text, 'same secrets, same bytes');

    const kc = parse(text) as Kubeconfig;
    assert.equal(kc.apiVersion, 'v1');
    assert.equal(kc.kind, 'Config');
    assert.equal(kc['current-context'], 'kubernetes-admin@seed');
    assert.deepEqual(kc.contexts, [{ name: 'kubernetes-admin@seed', context: { cluster: 'seed', user: 'kubernetes-admin' } }]);
    assert.equal(kc.clusters.length, 1);
    assert.equal(kc.clusters[0]!.name, 'seed');
    assert.equal(kc.clusters[0]!.cluster.server, 'https://10.2.47.80:6443');
    assert.equal(kc.users[0]!.name, 'kubernetes-admin');

    const ca = fromB64(kc.clusters[0]!.cluster['certificate-authority-data']);
    const cert = fromB64(kc.users[0]!.user['client-certificate-data']);
    const key = fromB64(kc.users[0]!.user['client-key-data']);
    assert.equal(ca, s.ca.cert);
    assert.equal(cert, s.admin.cert);
    assert.equal(key, s.admin.key);

    writeFileSync(join(tmp, 'ca.crt'), ca);
    writeFileSync(join(tmp, 'client.crt'), cert);
    writeFileSync(join(tmp, 'client.key'), key, { mode: 0o600 });
    const v = run('openssl', ['verify', '-CAfile', 'ca.crt', '-purpose', 'sslclient', 'client.crt'], { cwd: tmp });
    assert.equal(v.stdout.trim(), 'client.crt: OK', v.stderr);
    assert.equal(
      run('openssl', ['pkey', '-in', 'client.key', '-pubout'], { cwd: tmp }).stdout,
      run('openssl', ['x509', '-pubkey', '-noout', '-in', 'client.crt'], { cwd: tmp }).stdout,
      'the key belongs to the certificate',
    );
  });
});

test('cluster names YAML 1.1 would misread stay strings (client-go parses kubeconfig with go-yaml)', () => {
  for (const name of ['yes', 'on', 'no', 'off', '0600']) {
    const text = renderAdminKubeconfig({ clusterName: name, server: 'https://lb:6443', caCert: 'C', clientCert: 'X', clientKey: 'K' });
    const kc = parse(text, { version: '1.1' }) as Kubeconfig;
    assert.equal(kc.clusters[0]!.name, name);
    assert.equal(kc.contexts[0]!.context.cluster, name);
    assert.equal(kc['current-context'], `kubernetes-admin@${name}`);
  }
});
