// The render-time verification: real problems in generated output are errors that point at the
// topology line they come from, and nothing is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildHostManifests } from '../../src/manifest/host-manifest.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import { checkKubeadmConfig } from '../../src/verify/kubeadm-config.js';
import { verifyHosts, verifyRender } from '../../src/verify/verify.js';
import { renderCloudInit } from '../../src/render/cloud-init/cluster.js';
import { renderUserData } from '../../src/render/cloud-init/user-data.js';
import { checkCloudConfig } from '../../src/verify/cloud-config.js';
import { positionDiagnostics } from '../../src/topology/position.js';
import { PROFILES, renderPlan } from '../helpers/cluster.js';
import { profile, repoPath } from '../helpers/repo.js';

for (const name of PROFILES) {
  test(`${name}: verifies clean`, async () => {
    assert.deepEqual(verifyRender(renderCloudInit(await renderPlan(profile(name)))), []);
  });
}

test("cloud-init's schema, as compiled for kubebake's keys, still refuses what upstream refuses", () => {
  assert.deepEqual(checkCloudConfig({ hostname: 'a', runcmd: [['true']] }), []);
  assert.ok(checkCloudConfig({ hostname: 'a', runcmds: [['true']] }).some((p) => p.path === '/'), 'a misspelled top-level key');
  assert.ok(checkCloudConfig({ write_files: [{ path: '/x', content: 'y', permission: '0644' }] }).some((p) => p.path === '/write_files/0'), 'a misspelled write_files field');
  assert.ok(checkCloudConfig({ runcmd: 'reboot' }).length > 0, 'a wrong type');
});

test('a problem traced to a topology field is positioned at its line', async () => {
  const file = repoPath('profiles', 'default.yaml');
  const source = readFileSync(file, 'utf8');
  const [d] = positionDiagnostics(source, file, [{ severity: 'error', code: 'x', message: 'm', path: ['hosts', 3] }]);
  const line = source.split('\n')[d!.line! - 1]!;
  assert.match(line, /worker1/, `line ${d!.line}: ${line}`);
});

test("kubeadm's field tables refuse what kubeadm's strict decoding refuses", () => {
  const join = `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.1:6443
    token: abcdef.0123456789abcdef
    caCertHashes: [sha256:00]
nodeRegistration:
  name: w1
  kubeletExtraArgs:
    - { name: node-ip, value: 10.0.0.2 }
`;
  assert.deepEqual(checkKubeadmConfig(join), []);
  assert.deepEqual(checkKubeadmConfig(join.replace('  name: w1', '  nmae: w1')), [{ field: 'nodeRegistration.nmae', message: 'unknown field "nodeRegistration.nmae"' }]);
  // v1beta4 made kubeletExtraArgs a list of {name, value}; the v1beta3 map form is refused.
  assert.equal(checkKubeadmConfig(join.replace('    - { name: node-ip, value: 10.0.0.2 }', '    node-ip: 10.0.0.2'))[0]?.field, 'nodeRegistration.kubeletExtraArgs');
  assert.equal(checkKubeadmConfig(join.replace('name: w1', 'name: no'))[0]?.field, 'nodeRegistration.name', 'YAML 1.1 reads "no" as a bool');
  assert.match(checkKubeadmConfig(join.replace('kind: JoinConfiguration', 'kind: JoinConfig'))[0]?.message ?? '', /no kind "JoinConfig"/);
  assert.deepEqual(checkKubeadmConfig('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nanything: 1\n'), [], 'other groups are not checked');
  assert.match(checkKubeadmConfig('apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n  - { token: a, ttl: 1 day }\n')[0]?.message ?? '', /invalid duration/);
});

test('a kubeadm field kubeadm does not know fails the render, positioned at the host in the topology', async () => {
  const plan = await renderPlan(profile('default'));
  const manifests = buildHostManifests(plan, plan.secrets).map((m) =>
    m.node.name !== 'worker1'
      ? m
      : { ...m, files: m.files.map((f) => (f.path === HOST_PATHS.kubeadmConfig ? { ...f, content: f.content.replace('criSocket:', 'criSoket:') } : f)) },
  );
  const problems = verifyHosts(manifests.map((manifest) => ({ manifest, userData: renderUserData(manifest) })));
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0]!.code, 'render.kubeadm-fields');
  assert.match(problems[0]!.message, /worker1's kubeadm configuration: unknown field "nodeRegistration.criSoket"/);
  const file = repoPath('profiles', 'default.yaml');
  const source = readFileSync(file, 'utf8');
  const [d] = positionDiagnostics(source, file, problems);
  assert.match(source.split('\n')[d!.line! - 1]!, /worker1/);
});
