// The sandbox's stand-ins fail where the real tools fail (test/helpers/sandbox.ts): apt knows only
// the packages the real repositories publish and commands exist only once installed; kubeadm
// decodes its configuration strictly and checks a join against its cluster's init; curl and the
// load balancer probe fail or hang on request, so first boot's bounded waits and failure paths
// run; and the node-labelling script runs against a kubectl that knows which nodes joined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPlan } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { bootInSandbox, hostSeed, sandboxUnavailable, type BootOptions, type BootResult } from '../helpers/sandbox.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import type { RenderPlan } from '../../src/plan/plan.js';
import type { Topology } from '../../src/topology/types.js';

const skip = sandboxUnavailable();

async function cluster(edit: (t: Topology) => Topology = (t) => t): Promise<{ plan: RenderPlan; seed: (host: string, extra?: Partial<BootOptions>) => BootOptions }> {
  const plan = await renderPlan(edit(profile('default')));
  const tree = renderCloudInitTree(plan);
  return {
    plan,
    seed: (host, extra = {}) => {
      const node = plan.nodes.find((n) => n.name === host)!;
      return { seed: hostSeed(tree, host), kubernetesVersion: plan.kubernetes.version, mac: node.mac, nic: node.interface, ...extra };
    },
  };
}

const status = (boot: BootResult): string => boot.read('var/lib/kubebake/status') ?? '';
const log = (boot: BootResult): string => boot.read('var/log/kubebake/firstboot.log') ?? '';

test('apt-get: commands exist only once their package is installed; an unknown package fails as apt does (exit 100)', { skip }, async () => {
  const { seed } = await cluster();
  const then = [
    'command -v kubeadm || echo "no kubeadm"',
    'command -v crictl || echo "no crictl"',
    'apt-get install no-such-package; echo "rc=$?"',
    'apt-get install kubeadm=0.0.1-1; echo "rc=$?"',
    'apt-get install kubelet; echo "rc=$?"',
    'command -v kubelet; dpkg-query -W -f=\'${Version}\' kubernetes-cni; echo',
  ].join('\n');
  bootInSandbox(seed('lb1', { then }), (boot) => {
    assert.equal(status(boot), 'ok\n', log(boot));
    const out = boot.thenOutput.split('\n');
    assert.ok(out.includes('no kubeadm') && out.includes('no crictl'), boot.thenOutput);
    assert.ok(out.includes('E: Unable to locate package no-such-package'), boot.thenOutput);
    assert.ok(out.includes("E: Version '0.0.1-1' for 'kubeadm' was not found"), boot.thenOutput);
    assert.deepEqual(out.filter((l) => l.startsWith('rc=')), ['rc=100', 'rc=100', 'rc=0']);
    // kubelet brings its dependency kubernetes-cni (kubernetes/release metadata.yaml).
    assert.ok(out.includes('/usr/bin/kubelet'), boot.thenOutput);
    assert.ok(out.includes('1.37.0-1.1'), boot.thenOutput);
  });
});

test('kubeadm stand-in: a misspelled field and a YAML 1.1 boolean name fail as strict decoding does', { skip }, async () => {
  const { plan, seed } = await cluster();
  const base = seed('cp1');
  // The kubeadm config is a literal block in user-data; nodeRegistration's fields are indented by six spaces.
  for (const [from, to, error] of [
    ['      criSocket: ', '      criSoket: ', 'strict decoding error: unknown field "nodeRegistration.criSoket"'],
    ['      name: cp1\n', '      name: no\n', 'cannot unmarshal bool into Go struct field nodeRegistration.name of type string'],
  ] as const) {
    const userData = base.seed['user-data'];
    const edited = userData.replace(from, to);
    assert.notEqual(edited, userData, `the rendered config has "${from.trim()}"`);
    bootInSandbox({ ...base, seed: { ...base.seed, 'user-data': edited } }, (boot) => {
      assert.equal(status(boot), `failed: bootstrap: kubeadm init failed ${plan.bootstrap.joinAttempts} times\n`);
      assert.ok(log(boot).includes(error), log(boot));
    });
  }
});

