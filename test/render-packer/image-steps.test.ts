// The image-only steps run for real, against stand-ins: the provenance step writes JSON that
// parses, the verify step passes on a good image and fails (listing why) on a bad one, sysprep
// removes machine identity and build credentials. Commands the steps call (kubeadm, crictl,
// dpkg-query, systemctl, cloud-init…) are STAND-IN shell scripts written here, and absolute paths
// are moved under a temp root, so nothing on this machine is read or changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildPlan, type ClusterPlan } from '../../src/plan/plan.js';
import { imageVerifyStep } from '../../src/steps/image-verify.js';
import { cniImages, prepullStep } from '../../src/steps/prepull.js';
import { PROVENANCE_SCHEMA, provenanceStep } from '../../src/steps/provenance.js';
import { BUILD_USER, sealCommand, sealStep, sysprepStep } from '../../src/steps/sysprep.js';
import { profile } from '../helpers/repo.js';
import { run, shellcheck } from '../helpers/tools.js';
import { standaloneScript } from '../../src/render/scripts.js';

const KUBEADM_IMAGES = [
  'registry.k8s.io/kube-apiserver:v1.37.2',
  'registry.k8s.io/kube-controller-manager:v1.37.2',
  'registry.k8s.io/kube-scheduler:v1.37.2',
  'registry.k8s.io/kube-proxy:v1.37.2',
  'registry.k8s.io/coredns/coredns:v1.13.1',
  'registry.k8s.io/pause:3.10.1',
  'registry.k8s.io/etcd:3.6.5-0',
];

interface Sandbox { root: string; bin: string; cleanup: () => void }

