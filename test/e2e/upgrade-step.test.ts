// A node's upgrade step (src/steps/upgrade.ts), shipped as `kubebake upgrade apply` ships it
// (src/upgrade/remote.ts: the script ssh feeds to `sudo -n bash -s`), run in the sandbox after a real
// first boot, against a signed apt mirror that publishes two Kubernetes minors and two CRI-O minors
// (test/helpers/apt-repo.ts). apt, apt-mark and dpkg are the real ones: the repository switch, the
// pins, the holds and the refusal to move held packages are apt's own. kubeadm is the stand-in
// (test/helpers/kubeadm_standin.py) with upstream's upgrade rules: `upgrade apply` needs a control
// plane's admin.conf, moves one minor at a time and refuses too old kubelets; `upgrade node` takes
// the cluster's version from kubeadm-config.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { renderPlan } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { bootInSandbox, hostSeed, sandboxUnavailable, type BootResult, type ClusterRecord } from '../helpers/sandbox.js';
import { aptMirrorUnavailable, buildAptMirror, dpkgStatus, mirrorsFor, type AptMirror } from '../helpers/apt-repo.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import { buildPlan, type RenderPlan } from '../../src/plan/plan.js';
import type { Topology } from '../../src/topology/types.js';
import { upgradeStep } from '../../src/steps/upgrade.js';
import { remoteUpgradeScript } from '../../src/upgrade/remote.js';

const skip = sandboxUnavailable() ?? aptMirrorUnavailable();
// TEST-NET-2 (RFC 5737): an address nothing else uses, given to the sandbox's loopback.
const ADDRESS = '198.51.100.7';
const PORT = 8080;
const URL = `http://${ADDRESS}:${PORT}`;
const FROM = '1.36.4';
const TO = '1.37.2';

const base = profile('default');
const mirror: AptMirror | undefined = skip ? undefined : buildAptMirror([FROM, TO]);
after(() => mirror && rmSync(mirror.dir, { recursive: true, force: true }));

/** The default profile on this Debian 12 machine at `version`, installing from the mirror's folders of its minor. */
function topology(version: string): Topology {
  return { ...base, os: 'debian-12', kubernetes: { version }, mirrors: mirrorsFor(mirror!, URL, version) };
}

/** What `kubebake upgrade apply` sends `host` for the upgrade to TO. */
function shipped(host: string, kubeadm: 'apply' | 'node'): string {
  const target = buildPlan(topology(TO));
  return remoteUpgradeScript(upgradeStep(target, target.nodes.find((n) => n.name === host)!, { kubeadm, cni: false }));
}

let plan: RenderPlan | undefined;
async function boot<T>(host: string, then: string, inspect: (b: BootResult) => T, cluster?: ClusterRecord): Promise<T> {
  plan ??= await renderPlan(topology(FROM));
  const tree = renderCloudInitTree(plan);
  const node = plan.nodes.find((n) => n.name === host)!;
  return bootInSandbox(
    {
      seed: hostSeed(tree, host),
      kubernetesVersion: FROM,
      mac: node.mac,
      nic: node.interface,
      cluster,
      image: { '/standin/upgrade-apply.sh': shipped(host, 'apply'), '/standin/upgrade-node.sh': shipped(host, 'node') },
      then,
      mirror: { dir: mirror!.dir, address: ADDRESS, port: PORT, absent: [...mirror!.packages.kubernetes, ...mirror!.packages['cri-o']].map((p) => p.name) },
    },
    inspect,
  );
}

const STATUS = 'cat /var/lib/kubebake/status';
/** Runs a shipped script as ssh would (its standard input), then prints its exit status and the node's status. */
const run = (script: string, tag: string): string => `bash -s < /standin/${script} > /standin/${tag}.out 2>&1; echo "${tag}-rc=$?"; echo "${tag}-status=$(${STATUS})"`;

let upgradedCluster: ClusterRecord | undefined;
let firstCluster: ClusterRecord | undefined;

