// Cordon and drain (src/api/drain.ts) against the stand-in kube-apiserver
// (test/helpers/fake-apiserver.ts, fake-apiserver-workloads.ts), with the stored admin
// certificate of a fixture store: what is evicted and what stays, a PodDisruptionBudget that
// answers 429 until it allows a disruption, one that never does (bounded, the pod and the budget
// named), pods that take their time to terminate, and pods no controller would recreate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../src/api/cluster-objects.js';
import { apiRequest } from '../../src/api/kube-api.js';
import { drainNode } from '../../src/api/drain.js';
import { DiagnosticError } from '../../src/diagnostics/diagnostic.js';
import { fixtureSecrets } from '../helpers/cluster.js';
import { startFakeApiServer, type FakeApiServer } from '../helpers/fake-apiserver.js';

const secrets = await fixtureSecrets();

async function withApi(fn: (api: FakeApiServer, client: KubeClient) => Promise<void>): Promise<void> {
  const api = await startFakeApiServer(secrets.ca);
  const client = new KubeClient({ server: new URL(api.url), caCert: secrets.ca.cert, clientCert: secrets.admin.cert, clientKey: secrets.admin.key }, 5000);
  try {
    await fn(api, client);
  } finally {
    await api.close();
  }
}

/** A worker with what a kubeadm cluster runs on one: kube-proxy (DaemonSet), a Deployment's pods, one with emptyDir, a finished Job's pod. */
function worker(api: FakeApiServer): void {
  api.workloads
    .addNode({ name: 'worker1', address: '10.20.0.21' })
    .addNode({ name: 'worker2', address: '10.20.0.22' })
    .addPod({ namespace: 'kube-system', name: 'kube-proxy-a1', node: 'worker1', owner: 'DaemonSet' })
    .addPod({ namespace: 'kube-system', name: 'coredns-7c-x1', node: 'worker1', owner: 'ReplicaSet', labels: { 'k8s-app': 'kube-dns' } })
    .addPod({ namespace: 'shop', name: 'cache-0', node: 'worker1', owner: 'StatefulSet', emptyDir: true, labels: { app: 'cache' } })
    .addPod({ namespace: 'shop', name: 'report-27f', node: 'worker1', owner: 'Job', phase: 'Succeeded' })
    .addPod({ namespace: 'shop', name: 'web-5d-q2', node: 'worker2', owner: 'ReplicaSet', labels: { app: 'web' } });
}

const fast = { retryMs: 50, pollMs: 20 };
const logged = (api: FakeApiServer, re: RegExp): string[] => api.log.filter((l) => re.test(l));

test('drain: cordons with a strategic merge patch, evicts what a controller recreates, leaves DaemonSet pods', () =>
  withApi(async (api, client) => {
    worker(api);
    const lines: string[] = [];
    await drainNode(client, 'worker1', { deadline: Date.now() + 5000, log: (l) => lines.push(l), ...fast });
    assert.equal(api.workloads.nodes.get('worker1')!.unschedulable, true);
    assert.equal(api.workloads.nodes.get('worker2')!.unschedulable, undefined, 'no other node touched');
    assert.deepEqual([...api.workloads.pods.keys()].sort(), ['kube-system/kube-proxy-a1', 'shop/web-5d-q2']);
    assert.deepEqual(logged(api, /eviction/).map((l) => l.split(' ')[1]).sort(), [
      '/api/v1/namespaces/kube-system/pods/coredns-7c-x1/eviction',
      '/api/v1/namespaces/shop/pods/cache-0/eviction',
      '/api/v1/namespaces/shop/pods/report-27f/eviction',
    ]);
    assert.deepEqual(logged(api, /^PATCH/), ['PATCH /api/v1/nodes/worker1 kubernetes-admin']);
    assert.ok(lines[0] === 'node/worker1 cordoned' && lines.at(-1) === 'node/worker1 drained', lines.join('\n'));
  }));

test('drain: the stand-in refuses a PATCH without a patch type, as the API does (415)', () =>
  withApi(async (api) => {
    worker(api);
    const creds = { server: new URL(api.url), caCert: secrets.ca.cert, clientCert: secrets.admin.cert, clientKey: secrets.admin.key };
    const r = await apiRequest(creds, 'PATCH', '/api/v1/nodes/worker1', { spec: { unschedulable: true } }, 5000);
    assert.equal(r.status, 415);
    assert.equal(api.workloads.nodes.get('worker1')!.unschedulable, undefined);
  }));

