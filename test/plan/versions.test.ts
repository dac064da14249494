// The version facts, against what their upstream sources say (the sources are cited next to the
// tables in src/topology/facts/versions.ts and src/topology/facts/os-facts.ts), and the README's tables against the pins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildPlan } from '../../src/plan/plan.js';
import { OS_FACTS, haproxyHasHttpCheckSend } from '../../src/topology/facts/os-facts.js';
import { calicoCrdManifest, CNI_RELEASES, isCrioMaintainedMinor, kubeletRefusesCgroupV1, OS, pinnedCniRelease, SUPPORTED_MINORS } from '../../src/topology/facts/versions.js';
import { buildArtifactInventory } from '../../src/manifest/inventory.js';
import { cniInstall as cniInstallScript } from '../../src/steps/cni.js';
import { loadTopology } from '../../src/topology/load.js';
import { PACKER_VERSION } from '../../src/packer/pin.js';
import { PLUGINS } from '../../src/topology/facts/packer-plugins.js';
import { cniInstall } from '../../src/steps/cni.js';
import { profile, repoPath, topologyFrom } from '../helpers/repo.js';

test('Calico: its CRD manifest is applied before tigera-operator.yaml, named as the docs of that release name it', () => {
  // tigera/docs version-3.30, -3.32 and -3.33 onpremises.mdx (commits in src/topology/facts/versions.ts).
  assert.equal(calicoCrdManifest('v3.30.3', '1.33'), 'operator-crds.yaml');
  assert.equal(calicoCrdManifest('v3.32.0', '1.35'), 'v1_crd_projectcalico_org.yaml');
  assert.equal(calicoCrdManifest('v3.33.0', '1.37'), 'v3_projectcalico_org.yaml');
  assert.equal(calicoCrdManifest('v3.33.0', '1.36'), 'v3_projectcalico_org.yaml');
  assert.equal(calicoCrdManifest('v3.33.0', '1.35'), 'v3_projectcalico_org-v1beta1.yaml');
  const script = cniInstall(buildPlan(profile('default'))).body;
  const crds = script.indexOf('https://raw.githubusercontent.com/projectcalico/calico/v3.33.0/manifests/v3_projectcalico_org.yaml');
  const operator = script.indexOf('https://raw.githubusercontent.com/projectcalico/calico/v3.33.0/manifests/tigera-operator.yaml');
  assert.ok(crds >= 0 && operator > crds, script);
});

test('kubelet refuses cgroup v1 from 1.35 (KEP-5573); Ubuntu 20.04 is the one cgroup v1 OS', () => {
  assert.equal(kubeletRefusesCgroupV1('1.34'), false);
  assert.equal(kubeletRefusesCgroupV1('1.35'), true);
  assert.deepEqual(Object.entries(OS_FACTS).filter(([, f]) => f.cgroup === 1).map(([os]) => os), ['ubuntu-20.04']);
});

test('HAProxy: http-check send from 2.2; Ubuntu 20.04 ships 2.0, Debian 12 2.6', () => {
  assert.equal(haproxyHasHttpCheckSend('2.0'), false);
  assert.equal(haproxyHasHttpCheckSend('2.2'), true);
  assert.equal(haproxyHasHttpCheckSend(OS_FACTS['ubuntu-20.04'].haproxy), false);
  assert.equal(haproxyHasHttpCheckSend(OS_FACTS['debian-12'].haproxy), true);
});

test('CRI-O: 1.34–1.37 maintained, 1.33 and older end of life (cri-o/packaging README)', () => {
  assert.deepEqual(['1.30', '1.33', '1.34', '1.37'].map(isCrioMaintainedMinor), [false, false, true, true]);
});

test("the README's version table names every pin kubebake uses", () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Versions kubebake installs'), readme.indexOf('### Operating systems'));
  for (const [cni, releases] of Object.entries(CNI_RELEASES)) for (const r of releases) assert.ok(table.includes(r.version), `${cni} ${r.version}`);
  assert.ok(table.includes(`| Packer | ${PACKER_VERSION} |`));
  for (const p of Object.values(PLUGINS)) assert.ok(table.includes(`${p.name} ${p.version}`), `${p.name} ${p.version}`);
});

// Cilium's compatibility tables (Documentation/network/kubernetes/compatibility.rst): v1.18.14 lists
// 1.30, 1.31, 1.32, 1.33; v1.19.3 lists 1.32, 1.33, 1.34, 1.35; no release tested against 1.36 or
// 1.37 could be read. Per minor, the newest release whose table lists it.
const CILIUM_PER_MINOR: Record<string, string | undefined> = {
  '1.30': '1.18.14', '1.31': '1.18.14', '1.32': '1.19.3', '1.33': '1.19.3', '1.34': '1.19.3', '1.35': '1.19.3', '1.36': undefined, '1.37': undefined,
};

