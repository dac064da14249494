// What makes the cluster come up unattended and safely: the join material, where it goes, and
// where it must never go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import { PROFILES, renderPlan, renderProfile, text } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { run, tempFiles } from '../helpers/tools.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';

const { kubeadmConfig: KUBEADM_CONFIG_PATH, pkiStaging: PKI_STAGING_DIR } = HOST_PATHS;

interface WriteFile { path: string; content: string; permissions: string }
const userData = (tree: Parameters<typeof text>[0], host: string): { write_files: WriteFile[]; runcmd: string[][] } =>
  parse(text(tree, `hosts/${host}/user-data`), { version: '1.1' });
const fileIn = (ud: { write_files: WriteFile[] }, path: string): WriteFile | undefined => ud.write_files.find((w) => w.path === path);
/** Every file the host's seed writes: its user-data's. */
const seedFiles = (tree: Parameters<typeof text>[0], host: string): { write_files: WriteFile[] } => ({ write_files: userData(tree, host).write_files });
const kubeadmDocs = (ud: { write_files: WriteFile[] }): Record<string, unknown>[] =>
  parseAllDocuments(fileIn(ud, KUBEADM_CONFIG_PATH)!.content).map((d) => d.toJS());

test('the worker join CA hash equals what openssl computes from the CA the control planes receive', async () => {
  const { plan, tree } = await renderProfile('seed');
  const cp = plan.nodes.find((n) => n.role === 'control-plane')!;
  const caPem = fileIn(userData(tree, cp.name), `${PKI_STAGING_DIR}/ca.crt`)!.content;
  const { dir, cleanup } = tempFiles({ 'ca.crt': caPem });
  let opensslHash: string;
  try {
    const r = run('sh', ['-c', `openssl x509 -pubkey -noout -in "${dir}/ca.crt" | openssl pkey -pubin -outform DER | sha256sum`]);
    assert.equal(r.status, 0, r.stderr);
    opensslHash = `sha256:${r.stdout.split(' ')[0]}`;
  } finally {
    cleanup();
  }
  for (const n of plan.nodes.filter((n) => n.role !== 'load-balancer' && !n.initNode)) {
    const [join] = kubeadmDocs(userData(tree, n.name)) as { discovery: { bootstrapToken: { caCertHashes: string[] } } }[];
    assert.deepEqual(join!.discovery.bootstrapToken.caCertHashes, [opensslHash], n.name);
  }
});