function sandbox(stubs: Record<string, string>, files: Record<string, string> = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'kubebake-image-steps-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n# STAND-IN for ${name} (test fixture)\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return { root, bin, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The script with its absolute /etc, /var and /root paths moved under the sandbox root. */
const rooted = (script: string, root: string): string => script.replace(/(?<=[\s'"=])\/(etc|var|root)(?=[/\s]|$)/gm, `${root}/$1`);

function runStep(script: string, box: Sandbox): { status: number | null; stdout: string; stderr: string } {
  const file = join(box.root, 'step.sh');
  writeFileSync(file, rooted(script, box.root));
  return run('env', [`PATH=${box.bin}:/usr/bin:/bin`, 'bash', file]);
}

/** A node as the image steps leave it: versions, holds, units, modules, sysctls, images. */
function goodNode(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'dpkg-query': `fmt=$2; pkg=$3
case "$fmt" in *Status*) printf 'install ok installed'; exit 0 ;; esac
case "$pkg" in
  kubeadm|kubectl|kubelet) printf '1.37.2-1.1' ;;
  cri-o) printf '1.37.1-1.1' ;;
  cri-tools) printf '1.37.0-1.1' ;;
  *) exit 1 ;;
esac`,
    kubeadm: `if [ "$1" = version ]; then echo v1.37.2; exit 0; fi
if [ "$1 $2 $3" = "config images list" ]; then printf '%s\\n' ${KUBEADM_IMAGES.join(' ')}; exit 0; fi
exit 1`,
    kubelet: `echo "Kubernetes v1.37.2"`,
    'apt-mark': `[ "$1" = showhold ] && printf 'kubeadm\\nkubectl\\nkubelet\\n'`,
    systemctl: `[ "$1" = is-enabled ] && echo enabled`,
    swapon: `exit 0`,
    crictl: `exit 0`,
    ...overrides,
  };
}

const NODE_FILES = {
  'etc/modules-load.d/k8s.conf': 'overlay\nbr_netfilter\n',
  'etc/sysctl.d/k8s.conf': 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n',
  'etc/fstab': 'LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n#kubebake swap off: /swap.img none swap sw 0 0\n',
};

const plan = (): ClusterPlan => buildPlan(profile('default'));
const IMAGE = { name: 'node-ubuntu-24-04', kind: 'node' as const, builder: 'qemu' as const };

test('provenance writes valid JSON: the plan, installed versions, images, build time from date -u', () => {
  const p = plan();
  const box = sandbox(goodNode());
  try {
    const r = runStep(standaloneScript(provenanceStep(p, IMAGE)), box);
    assert.equal(r.status, 0, r.stderr);
    const record = JSON.parse(readFileSync(join(box.root, 'etc/kubebake/image.json'), 'utf8'));
    assert.equal(record.schema, PROVENANCE_SCHEMA);
    assert.equal(record.image, 'node-ubuntu-24-04');
    assert.equal(record.kubernetes, '1.37.2');
    assert.deepEqual(record.cni, { plugin: 'calico', version: p.cni.version });
    assert.deepEqual(record.cniImages, cniImages(p));
    assert.deepEqual(record.kubernetesImages, KUBEADM_IMAGES);
    assert.equal(record.packages.kubeadm, '1.37.2-1.1');
    assert.equal(record.packages['cri-o'], '1.37.1-1.1');
    assert.equal(record.sourceImage.url, p.os.image.url);
    assert.match(record.builtAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(record.builtAt) - Date.now()) < 10 * 60_000, 'the build time is taken when the step runs');
  } finally {
    box.cleanup();
  }
});

test('provenance keeps JSON valid whatever the plan values contain (escaped in TypeScript, quoted heredoc)', () => {
  const p = plan();
  const weird = { ...p, os: { ...p.os, image: { ...p.os.image, url: 'https://x/"quoted"\\back$HOME`id`\nEOF_PROVENANCE\n' } } };
  const box = sandbox(goodNode());
  try {
    const r = runStep(standaloneScript(provenanceStep(weird, IMAGE)), box);
    assert.equal(r.status, 0, r.stderr);
    const record = JSON.parse(readFileSync(join(box.root, 'etc/kubebake/image.json'), 'utf8'));
    assert.equal(record.sourceImage.url, weird.os.image.url);
  } finally {
    box.cleanup();
  }
});

test('verify passes on an image that keeps every promise', () => {
  const box = sandbox(goodNode(), { ...NODE_FILES, 'etc/kubebake/image.json': '{"schema": "x"}' });
  try {
    const r = runStep(standaloneScript(imageVerifyStep(plan(), 'node')), box);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all checks passed/);
    assert.match(r.stdout, /ok: image docker\.io\/calico\/node:v3\.30\.3 is present/);
  } finally {
    box.cleanup();
  }
});

test('verify fails the build, naming every broken promise', () => {
  const broken = goodNode({
    kubelet: `echo "Kubernetes v1.37.1"`,
    'apt-mark': `[ "$1" = showhold ] && printf 'kubeadm\\nkubelet\\n'`,
    swapon: `echo "/swap.img file 2G 0B -2"`,
    crictl: `case "$*" in *calico/node:*) exit 1 ;; esac; exit 0`,
  });
  const files = { ...NODE_FILES, 'etc/sysctl.d/k8s.conf': 'net.ipv4.ip_forward = 1\n', 'etc/fstab': '/swap.img none swap sw 0 0\n' };
  const box = sandbox(broken, files);
  try {
    const r = runStep(standaloneScript(imageVerifyStep(plan(), 'node')), box);
    assert.equal(r.status, 1);
    for (const why of [
      'kubelet reports v1.37.2',
      'kubectl is held',
      'net.bridge.bridge-nf-call-iptables = 1 in ', // paths are under the sandbox root here
      'net.bridge.bridge-nf-call-ip6tables = 1 in ',
      'no active swap (swapon --show)',
      'no active swap line in ',
      'image docker.io/calico/node:v3.30.3 is present',
    ]) {
      assert.ok(r.stderr.includes(`FAILED: ${why}`), `reports: ${why}\n${r.stderr}`);
    }
    // This sandbox has no image.json either.
    assert.match(r.stderr, /FAILED: \S*\/etc\/kubebake\/image\.json is valid JSON/);
    assert.match(r.stderr, /8 check\(s\) failed/);
  } finally {
    box.cleanup();
  }
});

test('verify of a load-balancer image: haproxy and keepalived installed, haproxy enabled', () => {
  const stubs = {
    'dpkg-query': `case "$2" in *Status*) [ "$3" = keepalived ] && exit 1; printf 'install ok installed' ;; esac`,
    systemctl: `[ "$1" = is-enabled ] && echo enabled`,
    haproxy: 'exit 0',
  };
  const box = sandbox(stubs, { 'etc/kubebake/image.json': '{}' });
  try {
    const r = runStep(standaloneScript(imageVerifyStep(plan(), 'load-balancer')), box);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAILED: keepalived is installed/);
    assert.match(r.stderr, /FAILED: keepalived is on PATH/);
    assert.doesNotMatch(r.stderr, /FAILED: haproxy/);
  } finally {
    box.cleanup();
  }
});

