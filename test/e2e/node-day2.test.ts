// Day 2 on hosts that booted for real (sandbox: the real cloud-init, the stand-ins for kubeadm,
// the kubelet, systemctl…; test/helpers/sandbox.ts), reached by kubebake through the real OpenSSH
// client and server (test/helpers/ssh-nodes.ts), with the cluster's API played by the stand-in
// kube-apiserver (test/helpers/fake-apiserver.ts). The hosts share one cluster record, in which the
// kubeadm stand-in keeps the etcd members (test/helpers/kubeadm_standin.py).
// In order, as an operator's months go:
//  1. a worker added to the topology months after init: the token in its seed has expired and its
//     join fails; `token create` registers a fresh one, and the new seed joins;
//  2. a control plane whose machine died: `node replace cp3 --unreachable` drains it, removes its
//     etcd member from cp1 (kubeadm reset cannot run on a dead machine), deletes the Node and
//     renders a fresh seed, with which a new cp3 joins as a control plane again;
//  3. that control plane taken out for good: deleted from the topology, `node remove cp3` gives
//     the load balancer the new haproxy.cfg (checked, reloaded), drains, runs kubeadm reset on cp3
//     (which removes its etcd member), checks the member is gone from cp1, deletes the Node, and
//     the output follows the topology;
//  4. back in the topology, `lb update` gives the load balancer cp3 again.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { renderHaproxyCfg } from '../../src/config/haproxy/haproxy-cfg.js';
import { buildPlan } from '../../src/plan/plan.js';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { populate, profileText, withoutHost } from '../helpers/day2.js';
import { startFakeApiServer, type FakeApiServer } from '../helpers/fake-apiserver.js';
import { topologyFrom } from '../helpers/repo.js';
import { bootInSandbox, sandboxUnavailable, type ClusterRecord } from '../helpers/sandbox.js';
import { startSshNodes, type SshNodes } from '../helpers/ssh-nodes.js';
import { missingTools } from '../helpers/tools.js';

const skip = sandboxUnavailable() ?? missingTools('sshd', 'ssh', 'ssh-keygen');
const DAY = 86_400_000;

interface Booted { layer: string; state: ClusterRecordState; record?: ClusterRecord }
type ClusterRecordState = { etcd: { name: string; peer: string }[]; tokens: string[]; objects: Record<string, string>; nodes: Record<string, unknown> };

const work = mkdtempSync(join(tmpdir(), 'kubebake-day2-'));
const out = join(work, 'out');

// The operator's key, in the topology: cloud-init gives it to the admin user on every host.
let topologyText = profileText('default');
let api: FakeApiServer;
let nodes: SshNodes;
const booted = new Map<string, Booted>();
let init: ClusterRecord;

function write(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}
const store = (f: string): string => readFileSync(join(out, 'default', 'secrets', f), 'utf8');
const hostFile = (host: string, f: string): string => readFileSync(join(out, 'default', 'hosts', host, f), 'utf8');

/** Boots `host` from its rendered seed; the layer it leaves is kept for its sshd. */
function boot(host: string, cluster?: ClusterRecord, text = topologyText): { ok: boolean; log: string; booted: Booted } {
  const plan = buildPlan(topologyFrom(text));
  const node = plan.nodes.find((n) => n.name === host)!;
  const seed = { 'user-data': hostFile(host, 'user-data'), 'meta-data': hostFile(host, 'meta-data'), 'network-config': hostFile(host, 'network-config') };
  return bootInSandbox({ seed, kubernetesVersion: plan.kubernetes.version, mac: node.mac, nic: node.interface, cluster }, (b) => {
    const layer = join(work, `layer-${host}-${booted.size}`);
    assert.equal(spawnSync('cp', ['-a', b.layer, layer]).status, 0);
    const state = b.clusterState() as ClusterRecordState;
    const result = { layer, state, record: b.clusterRecord() };
    return { ok: b.read('var/lib/kubebake/status') === 'ok\n', log: `${b.read('var/lib/kubebake/status')}\n${b.read('var/log/kubebake/firstboot.log') ?? ''}`, booted: result };
  });
}

/** The bootstrap tokens the cluster accepts now (its API's authenticator), for a join's discovery. */
function liveCluster(state: ClusterRecordState): ClusterRecord {
  const tokens = [...new Set([...state.tokens, ...[...api.secrets.keys()].map((k) => {
    const s = api.secrets.get(k)!;
    return `${s.data['token-id']}.${s.data['token-secret']}`;
  })])].filter((t) => api.authenticate(t) !== undefined);
  return { ...init, tokens, state: { ...state, tokens } };
}