test('Cilium: per Kubernetes minor, the newest release whose compatibility table lists it, or none', () => {
  assert.deepEqual(Object.keys(CILIUM_PER_MINOR), [...SUPPORTED_MINORS]);
  for (const [minor, version] of Object.entries(CILIUM_PER_MINOR)) assert.equal(pinnedCniRelease('cilium', minor)?.version, version, minor);
  // The CNIs that only warn keep one pin for every minor.
  for (const minor of SUPPORTED_MINORS) assert.equal(pinnedCniRelease('calico', minor)?.version, 'v3.33.0');
});

const DEFAULT_TEXT = readFileSync(repoPath('profiles', 'default.yaml'), 'utf8');
/** profiles/default.yaml with cilium, a Kubernetes version and optionally cni.version. */
const ciliumTopology = (k8s: string, cniVersion?: string): string =>
  DEFAULT_TEXT.replace(/version: "1\.\d+\.\d+"/, `version: "${k8s}"`).replace(/plugin: calico/, `plugin: cilium${cniVersion ? `\n  version: "${cniVersion}"` : ''}`);

test('Cilium: the plan, the install script, the image list and the artefact inventory all use the pin of the minor', () => {
  for (const [k8s, cilium] of [['1.31.0', '1.18.14'], ['1.35.4', '1.19.3']] as const) {
    const plan = buildPlan(topologyFrom(ciliumTopology(k8s)));
    assert.equal(plan.cni.version, cilium, k8s);
    assert.match(cniInstallScript(plan).body, new RegExp(`cilium install --version '?${cilium.replace(/\./g, '\\.')}'? `), k8s);
    const inventory = buildArtifactInventory(plan);
    assert.ok(inventory.images.some((i) => i.image === `quay.io/cilium/cilium:v${cilium}`), `${k8s}: ${JSON.stringify(inventory.images)}`);
    assert.ok(inventory.files.every((f) => !f.why.includes('Cilium') || f.why.includes(`Cilium ${cilium}`)), k8s);
  }
});

test('Cilium: an untested combination is refused at its line, with the minors that have a tested release', () => {
  const codes = (text: string) => loadTopology(text, 't.yaml').diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path.join('.')} ${d.line}:${d.col}`);
  const lineOf = (text: string, re: RegExp): number => text.split('\n').findIndex((l) => re.test(l)) + 1;
  const on137 = ciliumTopology('1.37.2');
  assert.deepEqual(codes(on137), [`cni-untested-kubernetes-refused cni.plugin ${lineOf(on137, /plugin: cilium/)}:11`]);
  const hint = loadTopology(on137, 't.yaml').diagnostics.find((d) => d.severity === 'error')!.hint!;
  assert.match(hint, /1\.30–1\.35/);
  assert.match(hint, /calico or flannel/);
  const explicit = ciliumTopology('1.35.4', '1.18.14');
  assert.deepEqual(codes(explicit), [`cni-version-untested cni.version ${lineOf(explicit, /version: "1\.18\.14"/)}:12`]);
  // Tested combinations load, with or without a leading "v".
  assert.deepEqual(codes(ciliumTopology('1.33.0', 'v1.18.14')), []);
  assert.deepEqual(codes(ciliumTopology('1.34.0', '1.19.3')), []);
  assert.deepEqual(codes(ciliumTopology('1.30.0')), []);
});

test('Debian 12 is past its standard support and names Debian 13; Debian 13 and the Ubuntu LTS releases from 22.04 are not', () => {
  // Debian's distro-info-data (debian.csv, ubuntu.csv `eol` column).
  assert.deepEqual(
    Object.entries(OS).filter(([, o]) => o.eol).map(([os, o]) => [os, o.eol!.ended, o.eol!.successor]),
    [['ubuntu-20.04', '2025-05-29', 'ubuntu-24.04'], ['debian-12', '2026-07-11', 'debian-13']],
  );
  const trixie = loadTopology(DEFAULT_TEXT.replace(/^os: .*$/m, 'os: debian-13'), 't.yaml');
  assert.ok(!trixie.diagnostics.some((d) => d.code === 'os-eol'));
  const bookworm = loadTopology(DEFAULT_TEXT.replace(/^os: .*$/m, 'os: debian-12'), 't.yaml').diagnostics.find((d) => d.code === 'os-eol');
  assert.equal(bookworm?.severity, 'warning');
  assert.match(bookworm!.message, /debian-12 is past its standard support \(it ended 2026-07-11/);
  assert.equal(bookworm!.hint, 'use debian-13 for new clusters');
});

test('Debian 13: its cloud image, and the facts of trixie\'s archive', () => {
  assert.equal(OS['debian-13'].image.url, 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2');
  assert.equal(OS['debian-13'].image.checksumUrl, 'https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS');
  assert.equal(OS['debian-12'].image.url, 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2');
  // apt-cache policy in a trixie root: cloud-init 25.1.4, haproxy 3.0.11, keepalived 2.3.3, linux 6.12;
  // its /etc/cloud/cloud.cfg lists no renderers and the package needs no network stack (the machine decides).
  assert.deepEqual(OS_FACTS['debian-13'], { cgroup: 2, kernel: '6.12', haproxy: '3.0', keepalived: '2.3.3', cloudInit: '25.1.4', networkRenderers: ['eni', 'netplan', 'networkd'], lowerBounds: [] });
});
