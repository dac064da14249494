// First boot resumes to the same end state after a power loss at any point. Hosts boot with the
// real cloud-init in the sandbox (test/helpers/sandbox.ts); the kubeadm stand-in runs upstream's
// phases in order, each leaving what the real one leaves on the host and in the cluster
// (test/helpers/kubeadm_standin.py), and can cut the power right after any phase; a stand-in
// `date` cuts it between two first-boot steps. After each cut the host reboots (REBOOT: systemd
// starts the kubelet and kubebake's unit again), and must end with status ok and the end state of
// a boot nobody interrupted: the host files that matter and the cluster's side.
//
// Each role's cut points run in one sandbox session: the power goes after the first phase (or
// before the second step); the boot after it resumes and loses the power at the next cut point,
// and so on, one reboot per cut, until first boot says ok. Every cut point is exercised once, on
// the state the earlier resumes left, which is what a host that loses power there finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { renderPlan } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { bootInSandbox, hostSeed, powerLoss, REBOOT, sandboxUnavailable, type BootOptions, type BootResult, type ClusterRecord } from '../helpers/sandbox.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import type { RenderPlan } from '../../src/plan/plan.js';

const skip = sandboxUnavailable();
const plan: RenderPlan = await renderPlan(profile('default'));
const tree = renderCloudInitTree(plan);

function seedOf(host: string, extra: Partial<BootOptions> = {}): BootOptions {
  const node = plan.nodes.find((n) => n.name === host)!;
  return { seed: hostSeed(tree, host), kubernetesVersion: plan.kubernetes.version, mac: node.mac, nic: node.interface, ...extra };
}

// kubeadm's phases in upstream's order (kubernetes/website content/en/docs/reference/setup-tools/
// kubeadm/generated/kubeadm_init/_index.md and kubeadm_join/_index.md, generated from
// cmd/kubeadm/app/cmd/init.go and join.go; check-etcd is a hidden join phase, join.go newCmdJoin).
const INIT_PHASES = ['preflight', 'certs', 'kubeconfig', 'etcd', 'control-plane', 'kubelet-start', 'wait-control-plane', 'upload-config',
  'upload-certs', 'mark-control-plane', 'bootstrap-token', 'kubelet-finalize', 'addon', 'show-join-command'];
const JOIN_PHASES = ['preflight', 'control-plane-prepare', 'check-etcd', 'kubelet-start', 'etcd-join', 'kubelet-wait-bootstrap',
  'control-plane-join', 'wait-control-plane'];

/** Reboots until first boot says ok (or failed), at most `max` times. */
const rebootUntilDone = (max: number): string =>
  `for i in $(seq ${max}); do case "$(cat /var/lib/kubebake/status 2>/dev/null)" in ok|failed*) break ;; esac; ${REBOOT}; done`;

// What must be the same however the boot went: the files kubeadm, the kubelet and kubebake's steps
// leave (everything this boot wrote under these paths), and the stand-ins' record of the cluster
// and the host's services and packages. Not compared: logs, the stand-ins' call log, cloud-init's
// own state (new keys and ids at each boot), and the stand-in `date` a step cut installs.
const HOST_PATHS = ['etc/kubernetes', 'var/lib/kubelet', 'var/lib/etcd', 'var/lib/kubebake', 'home/kubeadmin/.kube', 'etc/kubebake',
  'etc/systemd/system', 'etc/apt/sources.list.d', 'etc/apt/keyrings', 'etc/sysctl.d', 'etc/modules-load.d', 'etc/hosts',
  'usr/local/lib/kubebake', 'usr/local/bin'];
const STANDIN_RECORDS = ['cluster-state.json', 'cluster.json', 'packages', 'holds', 'enabled', 'images', 'labels', 'helm-releases'];

