// `kubebake upgrade apply` end to end through the real OpenSSH client and server: cp1 booted for
// real in the sandbox (test/helpers/sandbox.ts) at 1.36.4, served by sshd on 127.0.0.1
// (test/helpers/ssh-nodes.ts), the cluster's API played by the stand-in kube-apiserver
// (fake-apiserver.ts, fake-apiserver-workloads.ts). apply cordons and drains cp1 through the API, then sends
// cp1 its upgrade step on ssh's standard input as the topology's admin user with sudo; the step
// runs through cp1's first-boot runner.
//
// Failure: with no package repository of 1.37 (stand-in apt, nothing published), the step fails
// there: apply must stop at once, exit 3, name the node, the action and the step's own reason,
// leave the node cordoned and the status file saying so, and touch no other node.
//
// Success: a cluster of one control plane (cp1, behind lb1) installing from a signed apt mirror of
// both minors (test/helpers/apt-repo.ts), served on 127.0.0.1 for the first boot's sandbox and for
// the host sshd serves alike. Over ssh, real apt switches cp1's repositories to 1.37's, moves the
// held packages and holds them again; the kubeadm stand-in performs `upgrade apply` (its static
// pods and kubeadm-config at v1.37.2); the restarted kubelet registers the new version. The API
// shows exactly what happened on cp1 (ssh-nodes.ts followNodes: read at each request, no timer),
// so apply's wait sees cp1 Ready at v1.37.2 while still cordoned, and only then uncordons; apply
// exits 0, `upgrade plan` then has nothing to do, and a second apply does nothing and exits 0.
// (The step alone, on control planes and workers, and kubeadm's refusals: upgrade-step.test.ts.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { buildPlan } from '../../src/plan/plan.js';
import { aptMirrorUnavailable, buildAptMirror, dpkgStatus, mirrorsFor, serveAptMirror, type AptMirror, type ServedMirror } from '../helpers/apt-repo.js';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { profileText, runningAt } from '../helpers/day2.js';
import { startFakeApiServer, type FakeApiServer } from '../helpers/fake-apiserver.js';
import { FakeWorkloads } from '../helpers/fake-apiserver-workloads.js';
import { topologyFrom } from '../helpers/repo.js';
import { bootInSandbox, sandboxUnavailable, type BootOptions } from '../helpers/sandbox.js';
import { followNodes, freePort, startSshNodes, type SshNodes } from '../helpers/ssh-nodes.js';
import { missingTools } from '../helpers/tools.js';

const skip = sandboxUnavailable() ?? missingTools('sshd', 'ssh', 'ssh-keygen');
const work = mkdtempSync(join(tmpdir(), 'kubebake-upgrade-apply-'));
const FROM = '1.36.4';
const TO = '1.37.2';
const closing: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const close of closing.reverse()) await close();
  rmSync(work, { recursive: true, force: true });
});

/** The operator's key pair (made once); `text` with its public key as the admin user's only key (the default profile's example key replaced). */
function withOperatorKey(text: string): { text: string; key: string } {
  const key = join(work, 'id_ed25519');
  if (!existsSync(key)) assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator@upgrade-test', '-f', key]).status, 0);
  const pub = readFileSync(`${key}.pub`, 'utf8').trim();
  const out = text.replace(/^(\s+- )ssh-ed25519 \S+ operator@example$/m, `$1${pub}`);
  assert.ok(out.includes(pub), 'the topology has the example key to replace');
  return { text: out, key };
}

interface Cluster { dir: string; out: string; key: string; api: FakeApiServer; workloads: FakeWorkloads; nodes: SshNodes }

/**
 * `from` (the topology at the version the cluster runs) rendered into <dir>/out and its cp1 booted
 * in the sandbox (`boot`: more of its options), then served by sshd; the API lists the cluster of
 * `from` running FROM, with a ReplicaSet's pod web-1 on cp1.
 */
