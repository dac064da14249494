// The shipped profiles are ready topologies: each validates with zero errors, and each warns
// exactly where warning is its point (a legacy OS, Weave Net, a single load balancer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { loadTopology } from '../../src/topology/load.js';
import { fromRoot } from '../helpers/paths.js';

const PROFILES = readdirSync(fromRoot('profiles')).filter((f) => f.endsWith('.yaml')).sort();
const load = (file: string) => loadTopology(readFileSync(fromRoot('profiles', file), 'utf8'), `profiles/${file}`);

/**
 * The warnings each profile is meant to raise (profiles not listed only need zero errors), besides
 * the one every profile raises: its SSH key is kubebake's example, which the operator replaces.
 */
const EXPECTED_WARNINGS: Record<string, string[]> = {
  'ubuntu-20-04.yaml': ['os-eol', 'single-load-balancer', 'kubernetes-eol'],
  'ubuntu-22-04-flannel.yaml': [],
  // Debian 12's standard support ended 2026-07-11; Kubernetes 1.35, which Cilium 1.19.3 is tested against.
  'debian-12-cilium.yaml': ['os-eol'],
  'debian-13.yaml': [],
  'ubuntu-26-04-ha.yaml': [],
  'weave-legacy.yaml': ['cni-weave-unmaintained'],
  'baked.yaml': [],
  // One HAProxy, as bare-metal labs often start; Debian 12 (past its standard support).
  'pxe.yaml': ['single-load-balancer', 'os-eol'],
};

test('the extra profiles exist', () => {
  for (const p of Object.keys(EXPECTED_WARNINGS)) assert.ok(PROFILES.includes(p), p);
});

for (const p of PROFILES) {
  test(`profile ${p} validates with zero errors`, () => {
    const r = load(p);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors.map((d) => `${d.line}:${d.col} ${d.message}`), []);
    assert.ok(r.topology);
    const expected = EXPECTED_WARNINGS[p];
    if (expected) assert.deepEqual(r.diagnostics.map((d) => d.code).sort(), [...expected, 'ssh-key-unreadable'].sort());
  });
}

test('the HA profile: 3 control planes, 3 workers, two load balancers sharing a VIP, and nothing to warn about but the example SSH key', () => {
  const r = load('ubuntu-26-04-ha.yaml');
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['ssh-key-unreadable']);
  const t = r.topology!;
  const count = (role: string): number => t.hosts.filter((h) => h.role === role).length;
  assert.deepEqual([count('control-plane'), count('worker'), count('load-balancer')], [3, 3, 2]);
  assert.equal(t.apiEndpoint.loadBalancer, undefined);
  assert.ok(t.apiEndpoint.vip?.address);
  assert.equal(t.os, 'ubuntu-26.04');
});

test('the profiles are what their names say', () => {
  const flannel = load('ubuntu-22-04-flannel.yaml').topology!;
  assert.deepEqual([flannel.os, flannel.cni.plugin, flannel.network.podSubnet], ['ubuntu-22.04', 'flannel', '10.244.0.0/16']);
  const cilium = load('debian-12-cilium.yaml').topology!;
  assert.deepEqual([cilium.os, cilium.cni.plugin], ['debian-12', 'cilium']);
  const trixie = load('debian-13.yaml').topology!;
  assert.deepEqual([trixie.os, trixie.cni.plugin, trixie.apiEndpoint.vip?.address], ['debian-13', 'calico', '10.40.0.100']);
  const focal = load('ubuntu-20-04.yaml').topology!;
  assert.equal(focal.os, 'ubuntu-20.04');
  const weave = load('weave-legacy.yaml').topology!;
  assert.equal(weave.cni.plugin, 'weave');
  const baked = load('baked.yaml').topology!;
  assert.deepEqual([baked.image, baked.packer.builder], ['baked', 'proxmox-clone']);
});

test('every profile starts with the schema modeline and a comment saying what it is', () => {
  for (const p of PROFILES) {
    const lines = readFileSync(fromRoot('profiles', p), 'utf8').split('\n');
    if (p === 'seed.yaml') continue; // the how-to's cluster predates the modeline
    assert.equal(lines[0], '# yaml-language-server: $schema=../kubebake.schema.json', p);
    assert.match(lines[1]!, /^# \S/, p);
  }
});

test("the README's topology example is a valid topology (no errors; warnings are what it illustrates)", () => {
  const readme = readFileSync(fromRoot('README.md'), 'utf8');
  const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, 'README.md has a ```yaml example');
  const result = loadTopology(example, 'README.md');
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(result.topology);
});

test('kubebake.schema.json (what the profiles point editors at) is exactly what `kubebake schema` prints', async () => {
  const { topologySchema } = await import('../../src/topology/schema.js');
  assert.equal(readFileSync(fromRoot('kubebake.schema.json'), 'utf8'), JSON.stringify(topologySchema, null, 2) + '\n', 'run: npm run kubebake -- schema > kubebake.schema.json');
});