function endState(boot: BootResult): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = join(boot.layer, rel);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st || (st.isCharacterDevice() && st.rdev === 0)) return; // absent, or deleted (a whiteout)
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out[`${rel}/`] = mode;
      for (const name of readdirSync(abs).sort()) walk(`${rel}/${name}`);
    } else if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(abs)}`;
    else out[rel] = `${mode} ${readFileSync(abs, 'utf8')}`;
  };
  for (const p of HOST_PATHS) walk(p);
  for (const r of STANDIN_RECORDS) out[`standin/${r}`] = boot.read(`standin/${r}`) ?? '(none)';
  // Running services, as a set: the order they were started in differs when a boot was cut.
  out['standin/active'] = [...new Set((boot.read('standin/active') ?? '').split('\n').filter(Boolean))].sort().join(' ');
  return out;
}

interface Baseline { end: Record<string, string>; cluster?: ClusterRecord; steps: string[] }
const baselines = new Map<string, Baseline>();

/** A boot nobody interrupted, then a reboot (as every cut run has one): its end state. */
function baseline(host: string, cluster?: ClusterRecord): Baseline {
  const cached = baselines.get(host);
  if (cached) return cached;
  const b = bootInSandbox(seedOf(host, { cluster, then: REBOOT }), (boot) => {
    assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', boot.read('var/log/kubebake/firstboot.log'));
    const record = boot.clusterRecord();
    return {
      end: endState(boot),
      cluster: record && { ...record, state: boot.clusterState() },
      steps: (boot.read('etc/kubebake/steps') ?? '').split('\n').filter(Boolean),
    };
  });
  baselines.set(host, b);
  return b;
}

const initCluster = (): ClusterRecord => baseline('cp1').cluster!;

interface State { etcd: { name: string }[]; nodes: Record<string, { labels: string[]; taints: string[] }>; objects: Record<string, string> }
const stateOf = (b: Baseline): State => JSON.parse(b.end['standin/cluster-state.json']!) as State;

test('uninterrupted boots: kubeadm leaves a complete cluster (the end state the cut runs must reach)', { skip }, () => {
  const cp1 = baseline('cp1');
  const state = stateOf(cp1);
  // What init makes (its upload-config, bootstrap-token and addon phases), not just kubelet.conf.
  for (const o of ['ConfigMap/kube-system/kubeadm-config', 'ConfigMap/kube-public/cluster-info', `Secret/kube-system/bootstrap-token-${plan.secrets.token.value.split('.')[0]}`,
    'Deployment/kube-system/coredns', 'DaemonSet/kube-system/kube-proxy']) assert.ok(o in state.objects, o);
  assert.deepEqual(state.nodes.cp1?.taints, ['node-role.kubernetes.io/control-plane:NoSchedule']);
  assert.deepEqual(state.etcd.map((m) => m.name), ['cp1']);
  assert.ok(cp1.end['etc/kubernetes/manifests/etcd.yaml'] && cp1.end['etc/kubernetes/admin.conf']);
  const cp2 = baseline('cp2', initCluster());
  assert.deepEqual(stateOf(cp2).etcd.map((m) => m.name), ['cp1', 'cp2'], 'a control-plane join adds its etcd member');
  assert.deepEqual(stateOf(cp2).nodes.cp2?.taints, ['node-role.kubernetes.io/control-plane:NoSchedule']);
  assert.equal(cp2.end['etc/kubernetes/bootstrap-kubelet.conf'], undefined, 'kubelet-wait-bootstrap removes the bootstrap kubeconfig');
  const worker = baseline('worker1', initCluster());
  assert.ok(stateOf(worker).nodes.worker1, 'the worker registered its Node');
  assert.ok(worker.end['etc/kubernetes/kubelet.conf'] && worker.end['etc/kubernetes/bootstrap-kubelet.conf'] === undefined);
});

/** One session: power lost at each cut point in turn, a reboot after each; then the end state. */
function cutRun(host: string, cuts: string[], cluster?: ClusterRecord): void {
  const base = baseline(host, cluster);
  const image = Object.assign({}, ...cuts.map((c) => powerLoss(c))) as NonNullable<BootOptions['image']>;
  bootInSandbox(seedOf(host, { cluster, image, then: rebootUntilDone(cuts.length + 2) }), (boot) => {
    const log = boot.read('var/log/kubebake/firstboot.log') ?? '';
    const expected = cuts.map((c) => (c.startsWith('step-') ? `before step ${c.slice(5)}` : `after ${c.split('-')[0]} phase ${c.slice(c.indexOf('-') + 1)}`));
    assert.deepEqual((boot.read('standin/poweroffs') ?? '').split('\n').filter(Boolean), expected, `every cut happened, in order\n${log}`);
    assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', log);
    assert.deepEqual(endState(boot), base.end);
  });
}

test('cp1 (kubeadm init): a power loss after each phase of init, each followed by a reboot, ends ok with the uninterrupted end state', { skip }, () =>
  cutRun('cp1', INIT_PHASES.map((p) => `init-${p}`)));

test('cp2 (control-plane join): a power loss after each phase of the join, each followed by a reboot, ends ok with the same end state (one etcd member)', { skip }, () =>
  cutRun('cp2', JOIN_PHASES.map((p) => `join-${p}`), initCluster()));

test('worker1 (join): a power loss after each phase of the join, each followed by a reboot, ends ok with the same end state', { skip }, () =>
  cutRun('worker1', JOIN_PHASES.map((p) => `join-${p}`), initCluster()));

for (const host of ['cp1', 'cp2', 'worker1']) {
  test(`${host}: a power loss between every two first-boot steps, each followed by a reboot, ends ok with the same end state`, { skip }, () => {
    const cluster = host === 'cp1' ? undefined : initCluster();
    const steps = baseline(host, cluster).steps;
    assert.ok(steps.length >= 5 && steps.includes('bootstrap'), steps.join(' '));
    cutRun(host, steps.slice(1).map((s) => `step-${s}`), cluster);
  });
}

test('kubeadm stand-in: preflight refuses the leftovers of an interrupted init as upstream names them, unless skipped or ignored; reset undoes init', { skip }, () => {
  const config = '/etc/kubebake/kubeadm.yaml';
  const then = [
    `kubeadm init --config ${config}; echo "rc=$?"`,
    `kubeadm init --config ${config} --ignore-preflight-errors=FileAvailable--etc-kubernetes-manifests-etcd.yaml; echo "rc=$?"`,
    `kubeadm init --config ${config} --ignore-preflight-errors=all; echo "rc=$?"`,
    `kubeadm reset --force; echo "rc=$?"`,
    'echo "left: $(find /etc/kubernetes /var/lib/etcd /var/lib/kubelet -mindepth 1 -not -type d | wc -l)"; test -e /standin/cluster-state.json || echo "no cluster"',
    `kubeadm init --config ${config} >/dev/null 2>&1; echo "rc=$?"`,
  ].join('\n');
  // The power goes after the control-plane phase: manifests and etcd's data directory are there.
  bootInSandbox(seedOf('cp1', { image: powerLoss('init-control-plane'), then }), (boot) => {
    const out = boot.thenOutput;
    for (const check of ['FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml', 'FileAvailable--etc-kubernetes-manifests-kube-controller-manager.yaml',
      'FileAvailable--etc-kubernetes-manifests-kube-scheduler.yaml', 'FileAvailable--etc-kubernetes-manifests-etcd.yaml']) {
      assert.match(out, new RegExp(`\\[ERROR ${check.replace(/\./g, '\\.')}\\]: /etc/kubernetes/manifests/[a-z-]+\\.yaml already exists`), out);
    }
    assert.match(out, /error execution phase preflight: \[preflight\] Some fatal errors occurred:/);
    const rcs = out.split('\n').filter((l) => l.startsWith('rc='));
    // One ignored check still leaves the others; all ignored, init runs its phases and completes.
    assert.deepEqual(rcs, ['rc=1', 'rc=1', 'rc=0', 'rc=0', 'rc=0'], out);
    assert.match(out, /\[WARNING FileAvailable--etc-kubernetes-manifests-etcd\.yaml\]/);
    // Once the kubelet runs its static pods, their ports are taken too (Port-6443, Port-10250, …).
    assert.doesNotMatch(out.split('rc=1')[0]!, /Port-6443/, 'the kubelet was not running yet after the control-plane phase');
    // After reset: nothing of kubeadm's left, and the single-member cluster is gone with its etcd data.
    assert.match(out, /^left: 0$/m, out);
    assert.match(out, /^no cluster$/m);
  });
});