async function clusterOf(name: string, from: string, boot: Partial<BootOptions> = {}): Promise<Cluster> {
  const dir = join(work, name);
  const out = join(dir, 'out');
  mkdirSync(dir);
  const { text, key } = withOperatorKey(from);
  writeFileSync(join(dir, 'first.yaml'), text);
  const r = runKubebake(['render', 'cloud-init', '-f', join(dir, 'first.yaml'), '-o', out, '--delivery', 'none']);
  assert.equal(r.status, 0, r.stderr);
  const plan = buildPlan(topologyFrom(text));
  const cp1 = plan.nodes.find((n) => n.name === 'cp1')!;
  const hostFile = (f: string): string => readFileSync(join(out, plan.name, 'hosts', 'cp1', f), 'utf8');
  const seed = { 'user-data': hostFile('user-data'), 'meta-data': hostFile('meta-data'), 'network-config': hostFile('network-config') };
  const { layer, state } = bootInSandbox({ seed, kubernetesVersion: FROM, mac: cp1.mac, nic: cp1.interface, ...boot }, (b) => {
    assert.equal(b.read('var/lib/kubebake/status'), 'ok\n', b.read('var/log/kubebake/firstboot.log'));
    const layer = join(dir, 'layer-cp1');
    assert.equal(spawnSync('cp', ['-a', b.layer, layer]).status, 0);
    return { layer, state: b.clusterState() };
  });

  const store = (f: string): string => readFileSync(join(out, plan.name, 'secrets', f), 'utf8');
  const workloads = runningAt(new FakeWorkloads(), FROM, {}, text);
  workloads.addPod({ namespace: 'shop', name: 'web-1', node: 'cp1', owner: 'ReplicaSet', labels: { app: 'web' } });
  const api = await startFakeApiServer({ cert: store('pki/ca.crt'), key: store('pki/ca.key') }, { workloads });
  closing.push(() => api.close());
  const nodes = await startSshNodes(dir, 'kubeadmin', key, [{ name: 'cp1', address: cp1.ip, layer }], state);
  closing.push(() => nodes.close());
  return { dir, out, key, api, workloads, nodes };
}

test('upgrade apply over real sshd: cordon, drain, the step through cp1\'s runner; its failure stops apply naming cp1, the action and the cause', { skip }, async () => {
  const text = profileText('default');
  const from = text.replace(`version: "${TO}"`, `version: "${FROM}"`);
  assert.notEqual(from, text);
  const { dir, out, workloads: c, api, nodes } = await clusterOf('failure', from);

  writeFileSync(join(dir, 'cluster.yaml'), withOperatorKey(text).text);
  const r = await runKubebakeAsync(['upgrade', 'apply', '-f', join(dir, 'cluster.yaml'), '-o', out, '--server', api.url, '--ssh-config', nodes.config, '--step-timeout', '5m']);
  assert.equal(r.status, 3, `${r.stdout}\n${r.stderr}\n${nodes.log('cp1')}`);
  assert.match(r.stdout, /^\[1\/5\] cp1: upgrade…$/m);
  assert.match(r.stderr, /cp1, upgrade: cp1: the upgrade step failed: \S/);
  assert.deepEqual(c.evictions, ['shop/web-1 201']);
  assert.equal(c.nodes.get('cp1')!.unschedulable, true);
  assert.notEqual(c.nodes.get('cp2')!.unschedulable, true);
  // On cp1: the step ran as root through its first-boot runner, which recorded the failure.
  assert.match(nodes.read('cp1', '/var/lib/kubebake/status') ?? '', /^failed: upgrade: /);
  assert.match(nodes.read('cp1', '/var/log/kubebake/firstboot.log') ?? '', /^=== upgrade /m);
  assert.match(nodes.read('cp1', '/usr/local/lib/kubebake/upgrade.sh') ?? '', /kubeadm upgrade apply -y v1\.37\.2/);
  const reason = /failed: upgrade: (.*)/.exec(nodes.read('cp1', '/var/lib/kubebake/status')!)![1]!;
  assert.ok(r.stderr.includes(reason.split(' (see')[0]!), `${reason}\n${r.stderr}`);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'default', 'upgrade', 'state.json'), 'utf8')).nodes, { cp1: ['cordon', 'drain'] });
});

