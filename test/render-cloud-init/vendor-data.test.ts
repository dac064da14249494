// The cluster's vendor-data (kubebake's runtime for first-boot hosts): the same for every host,
// no secret in it, 0644, covered by the instance-id, and an empty cloud-config when a baked image
// carries the runtime. How cloud-init merges it: vendor-merge.test.ts and test/e2e/first-boot.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { HostManifestBuilder } from '../../src/manifest/host-manifest.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import { reportKey } from '../../src/plan/report-keys.js';
import { metaDataDigest, vendorDataDigest } from '../../src/render/cloud-init/meta-data.js';
import { VENDOR_MERGE } from '../../src/render/cloud-init/vendor-data.js';
import { verifyVendorData } from '../../src/verify/verify.js';
import { runKubebake } from '../helpers/cli.js';
import { PROFILES, renderProfile, text } from '../helpers/cluster.js';
import { repoPath } from '../helpers/repo.js';

for (const name of PROFILES) {
  test(`profile ${name}: one vendor-data for every host, 0644, without a secret; the runtime with image: first-boot, empty with image: baked`, async () => {
    const { plan, tree } = await renderProfile(name);
    const vendor = new Set(plan.nodes.map((n) => text(tree, `hosts/${n.name}/vendor-data`)));
    assert.equal(vendor.size, 1, 'the same vendor-data for every host');
    const [v] = vendor;
    for (const n of plan.nodes) assert.equal(tree.get(`hosts/${n.name}/vendor-data`)!.mode, 0o644);
    const s = plan.secrets;
    const secrets = [s.token.value, s.reportSecret, s.ca.key, s.etcdCa.key, s.admin.key, ...plan.nodes.map((n) => reportKey(s.reportSecret, n.name))];
    for (const secret of secrets) assert.ok(!v!.includes(secret.trim()), `${name}: a secret in vendor-data`);
    assert.doesNotMatch(v!, /PRIVATE KEY/);
    const doc = parse(v!, { version: '1.1' }) as { merge_how?: string; merge_type?: string; write_files?: { path: string; content: string }[] };
    if (plan.image === 'baked') {
      assert.deepEqual(doc, {});
      return;
    }
    assert.equal(doc.merge_how, VENDOR_MERGE);
    assert.equal(doc.merge_type, VENDOR_MERGE, 'merge_type survives cloud-init\'s part handler (render/cloud-init/vendor-data.ts)');
    const paths = doc.write_files!.map((f) => f.path);
    for (const p of [HOST_PATHS.library, HOST_PATHS.firstboot, HOST_PATHS.firstbootUnit, HOST_PATHS.runtimeDigest]) assert.ok(paths.includes(p), `${name}: ${p}`);
    // The digest it records is the one every host's user-data checks.
    const digest = doc.write_files!.find((f) => f.path === HOST_PATHS.runtimeDigest)!.content.trim();
    for (const n of plan.nodes) assert.ok(text(tree, `hosts/${n.name}/user-data`).includes(`= ${digest} ]`), n.name);
    // No host's user-data carries a runtime file with the runtime's content.
    for (const n of plan.nodes) {
      const ud = parse(text(tree, `hosts/${n.name}/user-data`), { version: '1.1' }) as { write_files: { path: string; content: string }[] };
      for (const f of ud.write_files) assert.ok(!doc.write_files!.some((r) => r.path === f.path && r.content === f.content), `${n.name}: ${f.path} twice`);
    }
  });
}

test('verify refuses a vendor runtime that would carry a secret (every host gets it, 0644)', async () => {
  const { plan } = await renderProfile('default');
  const vendor = new HostManifestBuilder(plan, plan.secrets).vendor!;
  assert.deepEqual(verifyVendorData(vendor), []);
  const leaky = { ...vendor, files: [...vendor.files, { path: '/etc/kubebake/x', mode: '0644' as const, content: plan.secrets.ca.key, from: [] }] };
  assert.deepEqual(verifyVendorData(leaky).map((d) => d.code), ['render.key-leak']);
  const token = { ...vendor, files: [...vendor.files, { path: '/etc/kubebake/t', mode: '0644' as const, content: `${plan.secrets.token.value}\n`, from: [] }] };
  assert.deepEqual(verifyVendorData(token).map((d) => d.code), ['render.key-leak']);
  // Inside a line too (a join command, a YAML value), not only alone on one.
  const inline = { ...vendor, files: [...vendor.files, { path: '/etc/kubebake/j', mode: '0644' as const, content: `kubeadm join x --token ${plan.secrets.token.value} --discovery-token-ca-cert-hash y\n`, from: [] }] };
  assert.deepEqual(verifyVendorData(inline).map((d) => d.code), ['render.key-leak']);
});

test("meta-data's instance-id covers the vendor-data (a new runtime is a new instance)", async () => {
  assert.notEqual(metaDataDigest('u', 'n', vendorDataDigest('v1')), metaDataDigest('u', 'n', vendorDataDigest('v2')));
  // Each host's instance-id, recomputed here from its three documents as files on disk.
  const { plan, tree } = await renderProfile('default');
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  for (const n of plan.nodes) {
    const doc = (f: string): string => text(tree, `hosts/${n.name}/${f}`);
    const expected = sha(`${doc('user-data')}\0${doc('network-config')}\0${sha(doc('vendor-data'))}`).slice(0, 12);
    assert.equal((parse(doc('meta-data')) as Record<string, string>)['instance-id'], `${n.name}-${expected}`);
  }
});

test('a baked cluster renders (its vendor-data is an empty cloud-config, which verify accepts in a fresh process)', () => {
  const r = runKubebake(['render', 'cloud-init', '-f', repoPath('profiles', 'baked.yaml'), '--check']);
  assert.equal(r.status, 0, r.stderr);
});