for (const name of PROFILES) {
  test(`profile ${name}: no private key reaches a worker or a load balancer (nor a token, the latter); control planes get the shared PKI 0600`, async () => {
    const { plan, tree } = await renderProfile(name);
    for (const n of plan.nodes) {
      const raw = text(tree, `hosts/${n.name}/user-data`);
      if (n.role === 'control-plane') {
        const ud = userData(tree, n.name);
        for (const key of ['ca.key', 'front-proxy-ca.key', 'etcd/ca.key', 'sa.key']) {
          const f = fileIn(ud, `${PKI_STAGING_DIR}/${key}`);
          assert.ok(f, `${n.name} lacks ${key}`);
          assert.equal(f.permissions, '0600');
          assert.match(f.content, /PRIVATE KEY/);
        }
      } else {
        assert.doesNotMatch(raw, /PRIVATE KEY/, `${n.name} (${n.role}) must not receive a private key`);
      }
      // A load balancer never joins the cluster: it gets no token either.
      if (n.role === 'load-balancer') assert.ok(!raw.includes(plan.secrets.token.secret), `${n.name} must not receive the bootstrap token`);
    }
  });

  test(`profile ${name}: every join goes through the load-balancer endpoint with a well-formed token`, async () => {
    const { plan, tree } = await renderProfile(name);
    const endpoint = plan.endpoint.hostPort;
    const lb = plan.nodes.find((n) => n.role === 'load-balancer')!;
    assert.ok(plan.vip ? endpoint.startsWith(plan.vip.address + ':') : endpoint.startsWith(lb.ip + ':'));
    const init = plan.nodes.filter((n) => n.initNode);
    assert.equal(init.length, 1, 'exactly one node runs kubeadm init');
    for (const n of plan.nodes.filter((n) => n.role !== 'load-balancer')) {
      const docs = kubeadmDocs(userData(tree, n.name)) as Record<string, any>[];
      if (n.initNode) {
        const [initCfg, cluster, kubelet] = docs;
        assert.equal(initCfg!.kind, 'InitConfiguration');
        assert.match(initCfg!.bootstrapTokens[0].token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        assert.equal(initCfg!.nodeRegistration.criSocket, 'unix:///var/run/crio/crio.sock');
        assert.equal(initCfg!.localAPIEndpoint.advertiseAddress, n.ip);
        assert.equal(cluster!.controlPlaneEndpoint, endpoint);
        assert.ok(cluster!.apiServer.certSANs.includes(plan.endpoint.address));
        assert.equal(cluster!.networking.podSubnet, plan.network.podSubnet);
        assert.equal(cluster!.kubernetesVersion, `v${plan.kubernetes.version}`);
        assert.equal(kubelet!.cgroupDriver, 'systemd');
        assert.equal(initCfg!.apiVersion, plan.kubernetes.kubeadmApi);
      } else {
        const [join] = docs;
        assert.equal(join!.kind, 'JoinConfiguration');
        assert.equal(join!.discovery.bootstrapToken.apiServerEndpoint, endpoint);
        assert.equal(join!.discovery.bootstrapToken.token, plan.secrets.token.value);
        assert.equal(Boolean(join!.controlPlane), n.role === 'control-plane');
        assert.equal(join!.nodeRegistration.criSocket, 'unix:///var/run/crio/crio.sock');
      }
    }
  });

  test(`profile ${name}: the token appears only in kubeadm configs (0600), never in a script`, async () => {
    const { plan, tree } = await renderProfile(name);
    for (const n of plan.nodes) {
      const ud = userData(tree, n.name);
      for (const wf of ud.write_files.filter((w) => w.content.includes(plan.secrets.token.secret))) {
        assert.equal(wf.path, KUBEADM_CONFIG_PATH, `${n.name}: token leaked into ${wf.path}`);
        assert.equal(wf.permissions, '0600');
      }
    }
  });
}

test('kubeadm v1beta3 below 1.31, v1beta4 (extraArgs as name/value lists) from 1.31', async () => {
  const t = profile('default');
  for (const [version, api] of [['1.30.14', 'kubeadm.k8s.io/v1beta3'], ['1.31.5', 'kubeadm.k8s.io/v1beta4']] as const) {
    const plan = await renderPlan({ ...t, kubernetes: { version } });
    const tree = renderCloudInitTree(plan);
    const [init] = kubeadmDocs(userData(tree, 'cp1')) as Record<string, any>[];
    assert.equal(init!.apiVersion, api);
    const args = init!.nodeRegistration.kubeletExtraArgs;
    if (api.endsWith('v1beta4')) assert.deepEqual(args[0], { name: 'node-ip', value: '10.20.0.11' });
    else assert.equal(args['node-ip'], '10.20.0.11');
  }
});

test('baked mode installs no package and pulls no image at first boot', async () => {
  const t = profile('default');
  for (const image of ['baked', 'first-boot'] as const) {
    const plan = await renderPlan({ ...t, image });
    const tree = renderCloudInitTree(plan);
    for (const n of plan.nodes) {
      const scripts = seedFiles(tree, n.name).write_files.filter((w) => w.path.startsWith('/usr/local/lib/kubebake/')).map((w) => w.content).join('\n');
      const installs = /apt-get|apt_get|crictl pull|images pull/.test(scripts);
      assert.equal(installs, image === 'first-boot', `${n.name} in ${image} mode`);
    }
  }
});

test('status file and step order: first boot runs OS prep, CRI-O, packages, firewall, then kubeadm', async () => {
  const { tree } = await renderProfile('default');
  const ud = { ...userData(tree, 'worker1'), ...seedFiles(tree, 'worker1') };
  // runcmd hands over to the unit that runs the runner (again after a reboot, until ok).
  assert.deepEqual(ud.runcmd, [['systemctl', 'enable', '--now', 'kubebake-firstboot.service']]);
  assert.match(fileIn(ud, '/etc/systemd/system/kubebake-firstboot.service')!.content, /^ExecStart=\/usr\/local\/lib\/kubebake\/firstboot\.sh$/m);
  const runner = fileIn(ud, '/usr/local/lib/kubebake/firstboot.sh')!.content;
  assert.equal(fileIn(ud, '/etc/kubebake/steps')!.content, 'address\nresolver\nbase\nos-prep\ncrio\nkube-packages\nfirewall\nbootstrap\n');
  assert.match(runner, /done < \/etc\/kubebake\/steps$/m);
  assert.match(runner, /status "failed: \$step: /);
  assert.match(runner, /\/var\/lib\/kubebake\/status/);
});

test('firewall opens exactly the role ports, cluster-internal ones only to the node subnet', async () => {
  const { tree } = await renderProfile('default');
  const fw = (host: string): string => fileIn(userData(tree, host), '/etc/kubebake/firewall.nft')!.content;
  /** The ports a rule accepts from `from` over `proto` (nft: a single port or a { set }). */
  const ports = (ruleset: string, proto: string, from?: string): string[] => {
    const re = new RegExp(`^\\s+${from ? `ip saddr ${from.replace(/[./]/g, '\\$&')} ` : ''}${proto} dport (\\{ ([^}]*) \\}|\\S+) accept`, 'gm');
    return [...ruleset.matchAll(re)].flatMap((m) => (m[2] ?? m[1]!).split(', '));
  };
  const cp = fw('cp1');
  assert.deepEqual(ports(cp, 'tcp', '10.20.0.0/24'), ['6443', '2379-2380', '10250', '10257', '10259', '5473']);
  assert.deepEqual(ports(cp, 'tcp'), ['22']);
  const worker = fw('worker1');
  assert.deepEqual(ports(worker, 'tcp', '10.20.0.0/24'), ['10250', '10256', '30000-32767', '5473']);
  assert.deepEqual(ports(worker, 'udp', '10.20.0.0/24'), ['4789'], 'Calico VXLAN; no BGP (179): the Installation runs VXLAN only');
  assert.match(text(tree, 'hosts/cp1/user-data'), /bgp: Disabled/);
  assert.match(worker, /^\s+ip saddr 10\.244\.0\.0\/16 accept/m, 'pods reach node-local services');
  const lb = fw('lb1');
  assert.deepEqual(ports(lb, 'tcp'), ['22', '6443', '80', '443']);
  assert.match(lb, /policy drop;/);
  const disabled = renderCloudInitTree(await renderPlan({ ...profile('default'), firewall: 'disabled' }));
  assert.equal(fileIn(userData(disabled, 'cp1'), '/etc/kubebake/firewall.nft'), undefined);
  assert.match(fileIn(userData(disabled, 'cp1'), '/usr/local/lib/kubebake/firewall.sh')!.content, /ufw --force disable/);
});

test('network-config matches the NIC by MAC when given, and meta-data ids follow content', async () => {
  const { tree } = await renderProfile('default');
  const net = parse(text(tree, 'hosts/cp1/network-config')) as any;
  assert.deepEqual(net.ethernets.primary.match, { macaddress: '52:54:00:20:00:11' });
  assert.deepEqual(net.ethernets.primary.addresses, ['10.20.0.11/24']);
  const meta = parse(text(tree, 'hosts/cp1/meta-data')) as any;
  assert.equal(meta['local-hostname'], 'cp1');
  assert.match(meta['instance-id'], /^cp1-[0-9a-f]{12}$/);
  const plan2 = await renderPlan({ ...profile('default'), network: { ...profile('default').network, dns: ['10.20.0.53'] } });
  const meta2 = parse(text(renderCloudInitTree(plan2), 'hosts/cp1/meta-data')) as any;
  assert.notEqual(meta2['instance-id'], meta['instance-id'], 'changed content, new instance');
});

test('haproxy.cfg: API over every control plane with HTTPS /readyz checks; ingress to worker NodePorts in tcp mode', async () => {
  const { tree } = await renderProfile('seed');
  const cfg = text(tree, 'haproxy/haproxy.cfg');
  assert.match(cfg, /bind 10\.2\.47\.84:6443/);
  assert.match(cfg, /server k8s-master1 10\.2\.47\.80:6443 check check-ssl verify none/);
  assert.match(cfg, /server k8s-master2 10\.2\.47\.81:6443 check check-ssl verify none/);
  assert.match(cfg, /http-check send meth GET uri \/readyz/);
  assert.match(cfg, /balance roundrobin/);
  assert.match(cfg, /fall 3 rise 2/);
  assert.match(cfg, /server k8s-worker1 10\.2\.47\.82:32059 check/);
  assert.match(cfg, /server k8s-worker2 10\.2\.47\.83:32423 check/);
  assert.doesNotMatch(cfg, /mode http/);
});
