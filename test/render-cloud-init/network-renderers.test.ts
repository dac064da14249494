// network-config through cloud-init's own renderers (cloud-init devel net-convert, the installed
// Debian 12 cloud-init 22.4.2): eni for ifupdown (a Debian-installer machine), networkd and
// netplan (cloud images, Ubuntu). Every host of every profile must come out with its address and
// a default route each renderer really applies; and exactly one NIC configured on a two-NIC
// machine. The VM tests (test/e2e/vm-boot.test.ts) boot the same files on real Debian.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES, renderPlan, renderProfile, text } from '../helpers/cluster.js';
import { repoPath, topologyFrom } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools, run } from '../helpers/tools.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import { loadTopology } from '../../src/topology/load.js';

type Kind = 'eni' | 'networkd' | 'netplan';

/** Runs net-convert; returns every file it wrote, concatenated (path → content). */
function convert(dir: string, networkConfig: string, kind: Kind, macs: [string, string][]): Map<string, string> {
  const input = join(dir, 'network-config');
  writeFileSync(input, networkConfig);
  const out = join(dir, `out-${kind}`);
  rmSync(out, { recursive: true, force: true }); // only this host's files
  const r = run('cloud-init', ['devel', 'net-convert', '-p', input, '-k', 'yaml', '-d', out, '-D', 'debian', '-O', kind, ...macs.flatMap(([n, m]) => ['-m', `${n},${m}`])]);
  assert.equal(r.status, 0, r.stderr);
  const files = new Map<string, string>();
  for (const e of readdirSync(out, { recursive: true, withFileTypes: true })) if (e.isFile()) files.set(join(e.parentPath, e.name).slice(out.length + 1), readFileSync(join(e.parentPath, e.name), 'utf8'));
  return files;
}

const all = (files: Map<string, string>): string => [...files.values()].join('\n');

/**
 * The renderers cloud-init writes each OS's network config with, from upstream (not from the code
 * under test): Ubuntu's cloud-init package depends on netplan.io and lists netplan first
 * (canonical/cloud-init debian/control and config/cloud.cfg.tmpl on ubuntu/focal … ubuntu/resolute);
 * Debian 12's 22.4.2 lists none, so its default order applies (cloudinit/net/renderers.py
 * DEFAULT_PRIORITY) and the machine decides: eni with ifupdown, netplan, networkd.
 */
const RENDERERS: Record<string, Kind[]> = {
  'ubuntu-20.04': ['netplan'],
  'ubuntu-22.04': ['netplan'],
  'ubuntu-24.04': ['netplan'],
  'ubuntu-26.04': ['netplan'],
  'debian-12': ['eni', 'netplan', 'networkd'],
  'debian-13': ['eni', 'netplan', 'networkd'],
};

/**
 * What netplan makes of cloud-init's netplan output (Debian's netplan.io parses it as Ubuntu does,
 * FACTS.md): the systemd-networkd files `netplan generate --root-dir` writes, and what it printed.
 */
