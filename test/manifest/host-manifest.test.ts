// Meaning, asserted on the manifests (what each host gets), with expectations written here from
// upstream facts, not computed by the code under test. Goldens only detect change; these say
// what must hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { buildHostManifests, type HostManifest } from '../../src/manifest/host-manifest.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import { renderNetworkConfig } from '../../src/render/cloud-init/network-config.js';
import { renderUserData } from '../../src/render/cloud-init/user-data.js';
import { fixtureSecrets, PROFILES, renderPlan, text } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';

const contentOf = (m: HostManifest, path: string): string | undefined => m.files.find((f) => f.path === path)?.content;

async function manifestsOf(name: string) {
  const plan = await renderPlan(profile(name));
  return { plan, manifests: buildHostManifests(plan, await fixtureSecrets()) };
}

for (const name of PROFILES) {
  test(`${name}: each host's seed is its manifest serialised whole (shared parts and slot templates change no byte)`, async () => {
    const { plan, manifests } = await manifestsOf(name);
    const tree = renderCloudInitTree(plan);
    for (const m of manifests) {
      assert.equal(text(tree, `hosts/${m.node.name}/user-data`), renderUserData(m), `${m.node.name}: user-data`);
      assert.equal(text(tree, `hosts/${m.node.name}/network-config`), renderNetworkConfig(plan, m.node), `${m.node.name}: network-config`);
    }
  });

  test(`${name}: join material by role — workers hold only the token and the CA hash, load balancers nothing`, async () => {
    const { manifests } = await manifestsOf(name);
    const secrets = await fixtureSecrets();
    for (const m of manifests) {
      const all = m.files.map((f) => f.content).join('\n');
      if (m.node.role === 'worker') {
        assert.deepEqual(m.join, { kind: 'worker', discovery: { token: secrets.token.value, caCertHash: secrets.caCertHash } });
        assert.doesNotMatch(all, /PRIVATE KEY/, `${m.node.name}: no private key`);
      } else if (m.node.role === 'load-balancer') {
        assert.deepEqual(m.join, { kind: 'none' });
        assert.ok(!all.includes(secrets.token.secret), `${m.node.name}: no token`);
        assert.doesNotMatch(all, /PRIVATE KEY/);
      } else {
        assert.equal(m.join.kind, m.node.initNode ? 'init' : 'control-plane');
        // kubeadm's shared certificates (kubeadm docs, "certificates shared between control plane nodes").
        const shared = m.files.filter((f) => f.path.startsWith(`${HOST_PATHS.pkiStaging}/`)).map((f) => f.path.slice(HOST_PATHS.pkiStaging.length + 1));
        assert.deepEqual(shared.sort(), ['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
        for (const f of m.files.filter((f) => /PRIVATE KEY/.test(f.content))) assert.equal(f.mode, '0600', f.path);
        assert.ok(!m.files.some((f) => f.content.includes(secrets.admin.key)), 'the admin key stays with the operator');
      }
    }
  });

  test(`${name}: kubeadm configs — token usable for joins, no restricted label in kubelet's flags, discovery = init`, async () => {
    const { plan, manifests } = await manifestsOf(name);
    const secrets = await fixtureSecrets();
    for (const m of manifests.filter((m) => m.node.role !== 'load-balancer')) {
      const docs = parseAllDocuments(contentOf(m, HOST_PATHS.kubeadmConfig)!).map((d) => d.toJS({ maxAliasCount: 0 }) as Record<string, any>);
      const first = docs[0]!;
      if (m.node.initNode) {
        const token = first.bootstrapTokens[0];
        assert.equal(token.token, secrets.token.value);
        // A joining node authenticates with the token; kubeadm's default usages are both.
        assert.ok(token.usages.includes('authentication') && token.usages.includes('signing'), JSON.stringify(token.usages));
        assert.deepEqual(token.groups, ['system:bootstrappers:kubeadm:default-node-token']);
        const cluster = docs.find((d) => d.kind === 'ClusterConfiguration')!;
        assert.equal(cluster.controlPlaneEndpoint, plan.endpoint.hostPort);
      } else {
        assert.equal(first.kind, 'JoinConfiguration');
        assert.deepEqual(first.discovery.bootstrapToken, { apiServerEndpoint: plan.endpoint.hostPort, token: secrets.token.value, caCertHashes: [secrets.caCertHash] });
        assert.equal(first.controlPlane !== undefined, m.node.role === 'control-plane');
      }
      // NodeRestriction refuses labels under kubernetes.io / k8s.io except node.* and kubelet.*.
      const args = first.nodeRegistration.kubeletExtraArgs as { name: string; value: string }[] | Record<string, string>;
      const labels = Array.isArray(args) ? args.find((a) => a.name === 'node-labels')?.value : args['node-labels'];
      for (const label of labels?.split(',') ?? []) {
        const prefix = label.split('=')[0]!.split('/')[0]!;
        assert.ok(!/(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix) || /(^|\.)(node|kubelet)\.kubernetes\.io$/.test(prefix), `${m.node.name}: kubelet may not set ${label}`);
      }
    }
  });

  test(`${name}: load balancers send the API to exactly the control planes; Kubernetes nodes let routed pod traffic through`, async () => {
    const { plan, manifests } = await manifestsOf(name);
    const cps = plan.nodes.filter((n) => n.role === 'control-plane').map((n) => `${n.ip}:6443`).sort();
    for (const m of manifests) {
      if (m.node.role === 'load-balancer') {
        const cfg = contentOf(m, HOST_PATHS.haproxyStaged)!;
        const backend = /^backend kubernetes-control-planes\n((?:    .*\n)+)/m.exec(cfg)![1]!;
        assert.deepEqual([...backend.matchAll(/^\s+server \S+ (\S+)/gm)].map((x) => x[1]).sort(), cps);
      } else if (plan.firewallMode === 'open-required-ports') {
        // Pods' traffic is forwarded through the node: the host firewall has no say in it.
        const ruleset = contentOf(m, HOST_PATHS.firewallRuleset)!;
        assert.deepEqual([...ruleset.matchAll(/hook (\w+)/g)].map((x) => x[1]), ['input'], m.node.name);
      }
    }
  });
}

test("a host's user-data does not grow with the number of workers; /etc/hosts lists all only in small clusters", async () => {
  const base = profile('default');
  const grown = (workers: number) => ({
    ...base,
    network: { ...base.network, nodeSubnet: '10.20.0.0/16', podSubnet: '10.128.0.0/10', etcHosts: 'auto' as const },
    hosts: [
      ...base.hosts.filter((h) => h.role !== 'worker'),
      ...Array.from({ length: workers }, (_, i) => ({ name: `worker${i + 1}`, role: 'worker' as const, ip: `10.20.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` })),
    ],
  });
  const sizes = async (workers: number) => {
    const plan = await renderPlan(grown(workers));
    const tree = renderCloudInitTree(plan);
    return { cp: text(tree, 'hosts/cp2/user-data').length, worker: text(tree, 'hosts/worker1/user-data').length, hosts: parseYaml(text(tree, 'hosts/worker1/user-data')) };
  };
  const small = await sizes(40);
  const large = await sizes(2000);
  assert.equal(large.cp, small.cp);
  assert.equal(large.worker, small.worker);
  const etcHosts = (small.hosts.write_files as { path: string; content: string }[]).find((f) => f.path === '/etc/hosts')!.content;
  assert.match(etcHosts, /^10\.20\.1\.1 worker1\.lab\.example worker1$/m, 'a worker resolves itself');
  assert.doesNotMatch(etcHosts, /worker2/, 'and no other worker');
  assert.match(etcHosts, /^10\.20\.0\.11 cp1\.lab\.example cp1$/m, 'and the control planes');
  const few = renderCloudInitTree(await renderPlan(grown(3)));
  assert.match(text(few, 'hosts/worker1/user-data'), /10\.20\.1\.3 worker3/, 'a small cluster lists every host');
});

test('a store made with RSA keys (before kubebake used ECDSA) renders as it is; kubeadm is told its algorithm', async () => {
  const { loadOrCreateSecrets } = await import('../../src/store/secrets-store.js');
  const { repoPath } = await import('../helpers/repo.js');
  const { FIXTURE_NOW } = await import('../helpers/cluster.js');
  const rsa = await loadOrCreateSecrets(repoPath('test', 'fixtures', 'secrets-rsa'), { now: FIXTURE_NOW });
  assert.ok('secrets' in rsa);
  assert.match(rsa.secrets.ca.key, /^-----BEGIN RSA PRIVATE KEY-----/);
  const plan = await renderPlan(profile('default'));
  const init = buildHostManifests(plan, rsa.secrets).find((m) => m.node.initNode)!;
  const cluster = parseAllDocuments(contentOf(init, HOST_PATHS.kubeadmConfig)!).map((d) => d.toJS() as Record<string, unknown>).find((d) => d.kind === 'ClusterConfiguration')!;
  assert.equal(cluster.encryptionAlgorithm, 'RSA-2048');
  const ecdsa = buildHostManifests(plan, await fixtureSecrets()).find((m) => m.node.initNode)!;
  assert.match(contentOf(ecdsa, HOST_PATHS.kubeadmConfig)!, /^encryptionAlgorithm: ECDSA-P256$/m);
});