const cli = (args: string[]) => runKubebakeAsync([...args, '-o', out, '--server', api.url, '--ssh-config', nodes.config, '--delivery', 'none']);
const calls = (host: string): string[] => (nodes.read(host, '/standin/calls.log') ?? '').split('\n').filter(Boolean);

test('setup: render, boot cp1 (init), cp2, cp3 (joins) and lb1; their sshd; the API with the cluster', { skip }, async () => {
  const key = join(work, 'id_ed25519');
  assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator@day2-test', '-f', key]).status, 0);
  topologyText = topologyText.replace(/^(\s+- )ssh-ed25519 \S+ operator@example$/m, `$1${readFileSync(`${key}.pub`, 'utf8').trim()}`);
  assert.match(topologyText, /operator@day2-test/);
  const r = runKubebake(['render', 'cloud-init', '-f', write('cluster.yaml', topologyText), '-o', out, '--delivery', 'none']);
  assert.equal(r.status, 0, r.stderr);

  let state: ClusterRecordState | undefined;
  for (const host of ['cp1', 'cp2', 'cp3', 'lb1']) {
    const b = boot(host, host === 'cp1' || host === 'lb1' ? undefined : { ...init, state });
    assert.ok(b.ok, `${host}: ${b.log}`);
    booted.set(host, b.booted);
    if (host === 'cp1') init = b.booted.record!;
    if (host !== 'lb1') state = b.booted.state;
  }
  assert.deepEqual(state!.etcd.map((m) => m.name), ['cp1', 'cp2', 'cp3']);

  api = await startFakeApiServer({ cert: store('pki/ca.crt'), key: store('pki/ca.key') });
  populate(api.workloads, topologyText);
  // The init's token, registered by kubeadm init 90 days ago with the profile's 24h TTL.
  const [id, secret] = store('token').trim().split('.');
  api.secrets.set(`kube-system/bootstrap-token-${id}`, {
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: { 'token-id': id!, 'token-secret': secret!, expiration: new Date(Date.now() - 89 * DAY).toISOString().replace(/\.\d+Z$/, 'Z'), 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true', 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token' },
  });
  nodes = await startSshNodes(work, 'kubeadmin', key, ['cp1', 'cp2', 'cp3', 'lb1'].map((name) => ({ name, address: buildPlan(topologyFrom(topologyText)).nodes.find((n) => n.name === name)!.ip, layer: booted.get(name)!.layer })), state);
  // The real ssh, as kubebake runs it, reaches each host and gets root through sudo.
  for (const [host, ip] of [['cp1', '10.20.0.11'], ['lb1', '10.20.0.10']] as const) {
    const s = spawnSync('ssh', ['-F', nodes.config, '-o', 'BatchMode=yes', '-l', 'kubeadmin', ip, 'sudo -n cat /etc/hostname; id -un; sudo -n id -un'], { encoding: 'utf8' });
    assert.equal(s.status, 0, `${s.stderr}\n${nodes.log(host!)}`);
    assert.equal(s.stdout, `${host}\nkubeadmin\nroot\n`);
  }
});
// One hook, in this order: the hosts' sshd and the API stop before their folder goes.
after(async () => {
  await nodes?.close();
  await api?.close();
  rmSync(work, { recursive: true, force: true });
});