function netplanGenerate(root: string): { networkd: string; printed: string } {
  // cloud-init writes it world-readable; netplan would warn about that, which is not ours to test.
  for (const e of readdirSync(join(root, 'etc', 'netplan'))) chmodSync(join(root, 'etc', 'netplan', e), 0o600);
  const r = run('netplan', ['generate', '--root-dir', root]);
  assert.equal(r.status, 0, r.stderr);
  const dir = join(root, 'run', 'systemd', 'network');
  return { networkd: readdirSync(dir).filter((f) => f.endsWith('.network')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n'), printed: r.stdout + r.stderr };
}

for (const name of PROFILES) {
  test(`${name}: every host's network-config gives each renderer its OS's cloud-init uses a working default route (netplan: without a deprecation warning where it can)`, async (t) => {
    const { plan, tree } = await renderProfile(name);
    const renderers = RENDERERS[plan.os.profile]!;
    const why = renderers.includes('netplan') ? missingTools('netplan') : undefined;
    await withTempDir((dir) => {
      for (const node of plan.nodes) {
        const nc = text(tree, `hosts/${node.name}/network-config`);
        const nic = node.interface ?? 'ens3';
        const macs: [string, string][] = node.mac ? [[nic, node.mac]] : [];
        const gw = plan.network.gateway.replace(/\./g, '\\.');
        const ip = node.ip.replace(/\./g, '\\.');

        if (renderers.includes('eni')) {
          // ifupdown applies a stanza's `gateway` with ip(8). A `post-up route add` line needs
          // net-tools (not on Debian 12) and its `|| true` hides the failure: no default route.
          const eni = all(convert(dir, nc, 'eni', macs));
          assert.match(eni, new RegExp(`^iface \\S+ inet static\\n(    .*\\n)*    gateway ${gw}$`, 'm'), `${node.name} eni:\n${eni}`);
          assert.doesNotMatch(eni, /route add/, `${node.name}: no route(8) lines`);
          assert.match(eni, new RegExp(`address ${ip}/\\d+`));
        }
        if (renderers.includes('networkd')) {
          const networkd = all(convert(dir, nc, 'networkd', macs));
          assert.match(networkd, new RegExp(`^\\[Route\\]\\n(Destination=0\\.0\\.0\\.0/0\\n)?Gateway=${gw}$`, 'm'), `${node.name} networkd:\n${networkd}`);
          assert.match(networkd, new RegExp(`^Address=${ip}/`, 'm'));
        }
        // cloud-init hands v2 to netplan as written; netplan turns it into systemd-networkd files.
        const netplan = convert(dir, nc, 'netplan', macs);
        if (why) continue;
        const generated = netplanGenerate(join(dir, 'out-netplan'));
        assert.match(generated.networkd, new RegExp(`^\\[Route\\]\\n(Destination=0\\.0\\.0\\.0/0\\n)?Gateway=${gw}$|^Gateway=${gw}$`, 'm'), `${node.name} netplan → networkd:\n${generated.networkd}\n${[...netplan.values()].join('\n')}`);
        assert.match(generated.networkd, new RegExp(`^Address=${ip}/`, 'm'));
        // Only where eni may render before cloud-init 25.3 (Debian 12 with 22.4.2, Debian 13 with 25.1.4) does gateway4 stay, and netplan says it is deprecated.
        if (plan.os.family === 'debian') assert.match(generated.printed, /`gateway4` has been deprecated/);
        else assert.doesNotMatch(generated.printed, /deprecat/i, `${node.name}: ${generated.printed}`);
      }
    });
    if (why) t.skip(why);
  });
}

test("why Debian 12 keeps gateway4, and why the route elsewhere is to 0.0.0.0/0: Debian 12's cloud-init 22.4.2 with a routes: default route", async () => {
  const { plan, tree } = await renderProfile('debian-12-cilium');
  const node = plan.nodes[0]!;
  const nc = text(tree, `hosts/${node.name}/network-config`);
  assert.match(nc, /gateway4: /);
  const asRoute = (to: string): string => nc.replace(/gateway4: (\S+)/, `routes: [{ to: "${to}", via: $1 }]`);
  await withTempDir((dir) => {
    const macs: [string, string][] = [['ens3', node.mac!]];
    // eni before 25.3 writes the route with route(8), which Debian 12 does not install.
    assert.match(all(convert(dir, asRoute('0.0.0.0/0'), 'eni', macs)), /post-up route add default gw /);
    // netplan's "default" is not an address to cloud-init before 25.3: the network state fails.
    writeFileSync(join(dir, 'network-config'), asRoute('default'));
    const r = run('cloud-init', ['devel', 'net-convert', '-p', join(dir, 'network-config'), '-k', 'yaml', '-d', join(dir, 'x'), '-D', 'debian', '-O', 'networkd']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Address default is not a valid ip address/);
  });
});

test('a host with neither mac nor interface: exactly one NIC of a two-NIC machine gets its address', async () => {
  // The seed profile's hosts name neither; give worker1 a second NIC.
  const seedText = readFileSync(repoPath('profiles', 'seed.yaml'), 'utf8');
  const plan = await renderPlan(topologyFrom(seedText));
  const tree = renderCloudInitTree(plan);
  const node = plan.nodes.find((n) => n.name === 'k8s-worker1')!;
  assert.ok(node.macAssigned && node.mac, 'the plan assigned a MAC');
  const nc = text(tree, `hosts/${node.name}/network-config`);
  assert.doesNotMatch(nc, /name: /, 'no name pattern');
  await withTempDir((dir) => {
    const macs: [string, string][] = [['ens3', node.mac!], ['ens4', '52:54:00:99:99:99']];
    const networkd = convert(dir, nc, 'networkd', macs);
    const configured = [...networkd.entries()].filter(([, c]) => c.includes(`Address=${node.ip}/`));
    assert.equal(configured.length, 1, [...networkd.keys()].join(', '));
    assert.match(configured[0]![1], new RegExp(`MACAddress=${node.mac}`));
    const eni = all(convert(dir, nc, 'eni', macs));
    assert.equal((eni.match(/inet static/g) ?? []).length, 1, eni);
    assert.match(eni, new RegExp(`ATTR\\{address\\}=="${node.mac}"`), 'the one stanza is the NIC with the assigned MAC');
    assert.doesNotMatch(eni, /52:54:00:99:99:99/);
  });
  // Validation says so, with the MAC and the fix, pointing at the host.
  const loaded = loadTopology(seedText, 'seed.yaml');
  const warning = loaded.diagnostics.find((d) => d.code === 'host-mac-assigned' && d.path[1] === plan.nodes.indexOf(node));
  assert.ok(warning, loaded.diagnostics.map((d) => d.code).join(', '));
  assert.equal(warning.severity, 'warning');
  assert.ok(warning.message.includes(node.mac!));
  assert.match(warning.hint ?? '', /mac: "<its MAC>", or interface: <its name>/);
  assert.equal(warning.line, seedText.split('\n').findIndex((l) => l.includes('name: k8s-worker1')) + 1);
  // Assigned MACs are stable and distinct.
  const again = await renderPlan(topologyFrom(seedText));
  assert.deepEqual(again.nodes.map((n) => n.mac), plan.nodes.map((n) => n.mac));
  assert.equal(new Set(plan.nodes.map((n) => n.mac)).size, plan.nodes.length);
  for (const n of plan.nodes) assert.match(n.mac!, /^52:54:00(:[0-9a-f]{2}){3}$/);
});