/** The default profile cut to one control plane behind its load balancer, on this Debian 12 machine at `version`, installing from `mirror` served at `url`. */
function oneControlPlane(version: string, mirror: AptMirror, url: string): string {
  const doc = parseDocument(withOperatorKey(profileText('default')).text);
  doc.setIn(['kubernetes', 'version'], version);
  doc.set('os', 'debian-12');
  const hosts = doc.get('hosts') as YAMLSeq<YAMLMap>;
  hosts.items = hosts.items.filter((h) => ['cp1', 'lb1'].includes(String(h.get('name'))));
  // No workers: the ingress ports go to the control plane.
  for (const ingress of (doc.get('ingress') as YAMLSeq<YAMLMap>).items) ingress.set('targets', 'control-planes');
  doc.set('mirrors', mirrorsFor(mirror, url, version));
  return doc.toString({ lineWidth: 0 });
}

test(`upgrade apply over real sshd succeeds: cp1 ${FROM} → ${TO} with real apt from a signed mirror of both minors, Ready at ${TO} before uncordon; plan has nothing left, a second apply does nothing`, { skip: skip ?? aptMirrorUnavailable() }, async () => {
  const started = Date.now();
  const mirror = buildAptMirror([FROM, TO]);
  closing.push(() => rmSync(mirror.dir, { recursive: true, force: true }));
  // The first boot's sandbox serves the mirror at the same address in its own network (BootOptions.mirror).
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const absent = [...mirror.packages.kubernetes, ...mirror.packages['cri-o']].map((p) => p.name);
  const { dir, out, workloads: c, api, nodes } = await clusterOf('success', oneControlPlane(FROM, mirror, url), { mirror: { dir: mirror.dir, address: '127.0.0.1', port, absent } });
  const booted = Date.now();
  const served: ServedMirror = await serveAptMirror(mirror, port, join(dir, 'mirror.log'));
  closing.push(() => served.close());
  followNodes(c, nodes, ['cp1']);
  // What the API showed of cp1, each time it changed (read when a request came).
  const follow = c.observe!;
  const seen: string[] = [];
  c.observe = () => {
    follow();
    const n = c.nodes.get('cp1')!;
    const now = `${n.ready ? 'Ready' : 'NotReady'} ${n.kubeletVersion}${n.unschedulable ? ' cordoned' : ''}`;
    if (seen.at(-1) !== now) seen.push(now);
  };
  const before = nodes.clusterState() as { version?: string; nodes: Record<string, { version?: string }> };
  assert.equal(before.version, `v${FROM}`);
  assert.equal(before.nodes.cp1?.version, FROM);

  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, oneControlPlane(TO, mirror, url));
  const apply = (): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    runKubebakeAsync(['upgrade', 'apply', '-f', file, '-o', out, '--server', api.url, '--ssh-config', nodes.config, '--step-timeout', '5m', '--node-timeout', '1m']);
  const r = await apply();
  const applied = Date.now();
  const log = nodes.read('cp1', '/var/log/kubebake/firstboot.log') ?? '';
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${log.slice(-3000)}\n${nodes.log('cp1')}`);
  for (const action of ['cordon', 'drain', 'upgrade', 'ready', 'uncordon']) assert.match(r.stdout, new RegExp(`^\\[1/1\\] cp1: ${action}…$`, 'm'));
  assert.match(r.stdout, new RegExp(`^\\[1/1\\] cp1: runs v${TO.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(r.stdout, /^cluster default runs v1\.37\.2 on every node$/m);
  // The topology's warnings only (one control plane, one load balancer, mirrors' gaps): no error.
  assert.doesNotMatch(r.stderr, /^error/m);
  assert.deepEqual(c.evictions, ['shop/web-1 201']);

  // On cp1, over ssh as kubeadmin with sudo, through its first-boot runner: real apt and dpkg.
  assert.equal(nodes.read('cp1', '/var/lib/kubebake/status'), 'ok\n');
  assert.match(log, /^=== upgrade /m);
  assert.match(nodes.log('cp1'), /Accepted publickey for kubeadmin from 127\.0\.0\.1/);
  assert.equal(nodes.read('cp1', '/etc/apt/sources.list.d/kubernetes.list'), `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] ${url}/kubernetes/v1.37/ /\n`);
  assert.equal(nodes.read('cp1', '/etc/apt/sources.list.d/cri-o.list'), `deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.asc] ${url}/cri-o/v1.37/ /\n`);
  const dpkg = dpkgStatus(nodes.read('cp1', '/var/lib/dpkg/status') ?? '');
  for (const p of ['kubeadm', 'kubelet', 'kubectl']) assert.equal(dpkg.get(p), `${TO}-1.1 hold ok installed`, p);
  assert.equal(dpkg.get('cri-tools'), '1.37.0-1.1 hold ok installed');
  assert.equal(dpkg.get('cri-o'), '1.37.0-1.1 hold ok installed');
  for (const deb of [`kubeadm_${TO}-1.1_all.deb`, `kubelet_${TO}-1.1_all.deb`, 'cri-o_1.37.0-1.1_all.deb']) {
    assert.ok(served.log().some((l) => l.includes('/v1.37/') && l.includes(deb) && l.endsWith(' 200')), `${deb}: ${served.log().join('\n')}`);
  }
  const calls = (nodes.read('cp1', '/standin/calls.log') ?? '').split('\n').filter((l) => l.startsWith('kubeadm upgrade'));
  assert.deepEqual(calls, [`kubeadm upgrade apply -y v${TO}`]);
  assert.match(nodes.read('cp1', '/etc/kubernetes/manifests/kube-apiserver.yaml') ?? '', /, version v1\.37\.2/);
  const after = nodes.clusterState() as { version?: string; nodes: Record<string, { version?: string }> };
  assert.equal(after.version, `v${TO}`);
  assert.equal(after.nodes.cp1?.version, TO);

  // The API followed cp1: still at FROM while cordoned and drained, at TO and Ready once the step
  // restarted its kubelet, with apply's wait reading it there before the uncordon.
  assert.deepEqual(seen, [`Ready v${FROM}`, `Ready v${FROM} cordoned`, `Ready v${TO} cordoned`]);
  const cp1 = c.nodes.get('cp1')!;
  assert.equal(cp1.unschedulable, false);
  assert.equal(c.pods.get('kube-system/kube-apiserver-cp1')?.image, `registry.k8s.io/kube-apiserver:v${TO}`);
  // The wait's read of the Node (Ready at TO), then the uncordon: apply's last requests.
  assert.deepEqual(api.log.slice(-2).map((l) => l.split(' ').slice(0, 2).join(' ')), ['GET /api/v1/nodes/cp1', 'PATCH /api/v1/nodes/cp1'], api.log.join('\n'));
  const state = JSON.parse(readFileSync(join(out, 'default', 'upgrade', 'state.json'), 'utf8')) as { nodes: unknown; completedAt?: string };
  assert.deepEqual(state.nodes, { cp1: ['cordon', 'drain', 'upgrade', 'ready', 'uncordon'] });
  assert.ok(state.completedAt);

  // Afterwards: the plan has nothing to do, and apply again changes nothing.
  const plan = await runKubebakeAsync(['upgrade', 'plan', '-f', file, '-o', out, '--server', api.url]);
  assert.equal(plan.status, 0, plan.stderr);
  assert.match(plan.stdout, /^Upgrade plan for cluster default: Kubernetes 1\.37\.2 → 1\.37\.2$/m);
  assert.match(plan.stdout, /^Every node runs v1\.37\.2 already: nothing to do\.$/m);
  const requests = api.log.length;
  const again = await apply();
  assert.equal(again.status, 0, `${again.stdout}\n${again.stderr}`);
  assert.equal(again.stdout, `cluster default: every node runs v${TO} already; nothing to do\n`);
  assert.deepEqual(api.log.slice(requests).filter((l) => !l.startsWith('GET ')), []);
  assert.deepEqual(c.evictions, ['shop/web-1 201']);
  assert.equal((nodes.read('cp1', '/standin/calls.log') ?? '').split('\n').filter((l) => l.startsWith('kubeadm upgrade')).length, 1);
  assert.equal(nodes.read('cp1', '/var/log/kubebake/firstboot.log'), log);
  process.stdout.write(`# timing: mirror and first boot ${((booted - started) / 1000).toFixed(1)} s, apply ${((applied - booted) / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