test('a worker added months after init: its expired token fails the join; token create registers a fresh one, and it joins', { skip }, async () => {
  const withWorker3 = write('cluster-worker3.yaml', topologyText.replace(/^(  - \{ name: lb1, )/m, '  - { name: worker3, role: worker, ip: 10.20.0.23, mac: "52:54:00:20:00:23" }\n$1'));
  assert.equal(runKubebake(['render', 'cloud-init', '-f', withWorker3, '-o', out, '--delivery', 'none']).status, 0);
  const state = nodes.clusterState() as ClusterRecordState;
  const stale = boot('worker3', liveCluster(state), readFileSync(withWorker3, 'utf8'));
  assert.ok(!stale.ok, 'the 24h token of the init is long dead');
  assert.match(stale.log, /failed: bootstrap/);
  assert.match(stale.log, /the token is not a bootstrap token of this cluster/);

  const r = await runKubebakeAsync(['token', 'create', '-f', withWorker3, '-o', out, '--server', api.url, '--delivery', 'none']);
  assert.equal(r.status, 0, r.stderr);
  const token = store('token').trim();
  const joinToken = (parseAllDocuments(hostFile('worker3', 'user-data'))[0]!.toJS() as { write_files: { path: string; content: string }[] }).write_files
    .find((f) => f.path === '/etc/kubebake/kubeadm.yaml')!.content;
  assert.match(joinToken, new RegExp(`token: ${token.replace('.', '\\.')}`));
  const fresh = boot('worker3', liveCluster(state), readFileSync(withWorker3, 'utf8'));
  assert.ok(fresh.ok, fresh.log);
  assert.ok(Object.keys(fresh.booted.state.nodes).includes('worker3'), 'its kubelet registered the Node');
});

test('node replace cp3 --unreachable: a dead control plane out (its etcd member removed from cp1), and a fresh seed with which a new cp3 joins', { skip }, async () => {
  const file = write('cluster.yaml', topologyText);
  // cp3's machine died: its Node is not Ready, nothing answers its address.
  api.workloads.nodes.get('cp3')!.ready = false;
  api.workloads.pods.get('kube-system/etcd-cp3')!.ready = false;
  api.workloads.addPod({ namespace: 'kube-system', name: 'metrics-server-6d-k2', node: 'cp3', owner: 'ReplicaSet', labels: { app: 'metrics' } });
  await nodes.stop('cp3');
  const instanceBefore = hostFile('cp3', 'meta-data');
  const cp1Calls = calls('cp1').length;
  const lb1Calls = calls('lb1').length;
  const apiCalls = api.log.length;

  const refused = await cli(['node', 'replace', 'cp3', '-f', file]);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /cannot run commands on cp3 \(10\.20\.0\.13\) as kubeadmin over SSH .* pass --unreachable/s);
  assert.equal(api.workloads.nodes.get('cp3')!.unschedulable, undefined);

  const r = await cli(['node', 'replace', 'cp3', '-f', file, '--unreachable']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /lb1: haproxy\.cfg already current/);
  assert.match(r.stderr, /cp3: not reset \(--unreachable\)/);
  assert.match(r.stderr, /etcd: member [0-9a-f]+ of cp3 \(https:\/\/10\.20\.0\.13:2380\) removed on cp1/);
  // The etcd cluster, as the kubeadm stand-in keeps it: cp3's member is gone.
  assert.deepEqual(nodes.clusterState().etcd.map((m) => m.name), ['cp1', 'cp2']);
  const onCp1 = calls('cp1').slice(cp1Calls);
  assert.ok(onCp1.some((c) => /^crictl --runtime-endpoint unix:\/\/\/var\/run\/crio\/crio\.sock exec [0-9a-f]+ etcdctl .*member remove [0-9a-f]+$/.test(c)), onCp1.join('\n'));
  assert.ok(!calls('lb1').slice(lb1Calls).some((c) => /reload|restart/.test(c)), 'the load balancer keeps its configuration: cp3 keeps its place');
  // The API: cordoned, drained, deleted, in that order; a fresh token registered.
  const writes = api.log.slice(apiCalls).filter((l) => !l.startsWith('GET '));
  const at = (re: RegExp): number => writes.findIndex((l) => re.test(l));
  assert.ok(at(/^PATCH \/api\/v1\/nodes\/cp3 /) >= 0 && at(/^PATCH \/api\/v1\/nodes\/cp3 /) < at(/metrics-server-6d-k2\/eviction/) && at(/metrics-server-6d-k2\/eviction/) < at(/^DELETE \/api\/v1\/nodes\/cp3 /), writes.join('\n'));
  assert.ok(at(/^DELETE \/api\/v1\/nodes\/cp3 /) < at(/^POST \/api\/v1\/namespaces\/kube-system\/secrets /));
  assert.ok(!api.workloads.nodes.has('cp3'));
  assert.ok(api.authenticate(store('token').trim()), 'the new token is registered');
  // The fresh seed: new token, so a new instance-id.
  assert.notEqual(hostFile('cp3', 'meta-data'), instanceBefore);
  const instanceId = /^instance-id: (.+)$/m.exec(hostFile('cp3', 'meta-data'))![1]!;
  assert.match(r.stdout, new RegExp(`boot the new cp3 from .*hosts/cp3/ .*instance-id ${instanceId}`));

  // The new machine boots that seed and joins as a control plane: its etcd member is back.
  const fresh = boot('cp3', liveCluster(nodes.clusterState() as ClusterRecordState));
  assert.ok(fresh.ok, fresh.log);
  assert.deepEqual(fresh.booted.state.etcd.map((m) => m.name), ['cp1', 'cp2', 'cp3']);
  booted.set('cp3', fresh.booted);
  nodes.setClusterState(fresh.booted.state);
  await nodes.start({ name: 'cp3', address: '10.20.0.13', layer: fresh.booted.layer });
  api.workloads.addNode({ name: 'cp3', address: '10.20.0.13', controlPlane: true });
  for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) api.workloads.pods.delete(`kube-system/${c}-cp3`);
  api.workloads.addControlPlanePods('cp3');
});

