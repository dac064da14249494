// The version facts, against what their upstream sources say (the sources are cited next to the
// tables in src/topology/facts/versions.ts and src/topology/facts/os-facts.ts), and the README's tables against the pins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildPlan } from '../../src/plan/plan.js';
import { OS_FACTS, haproxyHasHttpCheckSend } from '../../src/topology/facts/os-facts.js';
import { calicoCrdManifest, CNI_RELEASES, isCrioMaintainedMinor, kubeletRefusesCgroupV1 } from '../../src/topology/facts/versions.js';
import { PACKER_VERSION } from '../../src/packer/pin.js';
import { PLUGINS } from '../../src/topology/facts/packer-plugins.js';
import { cniInstall } from '../../src/steps/cni.js';
import { profile, repoPath } from '../helpers/repo.js';

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
  for (const [cni, r] of Object.entries(CNI_RELEASES)) assert.ok(table.includes(r.version), `${cni} ${r.version}`);
  assert.ok(table.includes(`| Packer | ${PACKER_VERSION} |`));
  for (const p of Object.values(PLUGINS)) assert.ok(table.includes(`${p.name} ${p.version}`), `${p.name} ${p.version}`);
});
