// `kubebake upgrade apply` end to end through the real OpenSSH client and server: cp1 booted for
// real in the sandbox (test/helpers/sandbox.ts) at 1.36.4, served by sshd on 127.0.0.1
// (test/helpers/ssh-nodes.ts), the cluster's API played by the stand-in kube-apiserver
// (fake-apiserver.ts, fake-apiserver-workloads.ts). apply cordons and drains cp1 through the API, then sends
// cp1 its upgrade step on ssh's standard input as the topology's admin user with sudo; the step
// runs through cp1's first-boot runner. This host has no package repository of 1.37 (stand-in apt,
// nothing published), so the step fails there: apply must stop at once, exit 3, name the node, the
// action and the step's own reason, leave the node cordoned and the status file saying so, and
// touch no other node. (The step's success with a real apt and a mirror of both minors:
// upgrade-step.test.ts.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan } from '../../src/plan/plan.js';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { profileText, runningAt } from '../helpers/day2.js';
import { startFakeApiServer, type FakeApiServer } from '../helpers/fake-apiserver.js';
import { FakeWorkloads } from '../helpers/fake-apiserver-workloads.js';
import { topologyFrom } from '../helpers/repo.js';
import { bootInSandbox, sandboxUnavailable } from '../helpers/sandbox.js';
import { startSshNodes, type SshNodes } from '../helpers/ssh-nodes.js';
import { missingTools } from '../helpers/tools.js';

const skip = sandboxUnavailable() ?? missingTools('sshd', 'ssh', 'ssh-keygen');
const work = mkdtempSync(join(tmpdir(), 'kubebake-upgrade-apply-'));
const out = join(work, 'out');
let api: FakeApiServer | undefined;
let nodes: SshNodes | undefined;
after(async () => {
  await nodes?.close();
  await api?.close();
  rmSync(work, { recursive: true, force: true });
});

test('upgrade apply over real sshd: cordon, drain, the step through cp1\'s runner; its failure stops apply naming cp1, the action and the cause', { skip }, async () => {
  const key = join(work, 'id_ed25519');
  assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator@upgrade-test', '-f', key]).status, 0);
  const text = profileText('default').replace(/^(\s+- )ssh-ed25519 \S+ operator@example$/m, `$1${readFileSync(`${key}.pub`, 'utf8').trim()}`);
  const from = text.replace('version: "1.37.2"', 'version: "1.36.4"');
  assert.notEqual(from, text);
  writeFileSync(join(work, 'first.yaml'), from);
  assert.equal(runKubebake(['render', 'cloud-init', '-f', join(work, 'first.yaml'), '-o', out, '--delivery', 'none']).status, 0);
  const plan = buildPlan(topologyFrom(from));
  const cp1 = plan.nodes.find((n) => n.name === 'cp1')!;
  const hostFile = (f: string): string => readFileSync(join(out, 'default', 'hosts', 'cp1', f), 'utf8');
  const seed = { 'user-data': hostFile('user-data'), 'meta-data': hostFile('meta-data'), 'network-config': hostFile('network-config') };
  const { layer, state } = bootInSandbox({ seed, kubernetesVersion: '1.36.4', mac: cp1.mac, nic: cp1.interface }, (b) => {
    assert.equal(b.read('var/lib/kubebake/status'), 'ok\n', b.read('var/log/kubebake/firstboot.log'));
    const layer = join(work, 'layer-cp1');
    assert.equal(spawnSync('cp', ['-a', b.layer, layer]).status, 0);
    return { layer, state: b.clusterState() };
  });

  const store = (f: string): string => readFileSync(join(out, 'default', 'secrets', f), 'utf8');
  const c = runningAt(new FakeWorkloads(), '1.36.4');
  c.addPod({ namespace: 'shop', name: 'web-1', node: 'cp1', owner: 'ReplicaSet', labels: { app: 'web' } });
  api = await startFakeApiServer({ cert: store('pki/ca.crt'), key: store('pki/ca.key') }, { workloads: c });
  nodes = await startSshNodes(work, 'kubeadmin', key, [{ name: 'cp1', address: cp1.ip, layer }], state);

  writeFileSync(join(work, 'cluster.yaml'), text);
  const r = await runKubebakeAsync(['upgrade', 'apply', '-f', join(work, 'cluster.yaml'), '-o', out, '--server', api.url, '--ssh-config', nodes.config, '--step-timeout', '5m']);
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
