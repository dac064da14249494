// The host firewall, checked by nftables itself: every host's ruleset of every profile loads
// (`nft -c`), and in network namespaces a router with a node's ruleset forwards traffic it does
// not own (pods' packets) while dropping what reaches it on a port its role does not need.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildHostManifests } from '../../src/manifest/host-manifest.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import { fixtureSecrets, PROFILES, renderPlan } from '../helpers/cluster.js';
import { profile, topologyFrom } from '../helpers/repo.js';
import { missingTool } from '../helpers/tools.js';
import { readFileSync } from 'node:fs';
import { repoPath } from '../helpers/repo.js';

const nft = missingTool('nft', 'nftables');
const root = process.getuid?.() === 0 ? undefined : 'needs root (network namespaces)';

/** `nft -c -f -` in a private network namespace: nftables' own parser and the kernel's checks. */
function nftCheck(ruleset: string): { status: number | null; stderr: string } {
  const r = spawnSync('unshare', ['--net', 'nft', '-c', '-f', '-'], { input: ruleset, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('every host of every profile: its firewall ruleset passes nft -c; input only, nothing on the forward hook', { skip: nft ?? root }, async () => {
  const secrets = await fixtureSecrets();
  for (const name of PROFILES) {
    const plan = await renderPlan(profile(name));
    for (const m of buildHostManifests(plan, secrets)) {
      const ruleset = m.files.find((f) => f.path === HOST_PATHS.firewallRuleset)?.content;
      if (plan.firewallMode === 'disabled') {
        assert.equal(ruleset, undefined);
        continue;
      }
      assert.ok(ruleset, `${name}/${m.node.name} has a ruleset`);
      const r = nftCheck(ruleset);
      assert.equal(r.status, 0, `${name}/${m.node.name}: ${r.stderr}`);
      assert.doesNotMatch(ruleset, /hook forward|hook prerouting|hook postrouting|flush ruleset/, 'pods’ packets are left to the CNI');
    }
  }
});

test('a node with its ruleset loaded forwards pod traffic, accepts its ports from the node subnet, drops the rest', { skip: nft ?? root }, async () => {
  const plan = await renderPlan(topologyFrom(readFileSync(repoPath('profiles', 'default.yaml'), 'utf8')));
  const worker = buildHostManifests(plan, await fixtureSecrets()).find((m) => m.node.role === 'worker')!;
  const ruleset = worker.files.find((f) => f.path === HOST_PATHS.firewallRuleset)!.content;
  const id = `kb${process.pid}`;
  // left: a machine of the node subnet (10.20.0.0/24); node: the worker (router, with the ruleset);
  // right: a pod on that node (10.244.5.0/24 is inside the pod subnet).
  const script = `set -eu
cleanup() { ip netns del ${id}l 2>/dev/null; ip netns del ${id}n 2>/dev/null; ip netns del ${id}r 2>/dev/null; }
trap cleanup EXIT
for n in l n r; do ip netns add ${id}$n; ip -n ${id}$n link set lo up; done
ip link add ${id}a netns ${id}l type veth peer name ${id}b netns ${id}n
ip link add ${id}c netns ${id}n type veth peer name ${id}d netns ${id}r
ip -n ${id}l addr add 10.20.0.50/24 dev ${id}a; ip -n ${id}l link set ${id}a up; ip -n ${id}l route add default via 10.20.0.21
ip -n ${id}n addr add 10.20.0.21/24 dev ${id}b; ip -n ${id}n link set ${id}b up
ip -n ${id}n addr add 10.244.5.1/24 dev ${id}c; ip -n ${id}n link set ${id}c up
ip -n ${id}r addr add 10.244.5.10/24 dev ${id}d; ip -n ${id}r link set ${id}d up; ip -n ${id}r route add default via 10.244.5.1
ip netns exec ${id}n sysctl -qw net.ipv4.ip_forward=1
ip netns exec ${id}n nft -f - <<'RULES'
${ruleset}RULES
probe() { if ip netns exec ${id}l timeout 3 bash -c ": </dev/tcp/$1/$2" 2>/dev/null; then echo open; else [ $? -eq 124 ] && echo dropped || echo refused; fi; }
# The pod has no listener: a refusal (RST) coming back means the SYN was forwarded both ways.
echo "pod: $(probe 10.244.5.10 8080)"
echo "kubelet: $(probe 10.20.0.21 10250)"
echo "other: $(probe 10.20.0.21 8080)"
`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  // A routed packet is the CNI's business: it passes.
  assert.match(r.stdout, /^pod: refused$/m, r.stdout);
  // kubelet's port is open to the node subnet: nothing listens here, so the kernel refuses (RST).
  assert.match(r.stdout, /^kubelet: refused$/m, r.stdout);
  // A port no role needs: the packet is dropped, the connection times out.
  assert.match(r.stdout, /^other: dropped$/m, r.stdout);
});
