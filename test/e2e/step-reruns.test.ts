// Every first-boot step is safe to run twice: after a complete first boot of each kind of host,
// each step runs again exactly as the runner runs it (steps/firstboot.ts), and must succeed and
// change nothing, neither the host's files nor what the stand-ins keep of the cluster, the
// services and the packages (test/helpers/sandbox.ts). A reboot or a power loss between a step's
// end and the runner's record of it runs the step again; so does an operator's
// `systemctl start kubebake-firstboot` after fixing a later step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderPlan } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { bootInSandbox, hostSeed, sandboxUnavailable, type BootOptions, type ClusterRecord } from '../helpers/sandbox.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import type { RenderPlan } from '../../src/plan/plan.js';

const skip = sandboxUnavailable();

// Where steps and stand-ins write. A snapshot lists every file and folder under them (type, mode,
// owner, link target) and the content hash of each file this boot wrote (newer than the sandbox's
// package table, copied in before the boot); a file of the machine's own that a step rewrites
// changes its time and becomes newer, so it shows too. Not compared: the stand-ins' call log and
// journal (logs), and the curl stand-in's note of its last download (for the .sha256sum after it). The test checks that the boot wrote nothing elsewhere but logs and tmpfs.
const ROOTS = ['/etc', '/usr/local', '/usr/bin', '/usr/sbin', '/var/lib', '/home', '/standin', '/srv', '/var/spool'];
const EXCLUDED = ['/standin/calls.log', '/standin/calls.before.log', '/standin/journal', '/standin/last-download'];
/**
 * What a boot writes outside ROOTS without a step: logs, tmpfs, caches, cloud-init's root login
 * refusal (disable_root), and the sandbox's description of the NIC and the platform's DMI.
 */
const NOT_STEPS = ['/var/log', '/run', '/tmp', '/var/tmp', '/var/cache', '/root/.ssh', '/sys/class/net', '/sys/class/dmi'];
const SNAPSHOT = `snap() {
  find ${ROOTS.join(' ')} -xdev \\( ${EXCLUDED.map((p) => `-path ${p}`).join(' -o ')} \\) -prune -o \\( -newer /standin/package-table -printf '%p %y %m %U:%G %l\\n' -o -printf '%p %y %m %U:%G %l %T@\\n' \\) 2>/dev/null | LC_ALL=C sort
  find ${ROOTS.join(' ')} -xdev \\( ${EXCLUDED.map((p) => `-path ${p}`).join(' -o ')} \\) -prune -o -type f -newer /standin/package-table -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 -r sha256sum
}`;

/** Each step again, as the runner runs it; prints "== <step> rc=<code>", then what changed (diff). */
const RERUN = `${SNAPSHOT}
cd /
for step in $(cat /etc/kubebake/steps); do
  snap > /tmp/before
  bash -euo pipefail -c '. "$1"; . "$2"' "$step" /usr/local/lib/kubebake/lib.sh "/usr/local/lib/kubebake/$step.sh" > /tmp/out 2>&1 < /dev/null
  rc=$?
  snap > /tmp/after
  echo "== $step rc=$rc"
  [ "$rc" = 0 ] || tail -n 5 /tmp/out
  diff /tmp/before /tmp/after
done
echo "== end"`;

function seedOf(p: RenderPlan, host: string, extra: Partial<BootOptions> = {}): BootOptions {
  const t = renderCloudInitTree(p);
  const node = p.nodes.find((n) => n.name === host)!;
  return { seed: hostSeed(t, host), kubernetesVersion: p.kubernetes.version, mac: node.mac, nic: node.interface, ...extra };
}

function rerunAll(p: RenderPlan, host: string, cluster?: ClusterRecord): ClusterRecord | undefined {
  return bootInSandbox(seedOf(p, host, { cluster, then: RERUN }), (boot) => {
    assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', boot.read('var/log/kubebake/firstboot.log'));
    // Every folder this boot wrote in is one the snapshot covers (or a log's, or tmpfs).
    const outside: string[] = [];
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(boot.layer, rel))) {
        const path = `${rel}/${name}`;
        if ([...ROOTS, ...NOT_STEPS].some((r) => path === r || path.startsWith(`${r}/`))) continue;
        if (lstatSync(join(boot.layer, path)).isDirectory()) walk(path);
        else outside.push(path);
      }
    };
    walk('');
    assert.deepEqual(outside, [], 'files written outside the snapshot');
    const steps = (boot.read('etc/kubebake/steps') ?? '').split('\n').filter(Boolean);
    const report = boot.thenOutput.split(/^== /m).slice(1);
    assert.deepEqual(report.map((r) => r.split(' ')[0]), [...steps, 'end\n'], boot.thenOutput);
    for (const r of report.slice(0, -1)) assert.match(r, /^\S+ rc=0\n$/, `a step run again must succeed and change nothing:\n== ${r}`);
    const record = boot.clusterRecord();
    return record && { ...record, state: boot.clusterState() };
  });
}

test('default profile: every step of the first control plane, a joining control plane, a worker and the load balancer runs again without a change', { skip }, async () => {
  const plan = await renderPlan(profile('default'));
  const cluster = rerunAll(plan, 'cp1');
  assert.ok(cluster, 'init recorded its cluster');
  for (const host of ['cp2', 'worker1', 'lb1']) rerunAll(plan, host, cluster);
});

for (const name of ['debian-12-cilium', 'ubuntu-22-04-flannel']) {
  test(`profile ${name}: every step of the first control plane runs again without a change (its CNI install too)`, { skip }, async () => {
    const p = await renderPlan(profile(name));
    rerunAll(p, p.nodes.find((n) => n.initNode)!.name);
  });
}