test(`the first control plane's step: ${FROM} → ${TO} from the next minor's repositories, held packages moved and held again, kubeadm upgrade apply`, { skip }, () =>
  boot(
    'cp1',
    [
      'cp /standin/cluster-state.json /standin/cluster-state-before.json',
      // apt itself refuses to move a held package: what first boot's holds protect against.
      `sed -i 's|/kubernetes/v1.36/|/kubernetes/v1.37/|' /etc/apt/sources.list.d/kubernetes.list`,
      'apt-get update -qq >/dev/null 2>&1',
      `apt-get install -y kubeadm=${TO}-1.1 > /standin/held.out 2>&1; echo "held-rc=$?"`,
      // Before the first control plane's apply, `upgrade node` would keep the old control plane: refused, nothing changed.
      run('upgrade-node.sh', 'early'),
      run('upgrade-apply.sh', 'apply'),
      // Run again (an apply that was killed and started again): the step resumes, changes nothing more.
      run('upgrade-apply.sh', 'again'),
    ].join('\n'),
    (b) => {
      const out = b.thenOutput;
      const log = b.read('var/log/kubebake/firstboot.log') ?? '';
      assert.equal(b.rc, 0, b.output);
      assert.match(out, /^held-rc=100$/m, out);
      assert.match(b.read('standin/held.out') ?? '', /^E: Held packages were changed and -y was used without --allow-change-held-packages\.$/m);
      assert.match(out, /^early-rc=1$/m);
      assert.match(out, /^early-status=failed: upgrade: kubeadm-config says v1\.36\.4, not v1\.37\.2: kubeadm upgrade apply v1\.37\.2 must run on the first control plane first$/m);
      assert.match(b.read('standin/early.out') ?? '', /kubebake: step upgrade failed: kubeadm-config says v1\.36\.4/);
      assert.match(out, /^apply-rc=0$/m, `${b.read('standin/apply.out')}\n${log.slice(-3000)}`);
      assert.match(out, /^apply-status=ok$/m);
      assert.match(out, /^again-rc=0$/m, b.read('standin/again.out'));
      // Real dpkg: the new versions, each held again.
      const dpkg = dpkgStatus(b.read('var/lib/dpkg/status') ?? '');
      for (const p of ['kubeadm', 'kubelet', 'kubectl']) assert.equal(dpkg.get(p), `${TO}-1.1 hold ok installed`, p);
      assert.equal(dpkg.get('cri-tools'), '1.37.0-1.1 hold ok installed');
      assert.equal(dpkg.get('cri-o'), '1.37.0-1.1 hold ok installed');
      // The repositories of the new minor, and the packages fetched from them.
      assert.equal(b.read('etc/apt/sources.list.d/kubernetes.list'), `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] ${URL}/kubernetes/v1.37/ /\n`);
      assert.equal(b.read('etc/apt/sources.list.d/cri-o.list'), `deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.asc] ${URL}/cri-o/v1.37/ /\n`);
      for (const deb of [`kubeadm_${TO}-1.1_all.deb`, `kubelet_${TO}-1.1_all.deb`, 'cri-o_1.37.0-1.1_all.deb']) {
        assert.ok(b.mirrorLog.some((l) => l.includes(`/v1.37/`) && l.includes(deb) && l.endsWith(' 200')), `${deb}: ${b.mirrorLog.join('\n')}`);
      }
      // kubeadm upgrade apply ran once per apply run, after kubeadm was upgraded; the cluster and this node now run TO.
      const calls = b.calls.filter((c) => c.startsWith('kubeadm upgrade'));
      assert.deepEqual(calls, [`kubeadm upgrade apply -y v${TO}`, `kubeadm upgrade apply -y v${TO}`]);
      const state = b.clusterState() as { version: string; nodes: Record<string, { version?: string }> };
      assert.equal(state.version, `v${TO}`);
      assert.equal(state.nodes.cp1?.version, TO);
      for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) assert.match(b.read(`etc/kubernetes/manifests/${c}.yaml`) ?? '', new RegExp(`, version v${TO.replace(/\./g, '\\.')}`), c);
      assert.ok(b.calls.includes('systemctl restart kubelet') && b.calls.includes('systemctl restart crio'), b.calls.join('\n'));
      // Through the runner: the step is in the host's list and its log.
      assert.match(b.read('etc/kubebake/steps') ?? '', /\nupgrade\n$/);
      assert.match(log, /^=== upgrade /m);
      firstCluster = { ...b.clusterRecord()!, state: JSON.parse(b.read('standin/cluster-state-before.json')!) };
      upgradedCluster = { ...b.clusterRecord()!, state };
    },
  ));

