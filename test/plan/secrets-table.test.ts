// The secrets table (plan/secrets.ts) against facts written out here: kubeadm's file names for the
// certificates control planes share, and the bytes of the fixture store on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryText, SHARED_PKI, STORE_ENTRIES, STORE_FOLDERS } from '../../src/plan/secrets.js';
import { FIXTURE_SECRETS_DIR, fixtureSecrets } from '../helpers/cluster.js';

test('control planes receive what kubeadm shares between them, under its names, keys private', () => {
  // kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go: CACertName, CAKeyName,
  // FrontProxyCACertName, FrontProxyCAKeyName, EtcdCACertName, EtcdCAKeyName,
  // ServiceAccountPrivateKeyName, ServiceAccountPublicKeyName (the certificates `kubeadm join
  // --control-plane` expects to find, cmd/kubeadm/app/phases/copycerts).
  assert.deepEqual(
    SHARED_PKI.map((e) => [e.host, e.secret]),
    [
      ['ca.crt', false],
      ['ca.key', true],
      ['front-proxy-ca.crt', false],
      ['front-proxy-ca.key', true],
      ['etcd/ca.crt', false],
      ['etcd/ca.key', true],
      ['sa.key', true],
      ['sa.pub', false],
    ],
  );
});

test('each entry\'s text is the fixture store\'s file byte for byte, and the store has no other folders', async () => {
  const secrets = await fixtureSecrets();
  for (const e of STORE_ENTRIES) assert.equal(entryText(secrets, e), readFileSync(join(FIXTURE_SECRETS_DIR, e.store), 'utf8'), e.store);
  assert.deepEqual(STORE_FOLDERS, ['', 'pki', 'pki/etcd']);
});

test('only the admin credentials stay with the operator, the token goes into kubeadm configs, the report secret to the server', () => {
  const by = (r: string): string[] => STORE_ENTRIES.filter((e) => e.receivers === r).map((e) => e.store);
  assert.deepEqual(by('operator'), ['pki/admin.crt', 'pki/admin.key']);
  assert.deepEqual(by('nodes'), ['token']);
  assert.deepEqual(by('server'), ['report.secret']);
});
