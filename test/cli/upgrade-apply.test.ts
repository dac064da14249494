// `kubebake upgrade apply` against the stand-in kube-apiserver (test/helpers/fake-apiserver.ts,
// fake-apiserver-workloads.ts): --dry-run prints every action and changes nothing; a drain that a
// PodDisruptionBudget blocks (429) ends at --drain-timeout naming the node, the pod and the budget
// (exit 4), with the node left cordoned and the cordon recorded; run again once the budget allows
// it, apply continues at the drain (no second cordon action), evicts, and stops at the first node
// it cannot reach over SSH (exit 3, naming the node and the action). ssh is the real OpenSSH
// client; its ssh_config's ProxyCommand fails, so nothing reaches the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { startFakeApiServer } from '../helpers/fake-apiserver.js';
import { FakeWorkloads } from '../helpers/fake-apiserver-workloads.js';
import { runningAt } from '../helpers/day2.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools } from '../helpers/tools.js';

const PROFILE = readFileSync(repoPath('profiles', 'default.yaml'), 'utf8');

function rendered(out: string): string {
  const first = join(out, 'first.yaml');
  writeFileSync(first, PROFILE.replace('version: "1.37.2"', 'version: "1.36.4"'));
  const r = runKubebake(['render', 'cloud-init', '-f', first, '-o', out, '--delivery', 'none']);
  assert.equal(r.status, 0, r.stderr);
  const file = join(out, 'cluster.yaml');
  writeFileSync(file, PROFILE);
  return file;
}

function running(): FakeWorkloads {
  const c = runningAt(new FakeWorkloads(), '1.36.4');
  // An application pod on cp1 whose budget allows no disruption (one replica, minAvailable 1).
  c.addPod({ namespace: 'shop', name: 'db-0', node: 'cp1', owner: 'StatefulSet', labels: { app: 'db' } });
  c.pdbs.push({ namespace: 'shop', name: 'db', selector: { app: 'db' }, disruptionsAllowed: 0, desiredHealthy: 1, currentHealthy: 1 });
  return c;
}

const ca = (out: string): { cert: string; key: string } => ({
  cert: readFileSync(join(out, 'default', 'secrets', 'pki', 'ca.crt'), 'utf8'),
  key: readFileSync(join(out, 'default', 'secrets', 'pki', 'ca.key'), 'utf8'),
});

test('upgrade apply: --dry-run prints every action in order and changes nothing; a blocked drain ends at its bound naming the pod and budget; a second run continues at the drain and stops at SSH, naming the node', { skip: missingTools('ssh') }, async () =>
  withTempDir(async (out) => {
    const file = rendered(out);
    const c = running();
    const api = await startFakeApiServer(ca(out), { workloads: c });
    const state = join(out, 'default', 'upgrade', 'state.json');
    const sshConfig = join(out, 'ssh_config');
    writeFileSync(sshConfig, 'Host *\n  ProxyCommand false\n');
    const apply = (extra: string[]) => runKubebakeAsync(['upgrade', 'apply', '-f', file, '-o', out, '--server', api.url, '--ssh-config', sshConfig, ...extra]);
    try {
      const dry = await apply(['--dry-run']);
      assert.equal(dry.status, 0, dry.stderr);
      const actions = dry.stdout.split('\n').filter((l) => /^\[\d\/5\] /.test(l)).map((l) => /^\[\d\/5\] (\S+): (\S+)/.exec(l)!.slice(1).join(' '));
      const each = (n: string, check: boolean): string[] => [`${n} cordon:`, `${n} drain:`, ...(check ? [`${n} check`] : []), `${n} upgrade:`, `${n} ready:`, `${n} uncordon:`];
      assert.deepEqual(actions, [...each('cp1', false), ...each('cp2', true), ...each('cp3', true), ...each('worker1', true), ...each('worker2', true)]);
      assert.match(dry.stdout, /^\[1\/5\] cp1: drain: evict shop\/db-0 through the Eviction API/m);
      assert.match(dry.stdout, /kubeadm upgrade apply -y v1\.37\.2/);
      assert.match(dry.stdout, /^kubeadm upgrade node$/m);
      assert.deepEqual(api.log.filter((l) => !l.startsWith('GET ')), [], 'a dry run only reads');
      assert.equal(existsSync(state), false);

      const blocked = await apply(['--drain-timeout', '6s']);
      assert.equal(blocked.status, 4, blocked.stdout + blocked.stderr);
      assert.match(blocked.stderr, /cp1 was not drained within --drain-timeout; still there: shop\/db-0: .*The disruption budget db needs 1 healthy pods and has 1 currently/);
      assert.equal(c.nodes.get('cp1')!.unschedulable, true, 'left cordoned');
      assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')).nodes, { cp1: ['cordon'] });
      assert.ok(c.evictions.length >= 2 && c.evictions.every((e) => e === 'shop/db-0 429'), c.evictions.join(', '));

      // The budget allows it now: the run continues with the drain, evicts, then cannot reach cp1.
      c.pdbs.length = 0;
      const again = await apply(['--drain-timeout', '6s']);
      assert.equal(again.status, 3, again.stdout + again.stderr);
      assert.doesNotMatch(again.stdout, /cp1: cordon…/);
      assert.match(again.stdout, /cp1: drain…/);
      assert.equal(c.evictions.at(-1), 'shop/db-0 201');
      assert.match(again.stderr, /cp1, upgrade: cannot run commands on cp1 \(10\.20\.0\.11\) as \S+ over SSH with sudo/);
      assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')).nodes, { cp1: ['cordon', 'drain'] });
      assert.notEqual(c.nodes.get('cp2')!.unschedulable, true, 'nothing after the first failure');
    } finally {
      await api.close();
    }
  }));