test('kubeadm stand-in: a join is checked against its cluster\'s init (a wrong CA pin fails discovery)', { skip }, async () => {
  const { plan, seed } = await cluster();
  const wrong = { tokens: [plan.secrets.token.value], caCertHash: `sha256:${'0'.repeat(64)}`, endpoint: plan.endpoint.hostPort };
  bootInSandbox(seed('worker1', { cluster: wrong }), (boot) => {
    assert.equal(status(boot), `failed: bootstrap: kubeadm join failed ${plan.bootstrap.joinAttempts} times\n`);
    assert.match(log(boot), /none of the public keys "sha256:0{64}" are pinned/);
  });
  bootInSandbox(seed('worker1'), (boot) => {
    assert.match(log(boot), /no cluster there/, 'a join with no cluster to join fails');
  });
});

test('bounded wait: the API never answers through the load balancer; the worker gives up after apiWaitSeconds, backing off', { skip }, async () => {
  // 6 s: enough tries for the backoff to show even on a loaded machine (each try runs a few stand-ins).
  const { plan, seed } = await cluster((t) => ({ ...t, bootstrap: { ...t.bootstrap, apiWaitSeconds: 6 } }));
  bootInSandbox(seed('worker1', { respond: ['/readyz 7'] }), (boot) => {
    assert.equal(status(boot), `failed: bootstrap: timed out after 6s waiting for the API through the load balancer (https://${plan.endpoint.hostPort}/readyz)\n`);
    assert.ok(!boot.calls.some((c) => c.startsWith('kubeadm join')), 'no join without an API');
    // Backoff doubling from 2 s, capped at 30 s (test/steps/wait-for.test.ts checks the cap with
    // SECONDS advanced by each sleep; here the stand-in sleeps 0.05 s, so the wait sees many).
    const sleeps = boot.calls.filter((c) => c.startsWith('sleep ')).slice(0, 6);
    assert.ok(sleeps.length >= 5, boot.calls.join('\n'));
    assert.deepEqual(sleeps, ['sleep 2', 'sleep 4', 'sleep 8', 'sleep 16', 'sleep 30', 'sleep 30'].slice(0, sleeps.length));
  });
});

test('bounded wait: the load balancer never listens; the first control plane gives up before kubeadm init', { skip }, async () => {
  const { plan, seed } = await cluster((t) => ({ ...t, bootstrap: { ...t.bootstrap, apiWaitSeconds: 2 } }));
  bootInSandbox(seed('cp1', { respond: [`tcp:${plan.endpoint.address}:${plan.endpoint.port} 124`] }), (boot) => {
    assert.equal(status(boot), `failed: bootstrap: timed out after 2s waiting for the load balancer at ${plan.endpoint.hostPort}\n`);
    assert.ok(!boot.calls.some((c) => c.startsWith('kubeadm init')));
  });
});

test('the API answers after two refused requests: the worker retries, then joins', { skip }, async () => {
  const { plan, seed } = await cluster();
  const init = bootInSandbox(seed('cp1'), (boot) => boot.clusterRecord());
  bootInSandbox(seed('worker1', { respond: ['/readyz 7 2'], cluster: init }), (boot) => {
    assert.equal(status(boot), 'ok\n', log(boot));
    assert.equal(boot.calls.filter((c) => c.includes(`https://${plan.endpoint.hostPort}/readyz`)).length, 3);
    assert.equal(boot.calls.filter((c) => c.startsWith('kubeadm join')).length, 1);
  });
});

test('node labels kubelet may not set itself are applied by label-nodes.sh once the nodes have joined', { skip }, async () => {
  // The default profile gives both workers node-role.kubernetes.io/worker, which kubelet may not set.
  const { seed } = await cluster();
  // As the first control plane's bootstrap starts it (systemd-run … bash -euo pipefail <script>).
  const then = 'bash -euo pipefail /usr/local/lib/kubebake/label-nodes.sh; echo "exit $?"';
  bootInSandbox(seed('cp1', { then, nodes: ['cp1', 'cp2', 'cp3', 'worker1', 'worker2'] }), (boot) => {
    assert.equal(status(boot), 'ok\n', log(boot));
    assert.match(boot.thenOutput, /^exit 0$/m);
    assert.equal(boot.read('standin/labels'), 'worker1 node-role.kubernetes.io/worker=\nworker2 node-role.kubernetes.io/worker=\n');
    assert.ok(boot.calls.includes('kubectl get node worker1'), boot.calls.join('\n'));
  });
});