test('node remove cp3: deleted from the topology first; load balancer reloaded without it, drained, kubeadm reset (its etcd member goes), Node deleted, output re-rendered', { skip }, async () => {
  const without = withoutHost(topologyText, 'cp3');
  const file = write('cluster-without-cp3.yaml', without);
  const cp1Calls = calls('cp1').length;
  const lb1Calls = calls('lb1').length;
  const r = await cli(['node', 'remove', 'cp3', '-f', file]);
  assert.equal(r.status, 0, r.stderr);
  const want = renderHaproxyCfg(buildPlan(topologyFrom(without)));
  assert.equal(nodes.read('lb1', '/etc/haproxy/haproxy.cfg'), want);
  assert.equal(nodes.read('lb1', '/etc/kubebake/haproxy.cfg'), want, "first boot's staged copy too");
  assert.deepEqual(calls('lb1').slice(lb1Calls).filter((c) => /^systemctl .*haproxy/.test(c)), ['systemctl reload-or-restart haproxy'], calls('lb1').join('\n'));
  assert.ok(calls('cp3').includes('kubeadm reset --force'));
  assert.equal(nodes.read('cp3', '/etc/kubernetes/manifests/etcd.yaml'), undefined, 'reset cleaned the node');
  assert.deepEqual(nodes.clusterState().etcd.map((m) => m.name), ['cp1', 'cp2'], 'kubeadm reset removed the member');
  const onCp1 = calls('cp1').slice(cp1Calls);
  assert.ok(onCp1.some((c) => / etcdctl .*member list$/.test(c)) && !onCp1.some((c) => /member remove/.test(c)), onCp1.join('\n'));
  assert.ok(!api.workloads.nodes.has('cp3'));
  // In this order.
  const lines = r.stderr.split('\n');
  const order = [/^lb1: haproxy\.cfg checked, installed, HAProxy reloaded$/, /^node\/cp3 cordoned$/, /^cp3: kubeadm reset done$/, /^etcd: cp3 \(https:\/\/10\.20\.0\.13:2380\) is no member any more \(checked on cp1\)$/, /^Node cp3 deleted$/]
    .map((re) => lines.findIndex((l) => re.test(l)));
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), `${order}\n${r.stderr}`);
  // The output follows the topology.
  assert.ok(!existsSync(join(out, 'default', 'hosts', 'cp3')));
  assert.equal(readFileSync(join(out, 'default', 'haproxy', 'haproxy.cfg'), 'utf8'), want);
});

test('lb update: cp3 back in the topology, the load balancer learns it (checked, reloaded)', { skip }, async () => {
  const file = write('cluster.yaml', topologyText);
  const before = calls('lb1').filter((c) => c === 'systemctl reload-or-restart haproxy').length;
  const r = await runKubebakeAsync(['lb', 'update', '-f', file, '--ssh-config', nodes.config]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(nodes.read('lb1', '/etc/haproxy/haproxy.cfg') ?? '', /server cp3 10\.20\.0\.13:6443 check/);
  assert.equal(calls('lb1').filter((c) => c === 'systemctl reload-or-restart haproxy').length, before + 1);
  // Again: nothing to do, no reload.
  const again = await runKubebakeAsync(['lb', 'update', '-f', file, '--ssh-config', nodes.config]);
  assert.equal(again.status, 0);
  assert.match(again.stderr, /lb1: haproxy\.cfg already current/);
  assert.equal(calls('lb1').filter((c) => c === 'systemctl reload-or-restart haproxy').length, before + 1);
});