test('sysprep removes instance state, machine identity, caches, logs and the build user\'s keys', () => {
  const stubs = {
    'cloud-init': `echo "$*" >> "$LOG"`,
    'apt-get': `echo "apt-get $*" >> "$LOG"`,
    journalctl: `exit 0`,
    passwd: `echo "passwd $*" >> "$LOG"`,
    getent: `[ "$2" = ${BUILD_USER} ] && echo "${BUILD_USER}:x:1000:1000::$HOME_OF_BUILD_USER:/bin/bash"`,
    sync: 'exit 0',
  };
  const files = {
    'etc/machine-id': '0123456789abcdef0123456789abcdef\n',
    'var/lib/dbus/machine-id': '0123456789abcdef0123456789abcdef\n',
    'etc/ssh/ssh_host_ed25519_key': 'KEY',
    'etc/ssh/ssh_host_ed25519_key.pub': 'PUB',
    'etc/ssh/sshd_config': 'kept',
    'var/lib/systemd/random-seed': 'seed',
    'var/lib/apt/lists/archive_dists_noble_InRelease': 'x',
    'root/.ssh/authorized_keys': 'no-port-forwarding ssh-ed25519 AAAA build',
    'home/packer/.ssh/authorized_keys': 'ssh-ed25519 AAAA build',
    'var/log/syslog': 'lots of log',
    'var/log/syslog.1': 'old',
    'var/log/apt/history.log.2.gz': 'older',
  };
  const box = sandbox(stubs, files);
  const log = join(box.root, 'calls.log');
  try {
    const script = join(box.root, 'step.sh');
    writeFileSync(script, rooted(standaloneScript(sysprepStep(plan())), box.root));
    const r = run('env', [`PATH=${box.bin}:/usr/bin:/bin`, `LOG=${log}`, `HOME_OF_BUILD_USER=${join(box.root, 'home/packer')}`, 'bash', script]);
    assert.equal(r.status, 0, r.stderr);
    const at = (p: string): string => join(box.root, p);
    assert.equal(readFileSync(at('etc/machine-id'), 'utf8'), '', 'machine-id emptied (regenerated at first boot)');
    for (const gone of ['var/lib/dbus/machine-id', 'etc/ssh/ssh_host_ed25519_key', 'etc/ssh/ssh_host_ed25519_key.pub', 'var/lib/systemd/random-seed', 'root/.ssh/authorized_keys', 'home/packer/.ssh/authorized_keys', 'var/log/syslog.1', 'var/log/apt/history.log.2.gz']) {
      assert.ok(!existsSync(at(gone)), `${gone} removed`);
    }
    assert.equal(readFileSync(at('etc/ssh/sshd_config'), 'utf8'), 'kept');
    assert.deepEqual(readdirSync(at('var/lib/apt/lists')), []);
    assert.equal(statSync(at('var/log/syslog')).size, 0, 'live logs emptied');
    const calls = readFileSync(log, 'utf8');
    assert.match(calls, /^clean --logs --seed$/m);
    assert.match(calls, /^apt-get clean$/m);
    assert.match(calls, new RegExp(`^passwd -l ${BUILD_USER}$`, 'm'));
  } finally {
    box.cleanup();
  }
});