test('upgrade apply: a killed run resumes at the wait for Ready; a node that never comes back ends it at --node-timeout naming the node and what it reports; once Ready at the new version it is uncordoned and the next node starts', { skip: missingTools('ssh') }, async () =>
  withTempDir(async (out) => {
    const file = rendered(out);
    const c = running();
    c.pdbs.length = 0;
    // As a run killed right after cp1's step left it: cordoned, its kubelet restarting.
    const cp1 = c.nodes.get('cp1')!;
    Object.assign(cp1, { unschedulable: true, ready: false });
    c.setClusterVersion('1.37.2');
    c.pods.get('kube-system/kube-apiserver-cp1')!.image = 'registry.k8s.io/kube-apiserver:v1.37.2';
    const state = join(out, 'default', 'upgrade', 'state.json');
    mkdirSync(dirname(state), { recursive: true });
    writeFileSync(state, JSON.stringify({ target: '1.37.2', from: '1.36.4', startedAt: '2026-12-05T10:00:00Z', nodes: { cp1: ['cordon', 'drain', 'upgrade'] } }));
    const sshConfig = join(out, 'ssh_config');
    writeFileSync(sshConfig, 'Host *\n  ProxyCommand false\n');
    const api = await startFakeApiServer(ca(out), { workloads: c });
    const apply = () => runKubebakeAsync(['upgrade', 'apply', '-f', file, '-o', out, '--server', api.url, '--ssh-config', sshConfig, '--node-timeout', '4s']);
    try {
      const gone = await apply();
      assert.equal(gone.status, 4, gone.stdout + gone.stderr);
      assert.doesNotMatch(gone.stdout, /cp1: (cordon|drain|upgrade)…/);
      assert.match(gone.stderr, /cp1, ready: cp1 did not come back Ready at v1\.37\.2 within 4 s \(last seen: NotReady, kubelet v1\.36\.4\)/);
      assert.equal(cp1.unschedulable, true, 'stays cordoned');

      // Its kubelet comes back at the new version while apply waits.
      const back = setTimeout(() => Object.assign(cp1, { ready: true, kubeletVersion: 'v1.37.2' }), 1500);
      const again = await apply();
      clearTimeout(back);
      assert.match(again.stdout, /^\[1\/5\] cp1: uncordon…$/m);
      assert.match(again.stdout, /^\[1\/5\] cp1: runs v1\.37\.2$/m);
      assert.equal(cp1.unschedulable, false);
      assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')).nodes.cp1, ['cordon', 'drain', 'upgrade', 'ready', 'uncordon']);
      // cp2 follows (and stops at SSH here).
      assert.equal(again.status, 3, again.stderr);
      assert.match(again.stderr, /cp2, upgrade: cannot run commands on cp2/);
    } finally {
      await api.close();
    }
  }));
