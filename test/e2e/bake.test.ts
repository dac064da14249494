// A Packer bake, simulated in the sandbox of test/helpers/sandbox.ts: the build machine boots
// with kubebake's seed CD (the real cloud-init creates the build user from it), then each
// provisioning script runs in order exactly as Packer's shell provisioner runs it (uploaded, then
// `sudo -n env <Packer's variables> bash <path>` as the build user), then the shutdown command seals the image. The
// stand-ins keep package, hold, unit and image state, so the image verification step checks what
// the install steps really left. Then hosts of an `image: baked` cluster boot on the result: the
// bake's overlay layer is the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, withSecrets, type ClusterPlan } from '../../src/plan/plan.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import { SEED_META_DATA, SEED_USER_DATA_TEMPLATE } from '../../src/render/packer/cidata.js';
import { EXECUTE_COMMAND } from '../../src/render/packer/image-hcl.js';
import { buildImageManifests as packerImages, type ImageManifest as PackerImage } from '../../src/manifest/image-manifest.js';
import { scriptPath } from '../../src/render/packer/layout.js';
import { renderPackerTree } from '../../src/render/packer/tree.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import { cniImages } from '../../src/steps/prepull.js';
import { buildArtifactInventory } from '../../src/manifest/inventory.js';
import { BUILD_USER, CLOUD_INIT_SUDOERS, sealCommand } from '../../src/steps/sysprep.js';
import type { Topology } from '../../src/topology/types.js';
import { fixtureSecrets, text } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { renderExecuteCommand } from '../helpers/packer-shell.js';
import { bootInSandbox, hostSeed, sandboxUnavailable, type BootResult, type ClusterRecord } from '../helpers/sandbox.js';

const skip = sandboxUnavailable();
const SCRIPTS = '/var/tmp/kubebake-bake';
const BUILD_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN0YW5kLWluIGJ1aWxkIGtleSBmb3IgdGVzdHM kubebake-build';

/** Packer's part: every script in order as the build user through sudo, then the shutdown command. */
function packerRun(plan: ClusterPlan, image: PackerImage): string {
  const runs = image.provisions.map(({ step }, i) => {
    const file = scriptPath(i, step);
    const uploaded = `/tmp/script_${i}.sh`;
    // Filled in as Packer fills it; its two own variables, with the builder the plan names.
    const execute = renderExecuteCommand(EXECUTE_COMMAND, { vars: { PACKER_BUILD_NAME: image.name, PACKER_BUILDER_TYPE: plan.packer.builder }, path: uploaded });
    return `install -m 0755 ${SCRIPTS}/${file} ${uploaded}
if su -s /bin/bash ${BUILD_USER} -c "${execute}" > ${SCRIPTS}/${step.name}.log 2>&1; then echo "ok ${file}"; else echo "FAILED ${file}"; cat ${SCRIPTS}/${step.name}.log; exit 1; fi`;
  });
  return `${runs.join('\n')}\nsu -s /bin/bash ${BUILD_USER} -c ${JSON.stringify(sealCommand())} && echo sealed`;
}

/** Bakes `image` from the rendered packer/ tree; `replaced` swaps some of its files (path under packer/ → content). */
function bake<T>(plan: ClusterPlan, image: PackerImage, inspect: (boot: BootResult) => T, replaced: Record<string, string> = {}): T {
  const tree = renderPackerTree(plan);
  const file = (path: string): string => replaced[path] ?? text(tree, path);
  const files: Record<string, string> = {};
  image.provisions.forEach(({ step }, i) => (files[`${SCRIPTS}/${scriptPath(i, step)}`] = file(`${image.name}/${scriptPath(i, step)}`)));
  const userData = text(tree, `${image.name}/${SEED_USER_DATA_TEMPLATE}`).replace('${jsonencode(ssh_public_key)}', JSON.stringify(BUILD_KEY));
  return bootInSandbox(
    {
      seed: { 'user-data': userData, 'meta-data': text(tree, `${image.name}/${SEED_META_DATA}`) },
      kubernetesVersion: plan.kubernetes.version,
      image: files,
      then: packerRun(plan, image),
      // The disk Packer's qemu builder gives the build machine: disk_size = packer.diskSizeGB.
      diskBytes: plan.packer.diskSizeGB * 2 ** 30,
    },
    inspect,
  );
}

/** The default profile, with `image: baked` (the images are what its hosts then boot). */
function bakedDefault(): Topology {
  return { ...profile('default'), image: 'baked' };
}

