// `kubebake upgrade plan` against the stand-in kube-apiserver (test/helpers/fake-apiserver.ts and
// fake-apiserver-workloads.ts): it reads what runs (Node versions, kubeadm-config, the kube-apiserver pods) with
// the stored admin certificate, prints the order and the packages, and refuses what upstream
// refuses — each refusal with its reason and fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { startFakeApiServer, type FakeApiServer } from '../helpers/fake-apiserver.js';
import { FakeWorkloads } from '../helpers/fake-apiserver-workloads.js';
import { runningAt } from '../helpers/day2.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';

const PROFILE = readFileSync(repoPath('profiles', 'default.yaml'), 'utf8');
/** The default profile (3 control planes, 2 workers, Calico) at another Kubernetes version. */
const at = (version: string): string => PROFILE.replace('version: "1.37.2"', `version: "${version}"`);

/** Renders the cluster at `version` into `out` (secrets, admin certificate) and writes `topology` as the file to plan with. */
function cluster(out: string, version: string, topology: string): string {
  const first = join(out, 'first.yaml');
  writeFileSync(first, at(version));
  const r = runKubebake(['render', 'cloud-init', '-f', first, '-o', out, '--delivery', 'none']);
  assert.equal(r.status, 0, r.stderr);
  const file = join(out, 'cluster.yaml');
  writeFileSync(file, topology);
  return file;
}

const ca = (out: string): { cert: string; key: string } => ({
  cert: readFileSync(join(out, 'default', 'secrets', 'pki', 'ca.crt'), 'utf8'),
  key: readFileSync(join(out, 'default', 'secrets', 'pki', 'ca.key'), 'utf8'),
});

/** The running cluster: kubeadm-config at `version`, its five nodes with these kubelets. */
const running = (version: string, kubelets: Record<string, string> = {}): FakeWorkloads => runningAt(new FakeWorkloads(), version, kubelets);

async function plan(file: string, out: string, api: FakeApiServer, extra: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runKubebakeAsync(['upgrade', 'plan', '-f', file, '-o', out, '--server', api.url, ...extra]);
}

async function withApi<T>(out: string, c: FakeWorkloads, fn: (api: FakeApiServer) => Promise<T>): Promise<T> {
  const api = await startFakeApiServer(ca(out), { workloads: c });
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}