test('drain: a PodDisruptionBudget answers 429 until it allows a disruption; the eviction is retried until then', () =>
  withApi(async (api, client) => {
    worker(api);
    const pdb = { namespace: 'kube-system', name: 'coredns', selector: { 'k8s-app': 'kube-dns' }, disruptionsAllowed: 0, desiredHealthy: 2, currentHealthy: 2 };
    api.workloads.pdbs.push(pdb);
    // The Deployment's new replica becomes ready elsewhere: the budget allows one disruption.
    setTimeout(() => (pdb.disruptionsAllowed = 1), 300);
    const lines: string[] = [];
    await drainNode(client, 'worker1', { deadline: Date.now() + 5000, log: (l) => lines.push(l), ...fast });
    assert.ok(!api.workloads.pods.has('kube-system/coredns-7c-x1'));
    assert.ok(logged(api, /coredns-7c-x1\/eviction/).length >= 3, 'evicted again after each 429');
    assert.equal(pdb.disruptionsAllowed, 0, 'the eviction used the allowance');
    assert.ok(lines.some((l) => /coredns-7c-x1 not evicted yet .*Cannot evict pod as it would violate the pod's disruption budget\. The disruption budget coredns needs 2 healthy pods and has 2 currently/.test(l)), lines.join('\n'));
  }));

test('drain: a budget that never allows it ends at the deadline, naming the pod and the budget', () =>
  withApi(async (api, client) => {
    worker(api);
    api.workloads.pdbs.push({ namespace: 'kube-system', name: 'coredns', selector: { 'k8s-app': 'kube-dns' }, disruptionsAllowed: 0, desiredHealthy: 2, currentHealthy: 2 });
    const t0 = Date.now();
    await assert.rejects(drainNode(client, 'worker1', { deadline: Date.now() + 600, ...fast }), (e: unknown) => {
      assert.ok(e instanceof DiagnosticError);
      assert.equal(e.diagnostics[0]!.code, 'drain.timed-out');
      assert.match(e.diagnostics[0]!.message, /worker1 was not drained within --drain-timeout; still there: kube-system\/coredns-7c-x1: Cannot evict pod .* The disruption budget coredns needs 2 healthy pods and has 2 currently$/);
      assert.doesNotMatch(e.diagnostics[0]!.message, /cache-0|report-27f/, 'the pods that went are not named');
      return true;
    });
    assert.ok(Date.now() - t0 < 2000, 'bounded by the deadline');
    assert.ok(api.workloads.pods.has('kube-system/coredns-7c-x1'));
    assert.equal(api.workloads.nodes.get('worker1')!.unschedulable, true, 'the node stays cordoned');
  }));

test('drain: waits until an evicted pod has terminated; one that outlives the deadline is named', () =>
  withApi(async (api, client) => {
    api.workloads.addNode({ name: 'worker1', address: '10.20.0.21' }).addPod({ namespace: 'shop', name: 'slow-0', node: 'worker1', owner: 'StatefulSet', terminatingMs: 400 });
    const t0 = Date.now();
    await drainNode(client, 'worker1', { deadline: Date.now() + 5000, ...fast });
    assert.ok(Date.now() - t0 >= 380, 'it waited for the pod to go');
    assert.ok(!api.workloads.pods.has('shop/slow-0'));

    api.workloads.addPod({ namespace: 'shop', name: 'slower-0', node: 'worker1', owner: 'StatefulSet', terminatingMs: 5000 });
    await assert.rejects(drainNode(client, 'worker1', { deadline: Date.now() + 300, ...fast }), /shop\/slower-0: evicted, but still terminating/);
  }));

test('drain: pods no controller would recreate are refused (nothing evicted) unless asked', () =>
  withApi(async (api, client) => {
    worker(api);
    api.workloads.addPod({ namespace: 'default', name: 'debug-shell', node: 'worker1' });
    await assert.rejects(drainNode(client, 'worker1', { deadline: Date.now() + 5000, ...fast }), (e: unknown) => {
      assert.ok(e instanceof DiagnosticError);
      assert.equal(e.diagnostics[0]!.code, 'drain.unmanaged');
      assert.match(e.diagnostics[0]!.message, /worker1 runs pods that no controller would recreate elsewhere: default\/debug-shell/);
      return true;
    });
    assert.deepEqual(logged(api, /eviction/), []);
    await drainNode(client, 'worker1', { deadline: Date.now() + 5000, evictUnmanaged: true, ...fast });
    assert.ok(!api.workloads.pods.has('default/debug-shell'));
  }));