test('the seal removes the build user and its sudo rule before powering off, and stops if it cannot', () => {
  const cmd = sealCommand();
  const m = /^sudo -n sh -c '(.*)'$/.exec(cmd);
  assert.ok(m, cmd);
  const inner = m[1]!;
  assert.deepEqual(inner.split(' && '), [`userdel --force --remove ${BUILD_USER}`, 'rm -f /etc/sudoers.d/90-cloud-init-users', 'sync', 'shutdown -P now']);
  for (const failing of [true, false]) {
    const box = sandbox({ userdel: failing ? 'exit 8' : 'exit 0', rm: 'exit 0', sync: 'exit 0', shutdown: `echo powered-off > "$OUT"` });
    try {
      const out = join(box.root, 'out');
      const r = run('env', [`PATH=${box.bin}:/usr/bin:/bin`, `OUT=${out}`, 'sh', '-c', inner]);
      assert.equal(existsSync(out), !failing, failing ? 'no power-off when the user stays' : 'powers off');
      assert.equal(r.status === 0, !failing);
    } finally {
      box.cleanup();
    }
  }
  assert.equal(shellcheck({ 'seal-command.sh': `#!/bin/sh\n${inner}\n`, 'seal.sh': standaloneScript(sealStep(plan())) }), '');
});

test('prepull: kubeadm pulls the exact version through CRI-O, then every CNI image with crictl', () => {
  const p = plan();
  const box = sandbox({
    kubeadm: `echo "kubeadm $*" >> "$LOG"`,
    crictl: `echo "crictl $*" >> "$LOG"`,
    systemctl: 'exit 0',
    sleep: 'exit 0',
  });
  try {
    const log = join(box.root, 'calls.log');
    const script = join(box.root, 'step.sh');
    writeFileSync(script, standaloneScript(prepullStep(p)));
    const r = run('env', [`PATH=${box.bin}:/usr/bin:/bin`, `LOG=${log}`, 'bash', script]);
    assert.equal(r.status, 0, r.stderr);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(calls[0], 'kubeadm config images pull --kubernetes-version v1.37.2 --cri-socket unix:///var/run/crio/crio.sock');
    assert.deepEqual(
      calls.slice(1),
      cniImages(p).map((i) => `crictl --runtime-endpoint unix:///var/run/crio/crio.sock pull ${i}`),
    );
    assert.ok(cniImages(p).includes('quay.io/tigera/operator:v1.38.6'));
    assert.ok(cniImages(p).every((i) => /^(docker\.io|quay\.io|ghcr\.io)\//.test(i)), 'fully qualified: CRI-O resolves no short names');
  } finally {
    box.cleanup();
  }
});

test('CNI image table: each pinned CNI release lists its own and its companion images', () => {
  const base = plan();
  const images = (plugin: ClusterPlan['cni']['plugin'], version: string): string[] => cniImages({ ...base, cni: { plugin, version } });
  assert.deepEqual(images('flannel', 'v0.27.3'), ['ghcr.io/flannel-io/flannel:v0.27.3', 'ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel1']);
  assert.deepEqual(images('cilium', '1.18.2').slice(0, 2), ['quay.io/cilium/cilium:v1.18.2', 'quay.io/cilium/operator-generic:v1.18.2']);
  assert.match(images('cilium', '1.18.2')[2]!, /^quay\.io\/cilium\/cilium-envoy:v1\.34\./);
  assert.deepEqual(images('weave', 'v2.8.1'), ['docker.io/weaveworks/weave-kube:2.8.1', 'docker.io/weaveworks/weave-npc:2.8.1']);
  assert.ok(images('calico', 'v3.30.3').includes('docker.io/calico/node:v3.30.3'));
  // A release kubebake has no companion list for: its own images, and the script says the rest come later.
  assert.deepEqual(images('flannel', 'v0.28.0'), ['ghcr.io/flannel-io/flannel:v0.28.0']);
  assert.match(standaloneScript(prepullStep({ ...base, cni: { plugin: 'flannel', version: 'v0.28.0' } })), /pulled at first boot/);
  assert.doesNotMatch(standaloneScript(prepullStep(base)), /pulled at first boot/);
});