test('upgrade plan: 1.36 → 1.37 in kubeadm\'s order, the repositories of the new minor, pinned and held packages, what to mirror', async () =>
  withTempDir(async (out) => {
    const file = cluster(out, '1.36.4', PROFILE);
    await withApi(out, running('1.36.4'), async (api) => {
      const r = await plan(file, out, api);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Upgrade plan for cluster default: Kubernetes 1\.36\.4 → 1\.37\.2$/m);
      // The first control plane applies, the others and the workers follow, in this order.
      const order = [...r.stdout.matchAll(/^ +(\d)\. (\S+) +(\S+) +kubelet v1\.36\.4 +(.*)$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]} ${m[4]}`);
      assert.deepEqual(order, [
        '1 cp1 control-plane kubeadm upgrade apply v1.37.2',
        '2 cp2 control-plane kubeadm upgrade node',
        '3 cp3 control-plane kubeadm upgrade node',
        '4 worker1 worker kubeadm upgrade node',
        '5 worker2 worker kubeadm upgrade node',
      ]);
      assert.match(r.stdout, /repository kubernetes +https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.36\/deb\/ → https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.37\/deb\//);
      assert.match(r.stdout, /repository cri-o +https:\/\/download\.opensuse\.org\/repositories\/isv:\/cri-o:\/stable:\/v1\.36\/deb\/ → https:\/\/download\.opensuse\.org\/repositories\/isv:\/cri-o:\/stable:\/v1\.37\/deb\//);
      for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.match(r.stdout, new RegExp(`^  ${p} +1\\.36\\.4 → 1\\.37\\.2, held$`, 'm'));
      assert.match(r.stdout, /^  cri-tools +1\.36\.x → 1\.37\.x, held$/m);
      assert.match(r.stdout, /^  cri-o +1\.36\.x → 1\.37\.x, held$/m);
      assert.match(r.stdout, /^CNI: calico v3\.33\.0 \(unchanged\)$/m);
      for (const image of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) assert.match(r.stdout, new RegExp(`^  image   registry\\.k8s\\.io/${image}:v1\\.37\\.2$`, 'm'));
      assert.match(r.stdout, /^  package kubeadm 1\.37\.2 \(kubernetes\)$/m);
      assert.doesNotMatch(r.stdout, /image .*tigera|1\.36\.4 \(kubernetes\)/, 'what the running version had already is not listed again');
      assert.match(r.stdout, /air gap: kubebake bundle -f .*cluster\.yaml -o DIR/);
      assert.match(r.stdout, /^next: kubebake upgrade apply -f /m);
      // Read only, as the admin certificate's user.
      assert.ok(api.log.length > 0 && api.log.every((l) => /^GET \S+ kubernetes-admin$/.test(l)), api.log.join('\n'));
      // --json: the same plan as data.
      const j = await plan(file, out, api, ['--json']);
      assert.equal(j.status, 0, j.stderr);
      const data = JSON.parse(j.stdout) as { from: string; to: string; nodes: { name: string; kubeadm: string }[]; refusals: unknown[] };
      assert.deepEqual([data.from, data.to, data.refusals.length], ['1.36.4', '1.37.2', 0]);
      assert.deepEqual(data.nodes.map((n) => `${n.name}:${n.kubeadm}`), ['cp1:apply', 'cp2:node', 'cp3:node', 'worker1:node', 'worker2:node']);
    });
  }));

test('upgrade plan: a cluster already at the target has nothing to do; a half-done upgrade plans only what is left', async () =>
  withTempDir(async (out) => {
    const file = cluster(out, '1.36.4', PROFILE);
    await withApi(out, running('1.37.2'), async (api) => {
      const r = await plan(file, out, api);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Every node runs v1\.37\.2 already: nothing to do\./);
    });
    // The first control plane applied (kubeadm-config says 1.37.2) and cp1 runs it; the rest do not yet.
    const half = running('1.37.2', { cp2: '1.36.4', cp3: '1.36.4', worker1: '1.36.4', worker2: '1.36.4' });
    for (const n of ['cp2', 'cp3']) half.pods.get(`kube-system/kube-apiserver-${n}`)!.image = 'registry.k8s.io/kube-apiserver:v1.36.4';
    await withApi(out, half, async (api) => {
      const r = await plan(file, out, api);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^ +1\. cp1 +control-plane +kubelet v1\.37\.2 +done \(kubelet v1\.37\.2\)$/m);
      assert.match(r.stdout, /^ +2\. cp2 +control-plane +kubelet v1\.36\.4 +kubeadm upgrade node$/m);
    });
  }));

/** Plans and checks the refusal: exit 1, the rule's code, its reason and its fix. */
async function refused(file: string, out: string, c: FakeWorkloads, code: string, reason: RegExp, fix: RegExp): Promise<void> {
  await withApi(out, c, async (api) => {
    const r = await plan(file, out, api);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`error\\[${code.replace('.', '\\.')}\\]: `));
    assert.match(r.stdout, reason);
    assert.match(r.stdout, fix);
    assert.doesNotMatch(r.stdout, /^next: /m, 'no next step after a refusal');
  });
}

test('upgrade plan refuses skipping a minor (kube-apiserver must not skip; kubeadm upgrades one minor at a time)', async () =>
  withTempDir(async (out) => {
    const file = cluster(out, '1.35.3', PROFILE);
    await refused(file, out, running('1.35.3'), 'upgrade.skips-minor', /Kubernetes 1\.35\.3 → 1\.37\.2 skips a minor/, /hint: upgrade one minor at a time: set kubernetes\.version to the newest 1\.36 patch/);
  }));

test('upgrade plan refuses a downgrade, also of a patch', async () =>
  withTempDir(async (out) => {
    const file = cluster(out, '1.37.2', at('1.37.1'));
    await refused(file, out, running('1.37.2'), 'upgrade.downgrade', /kubernetes\.version 1\.37\.1 is older than the 1\.37\.2 the cluster runs: kubebake does not downgrade/, /hint: set kubernetes\.version to 1\.37\.2/);
  }));

test('upgrade plan refuses when a kubelet is further behind the target than the skew policy allows (three minors)', async () =>
  withTempDir(async (out) => {
    const file = cluster(out, '1.36.4', PROFILE);
    // worker2 at 1.33: four minors behind 1.37. worker1 at 1.34: three behind, allowed.
    await refused(file, out, running('1.36.4', { worker1: '1.34.6', worker2: '1.33.9' }), 'upgrade.kubelet-too-old', /kubelet too old for Kubernetes 1\.37\.2 on worker2 \(v1\.33\.9\): a kubelet may be at most 3 minor versions older/, /hint: first bring those nodes to the version the control plane runs/);
  }));

test('upgrade plan refuses a CNI release not tested with the target minor', async () =>
  withTempDir(async (out) => {
    // Calico v3.33.0 is tested against 1.35–1.37 (tigera/docs): 1.33 → 1.34 would run it untested.
    const file = cluster(out, '1.33.5', at('1.34.3'));
    await refused(file, out, running('1.33.5'), 'upgrade.cni-untested', /calico v3\.33\.0 is tested against Kubernetes 1\.35–1\.37, not 1\.34/, /hint: upgrade to a Kubernetes minor calico v3\.33\.0 is tested against/);
  }));

test('upgrade plan refuses nodes it cannot account for: a host that never joined, a Node not in the topology, a NotReady node', async () =>
  withTempDir(async (out) => {
    const file = cluster(out, '1.36.4', PROFILE);
    const missing = running('1.36.4');
    missing.nodes.delete('worker2');
    await refused(file, out, missing, 'upgrade.host-not-a-node', /worker2 is a host of the topology but not a Node of the cluster/, /hint: boot and join them first/);
    const stranger = running('1.36.4');
    stranger.addNode({ name: 'worker9', address: '10.20.0.29', kubeletVersion: 'v1.36.4' });
    await refused(file, out, stranger, 'upgrade.node-not-a-host', /worker9 is a Node of the cluster but not in the topology/, /hint: add them to the topology/);
    const down = running('1.36.4');
    down.nodes.get('cp2')!.ready = false;
    await refused(file, out, down, 'upgrade.node-not-ready', /cp2 is not Ready/, /hint: bring them back/);
  }));

test('upgrade plan: no store, an unreachable API and bad flags are told apart', async () =>
  withTempDir(async (out) => {
    const file = join(out, 'cluster.yaml');
    writeFileSync(file, PROFILE);
    const none = runKubebake(['upgrade', 'plan', '-f', file, '-o', out, '--server', 'https://127.0.0.1:1']);
    assert.equal(none.status, 1, none.stderr);
    assert.match(none.stderr, /no secrets store in .*default\/secrets/);
    const rendered = cluster(out, '1.36.4', PROFILE);
    const down = runKubebake(['upgrade', 'plan', '-f', rendered, '-o', out, '--server', 'https://127.0.0.1:1']);
    assert.equal(down.status, 1, down.stderr);
    assert.match(down.stderr, /cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:1/);
    assert.doesNotMatch(down.stderr, /\n\s+at .*:\d+:\d+\)/, 'no stack trace');
    const bad = runKubebake(['upgrade', 'plan', '-f', rendered, '-o', out, '--server', 'http://127.0.0.1:6443']);
    assert.equal(bad.status, 2, bad.stderr);
  }));
