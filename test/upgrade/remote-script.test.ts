// What `kubebake upgrade apply` sends each node (src/upgrade/remote.ts around src/steps/upgrade.ts)
// passes `shellcheck -S warning` for every profile (proxy, air gap, Cilium, Flannel), on the first
// control plane (kubeadm upgrade apply, with the CNI) and on every other node (kubeadm upgrade node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { buildPlan } from '../../src/plan/plan.js';
import { upgradeStep } from '../../src/steps/upgrade.js';
import { remoteUpgradeScript } from '../../src/upgrade/remote.js';
import { profile, repoPath } from '../helpers/repo.js';
import { missingTools, shellcheck } from '../helpers/tools.js';

const skip = missingTools('shellcheck');

test('the upgrade scripts of every profile pass shellcheck -S warning', { skip }, () => {
  const scripts: Record<string, string> = {};
  for (const f of readdirSync(repoPath('profiles')).filter((f) => f.endsWith('.yaml'))) {
    const name = f.replace(/\.yaml$/, '');
    const plan = buildPlan(profile(name));
    const [first, ...rest] = plan.nodes.filter((n) => n.role !== 'load-balancer');
    scripts[`${name}/${first!.name}/apply`] = remoteUpgradeScript(upgradeStep(plan, first!, { kubeadm: 'apply', cni: true }));
    for (const n of rest.slice(0, 2)) scripts[`${name}/${n.name}/node`] = remoteUpgradeScript(upgradeStep(plan, n, { kubeadm: 'node', cni: false }));
  }
  assert.ok(Object.keys(scripts).length >= 20, Object.keys(scripts).join(' '));
  assert.equal(shellcheck(scripts), '');
});