test('node image: every provisioning script passes (verification included), sysprep and seal leave no identity or build user', { skip }, async () => {
  const plan = buildPlan(bakedDefault());
  const image = packerImages(plan).find((i) => i.kind === 'node')!;
  const secrets = await fixtureSecrets();
  const clusterTree = renderCloudInitTree(withSecrets(plan, secrets));
  bake(plan, image, (boot) => {
    assert.deepEqual(boot.errors, [], boot.output);
    assert.match(boot.thenOutput, /sealed\n$/, boot.thenOutput);
    assert.match(boot.thenOutput, /^ok scripts\/\d+-image-verify\.sh$/m);
    // Provenance: valid JSON naming the versions baked in.
    const provenance = JSON.parse(boot.read(HOST_PATHS.imageProvenance.slice(1)) ?? 'null');
    assert.match(JSON.stringify(provenance), new RegExp(plan.kubernetes.version.replace(/\./g, '\\.')));
    // Pre-pulled: every control-plane image and the CNI's.
    const pulled = (boot.read('standin/images') ?? '').split('\n');
    for (const i of cniImages(plan)) assert.ok(pulled.includes(i), `${i} was pulled`);
    assert.ok(pulled.some((i) => i.includes(`kube-apiserver:v${plan.kubernetes.version}`)));
    // `kubebake manifest` lists exactly what was pulled; etcd, CoreDNS and pause by name, their tags being kubeadm's.
    const inventory = buildArtifactInventory(plan);
    const listed = (i: string): boolean => inventory.images.some((m) => m.image === i) || inventory.imagesResolvedByKubeadm.names.includes(i.slice(0, i.lastIndexOf(':')));
    assert.deepEqual(pulled.filter((i) => i && !listed(i)), []);
    for (const m of inventory.images) assert.ok(pulled.includes(m.image), `${m.image} was pulled`);
    // Sealed: a clone boots as a new machine, and no one can log in with the build key.
    assert.equal(boot.read('etc/machine-id'), '');
    assert.ok(!boot.exists('var/lib/cloud/instance'), 'cloud-init state is cleaned');
    assert.ok(!boot.exists('etc/ssh/ssh_host_ed25519_key'), 'no SSH host key in the image');
    assert.doesNotMatch(boot.read('etc/passwd') ?? '', new RegExp(`^${BUILD_USER}:`, 'm'));
    assert.ok(!boot.exists(CLOUD_INIT_SUDOERS.slice(1)), 'the build user sudo rule is gone');
    assert.ok(!boot.exists(`home/${BUILD_USER}`));
    assert.ok(boot.calls.includes('shutdown -P now'));
    assert.ok(!boot.calls.some((c) => /^kubeadm (init|join)/.test(c)), 'baking runs no cluster bootstrap');

    // The image in use: the first control plane, then a worker (joining the cluster its init
    // made) boot on it and install nothing.
    let cluster: ClusterRecord | undefined;
    for (const node of [plan.nodes.find((n) => n.initNode)!, plan.nodes.find((n) => n.role === 'worker')!]) {
      bootInSandbox(
        {
          seed: hostSeed(clusterTree, node.name),
          kubernetesVersion: plan.kubernetes.version,
          mac: node.mac,
          layers: [boot.layer],
          cluster,
        },
        (host) => {
          if (node.initNode) cluster = host.clusterRecord();
          assert.deepEqual(host.errors, [], host.output);
          assert.equal(host.read('var/lib/kubebake/status'), 'ok\n', host.read('var/log/kubebake/firstboot.log'));
          assert.ok(!host.calls.some((c) => /^apt-get .*(install|update)|^crictl .*pull|images pull/.test(c)), host.calls.join('\n'));
          assert.ok(host.calls.some((c) => new RegExp(`^kubeadm ${node.initNode ? 'init' : 'join'} --config`).test(c)));
        },
      );
    }
  });
});

test('load-balancer image: HAProxy and keepalived baked, verified, sealed', { skip }, () => {
  const plan = buildPlan(bakedDefault());
  const image = packerImages(plan).find((i) => i.kind === 'load-balancer')!;
  bake(plan, image, (boot) => {
    assert.deepEqual(boot.errors, [], boot.output);
    assert.match(boot.thenOutput, /sealed\n$/, boot.thenOutput);
    const packages = boot.read('standin/packages') ?? '';
    assert.match(packages, /^haproxy /m);
    assert.match(packages, /^keepalived /m);
    assert.doesNotMatch(packages, /^kubeadm /m, 'no Kubernetes packages on a load balancer');
  });
});

/**
 * Bakes the default node image with its kube-packages script edited by `edit` (which must change
 * it), and hands the result to `inspect`.
 */
function bakeWithKubePackages(edit: (script: string) => string, inspect: (boot: BootResult) => void): void {
  const plan = buildPlan(bakedDefault());
  const image = packerImages(plan).find((i) => i.kind === 'node')!;
  const tree = renderPackerTree(plan);
  const i = image.provisions.findIndex(({ step }) => step.name === 'kube-packages');
  const path = `${image.name}/${scriptPath(i, image.provisions[i]!.step)}`;
  const broken = edit(text(tree, path));
  assert.notEqual(broken, text(tree, path));
  bake(plan, image, inspect, { [path]: broken });
}

test('verification fails the bake when an install step did not keep its promise (kubelet not held)', { skip }, () =>
  // The bake as rendered, but with the hold removed from the kube-packages script.
  bakeWithKubePackages(
    (script) => script.replace('apt-mark hold kubelet kubeadm kubectl', 'apt-mark hold kubeadm kubectl'),
    (boot) => {
      assert.match(boot.thenOutput, /^FAILED scripts\/\d+-image-verify\.sh$/m, boot.thenOutput);
      assert.match(boot.thenOutput, /image verification FAILED: kubelet is held/);
      assert.doesNotMatch(boot.thenOutput, /sealed/);
    },
  ));

test('a node image whose packages step leaves out cri-tools cannot be baked: prepull finds no crictl', { skip }, () =>
  // kubeadm >= 1.32 and CRI-O do not bring crictl (src/topology/facts/versions.ts, CRI_TOOLS_PACKAGE); before
  // kube-packages installed cri-tools, this is how every bake ended.
  bakeWithKubePackages(
    (script) => script.replace(' "cri-tools=$t"', '').replace('apt-mark hold kubelet kubeadm kubectl cri-tools', 'apt-mark hold kubelet kubeadm kubectl'),
    (boot) => {
      assert.match(boot.thenOutput, /^FAILED scripts\/\d+-prepull\.sh$/m, boot.thenOutput);
      assert.match(boot.thenOutput, /crictl: command not found/);
      assert.doesNotMatch(boot.thenOutput, /sealed/);
    },
  ));