test('a worker: kubeadm upgrade apply is refused there (no admin.conf); upgrade node waits for the cluster, then upgrades it', { skip }, async () => {
  // The cluster as the first control plane's first boot left it (before its upgrade), for the worker to join.
  assert.ok(firstCluster && upgradedCluster, 'the first control plane booted and was upgraded (test above)');
  await boot(
    'worker1',
    [run('upgrade-apply.sh', 'apply'), run('upgrade-node.sh', 'node')].join('\n'),
    (b) => {
      const out = b.thenOutput;
      assert.equal(b.read('var/lib/kubebake/steps-done')?.includes('bootstrap'), true, b.read('var/log/kubebake/firstboot.log'));
      assert.match(out, /^apply-rc=1$/m, out);
      assert.match(b.read('standin/apply.out') ?? '', /couldn't create a Kubernetes client from file "\/etc\/kubernetes\/admin\.conf"/);
      assert.match(out, /^node-rc=1$/m);
      assert.match(out, /^node-status=failed: upgrade: kubeadm-config says v1\.36\.4, not v1\.37\.2/m);
    },
    firstCluster,
  );
  // The same worker in a cluster whose first control plane applied: the node step upgrades it.
  await boot(
    'worker1',
    run('upgrade-node.sh', 'node'),
    (b) => {
      assert.match(b.thenOutput, /^node-rc=0$/m, `${b.read('standin/node.out')}\n${(b.read('var/log/kubebake/firstboot.log') ?? '').slice(-3000)}`);
      const dpkg = dpkgStatus(b.read('var/lib/dpkg/status') ?? '');
      assert.equal(dpkg.get('kubelet'), `${TO}-1.1 hold ok installed`);
      assert.deepEqual(b.calls.filter((c) => c.startsWith('kubeadm upgrade')), ['kubeadm upgrade node']);
      assert.match(b.read('var/lib/kubelet/config.yaml') ?? '', new RegExp(`version v${TO.replace(/\./g, '\\.')}`));
      const state = b.clusterState() as { nodes: Record<string, { version?: string }> };
      assert.equal(state.nodes.worker1?.version, TO);
    },
    upgradedCluster,
  );
});

test("the kubeadm stand-in refuses what kubeadm's upgrade policy refuses: a skipped minor, too old kubelets, a cluster two minors behind upgrade node; upgrade node before apply keeps the old control plane", { skip: sandboxUnavailable() }, async () => {
  const p = await renderPlan(profile('default'));
  const tree = renderCloudInitTree(p);
  const cp1 = p.nodes.find((n) => n.name === 'cp1')!;
  // Edits the cluster's record (kubeadm-config's version, a Node's kubelet) as a test would find it.
  const edit = (py: string): string => `python3 -c 'import json; f="/standin/cluster-state.json"; s=json.load(open(f)); ${py}; json.dump(s, open(f, "w"))'`;
  const then = [
    edit(`s["version"]="v1.35.3"`),
    'kubeadm upgrade apply -y v1.37.2 > /standin/skip.out 2>&1; echo "skip-rc=$?"',
    'kubeadm upgrade node > /standin/node-old.out 2>&1; echo "node-old-rc=$?"',
    edit(`s["version"]="v1.36.4"; s["nodes"]["old"]={"labels":[],"taints":[],"version":"1.33.9"}`),
    'kubeadm upgrade apply -y v1.37.2 > /standin/skew.out 2>&1; echo "skew-rc=$?"',
    'kubeadm upgrade node > /standin/early.out 2>&1; echo "early-rc=$?"',
    'cat /etc/kubernetes/manifests/kube-apiserver.yaml',
    'kubeadm upgrade apply -y v1.37.2 --force > /standin/forced.out 2>&1; echo "forced-rc=$?"',
  ].join('\n');
  bootInSandbox({ seed: hostSeed(tree, 'cp1'), kubernetesVersion: p.kubernetes.version, mac: cp1.mac, nic: cp1.interface, then }, (b) => {
    const out = b.thenOutput;
    assert.equal(b.read('var/lib/kubebake/status'), 'ok\n', b.read('var/log/kubebake/firstboot.log'));
    assert.match(out, /^skip-rc=1$/m, out);
    assert.match(b.read('standin/skip.out') ?? '', /error execution phase preflight: the version argument is invalid due to these fatal errors:[\s\S]*Specified version to upgrade to "v1\.37\.2" is too high; kubeadm can upgrade only 1 minor version at a time/);
    assert.match(out, /^node-old-rc=1$/m);
    assert.match(b.read('standin/node-old.out') ?? '', /this version of kubeadm only supports deploying clusters with the control plane version >= 1\.36\.0\. Current version: v1\.35\.3/);
    assert.match(out, /^skew-rc=1$/m);
    assert.match(b.read('standin/skew.out') ?? '', /There are kubelets in this cluster that are too old that have these versions \[v1\.33\.9\][\s\S]*Can be bypassed if you pass the --force flag/);
    // upgrade node takes kubeadm-config's version: still 1.36.4, so the control plane stays there.
    assert.match(out, /^early-rc=0$/m, b.read('standin/early.out'));
    assert.match(out, /^# stand-in static pod kube-apiserver of cp1, version v1\.36\.4$/m);
    assert.match(out, /^forced-rc=0$/m, b.read('standin/forced.out'));
    assert.equal((b.clusterState() as { version: string }).version, 'v1.37.2');
  });
});
