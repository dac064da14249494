// tar bundles and hypervisor recipes, checked with the tools that consume them: GNU tar, the
// VMware datasource of the installed cloud-init (its own decode and metadata processing),
// shellcheck, and each script run against recording stand-ins for govc, qm/pvesm and
// virt-install (stand-ins: they record arguments and answer as the real tools' outputs look).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { DELIVERY_FORMS, formOfPath, formsFor } from '../../src/render/delivery/forms.js';
import { DELIVERY_EPOCH, type HostSeed } from '../../src/render/delivery/seeds.js';
import { tarChunks, type TarEntry } from '../../src/render/delivery/tar.js';
import type { RenderPlan } from '../../src/plan/plan.js';
import { HeldTree, renderPlan, renderProfile } from '../helpers/cluster.js';
import { repoPath, topologyFrom } from '../helpers/repo.js';
import { renderCloudInit } from '../../src/render/cloud-init/cluster.js';
import { withTempDir } from '../helpers/tmp.js';
import { run, shellcheck } from '../helpers/tools.js';

async function render(name: string): Promise<{ plan: RenderPlan; seeds: HostSeed[]; tree: HeldTree }> {
  const r = await renderProfile(name);
  const seeds = r.seeds;
  return { plan: r.plan, seeds, tree: await HeldTree.of(renderDeliveryTree(r.plan, seeds, { forms: formsFor(DELIVERY_FORMS, r.plan.delivery.server) })) };
}

const text = (tree: HeldTree, path: string): string => {
  const f = tree.get(path);
  assert.ok(f, `no ${path}`);
  return Buffer.from(f.content).toString('utf8');
};

test('tar bundles: sorted entries, root-owned, fixed mtime, modes kept; they unpack to the rendered files', async () => {
  const { seeds, tree } = await render('default');
  await withTempDir((dir) => {
    const bundle = join(dir, 'seeds.tar');
    writeFileSync(bundle, tree.get('seeds.tar')!.content);
    const listing = run('tar', ['--numeric-owner', '--full-time', '-tvf', bundle], {}).stdout.trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).pop()!);
    assert.deepEqual(names, [...names].sort(), 'entries in path order');
    assert.deepEqual(names, ['README.md', ...seeds.map((s) => s.host).sort().flatMap((h) => [`hosts/${h}/meta-data`, `hosts/${h}/network-config`, `hosts/${h}/user-data`])]);
    for (const line of listing) {
      assert.match(line, /^-rw[-r]{7} 0\/0 .* 2000-01-01 00:00:00 /, line);
      assert.equal(line.startsWith('-rw-------'), line.endsWith('/user-data'), `only user-data is 0600: ${line}`);
    }
    const out = join(dir, 'x');
    mkdirSync(out);
    assert.equal(run('tar', ['-xpf', bundle, '-C', out]).status, 0);
    for (const s of seeds) {
      assert.equal(readFileSync(join(out, 'hosts', s.host, 'user-data'), 'utf8'), s.userData);
      assert.equal(readFileSync(join(out, 'hosts', s.host, 'network-config'), 'utf8'), s.networkConfig);
      assert.equal(statSync(join(out, 'hosts', s.host, 'network-config')).mode & 0o777, 0o644);
      assert.equal(statSync(join(out, 'hosts', s.host, 'user-data')).mode & 0o777, 0o600);
      const host = join(dir, `${s.host}.tar`);
      writeFileSync(host, tree.get(`hosts/${s.host}/seed.tar`)!.content);
      assert.deepEqual(run('tar', ['-tf', host]).stdout.trim().split('\n'), ['meta-data', 'network-config', 'user-data']);
      assert.equal(run('tar', ['-xOf', host, 'meta-data']).stdout, s.metaData);
    }
    assert.equal(tree.get('seeds.tar')!.mode, 0o600);
  });
  const again = await render('default');
  for (const f of tree.files()) assert.deepEqual(Buffer.from(again.tree.get(f.path)!.content), Buffer.from(f.content), `${f.path} is byte-identical on a second render`);
});

/** cloud-init's VMware datasource, as Debian installs it (for /usr/bin/python3): decode() and process_metadata() on our values. */
const VMWARE_DECODE = `
import json, sys
from cloudinit.sources import DataSourceVMware as ds
values = json.load(sys.stdin)
md = ds.load_json_or_yaml(ds.decode("guestinfo.metadata", values["guestinfo.metadata.encoding"], values["guestinfo.metadata"]))
md = ds.process_metadata(md)
ud = ds.decode("guestinfo.userdata", values["guestinfo.userdata.encoding"], values["guestinfo.userdata"])
text = lambda b: b.decode() if isinstance(b, bytes) else b
print(json.dumps({"metadata": md, "userdata": text(ud)}))
`;

/**
 * A stand-in govc: records each call's arguments (one file per call, in order), answers
 * `device.info -vm VM ethernet-0` as govc prints it (cli/device/info.go: a tabwriter list with
 * "MAC Address:") with $NIC_MAC, or fails as govc does when the VM has no such NIC ("device
 * 'ethernet-0' not found") when NIC_MAC is empty. `vm.change -f KEY=PATH` reads the file when it
 * parses its flags, as govc does (cli/vm/change.go extraConfigFile.Set: os.ReadFile, its error
 * "failed to parse extraConfigFile"), and records KEY=contents; `-e KEY=VALUE` records KEY=VALUE.
 */
function standInGovc(dir: string): { bin: string; calls: () => string[][]; extraConfig: () => string[]; env: (nicMac: string) => Record<string, string> } {
  const bin = join(dir, 'bin');
  const log = join(dir, 'govc-calls');
  const extra = join(dir, 'govc-extra-config');
  mkdirSync(bin, { recursive: true });
  mkdirSync(log, { recursive: true });
  writeFileSync(join(bin, 'govc'), `#!/bin/bash
n=$(find "$GOVC_CALLS" -type f | wc -l)
printf '%s\\n' "$@" > "$GOVC_CALLS/$(printf %03d "$n")"
if [ "$1" = device.info ]; then
  [ -n "$NIC_MAC" ] || { echo "govc: device 'ethernet-0' not found" >&2; exit 1; }
  printf 'Name:             ethernet-0\\n  Type:             VirtualVmxnet3\\n  Label:            Network adapter 1\\n  Summary:          VM Network\\n  MAC Address:      %s\\n  Address type:     assigned\\n' "$NIC_MAC"
fi
if [ "$1" = vm.change ]; then
  : > "$GOVC_EXTRA"
  while [ $# -gt 0 ]; do
    case "$1" in
      -e) printf '%s\\0' "$2" >> "$GOVC_EXTRA"; shift ;;
      -f) content=$(cat -- "\${2#*=}" && echo x) || { echo "govc: failed to parse extraConfigFile '$2'" >&2; exit 1; }
          printf '%s=%s\\0' "\${2%%=*}" "\${content%x}" >> "$GOVC_EXTRA"; shift ;;
    esac
    shift
  done
fi
`);
  chmodSync(join(bin, 'govc'), 0o755);
  return {
    bin,
    calls: () => readdirSync(log).sort().map((f) => readFileSync(join(log, f), 'utf8').slice(0, -1).split('\n')),
    extraConfig: () => readFileSync(extra, 'utf8').split('\0').slice(0, -1),
    env: (nicMac) => {
      rmSync(log, { recursive: true, force: true });
      mkdirSync(log);
      return { PATH: `${bin}:/usr/bin:/bin`, GOVC_CALLS: log, GOVC_EXTRA: extra, NIC_MAC: nicMac };
    },
  };
}

test('vSphere: cloud-init\'s VMware datasource decodes the .vmx values to the rendered files; govc gets the same from files, none on its command line, and the NIC the host\'s MAC', async () => {
  const { plan, seeds, tree } = await render('ubuntu-26-04-ha');
  await withTempDir((dir) => {
    const govc = standInGovc(dir);
    for (const s of seeds) {
      const vmx = text(tree, `vsphere/${s.host}.vmx`);
      const values = Object.fromEntries([...vmx.matchAll(/^(guestinfo\.[a-z.]+) = "([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]));
      assert.deepEqual(Object.keys(values).sort(), ['guestinfo.metadata', 'guestinfo.metadata.encoding', 'guestinfo.userdata', 'guestinfo.userdata.encoding']);
      const r = run('/usr/bin/python3', ['-c', VMWARE_DECODE], { input: JSON.stringify(values) });
      assert.equal(r.status, 0, r.stderr);
      const decoded = JSON.parse(r.stdout) as { metadata: Record<string, unknown>; userdata: string };
      assert.equal(decoded.userdata, s.userData);
      assert.deepEqual(decoded.metadata.network, { config: parse(s.networkConfig) });
      const meta = parse(s.metaData) as Record<string, string>;
      assert.equal(decoded.metadata['instance-id'], meta['instance-id']);
      assert.equal(decoded.metadata['local-hostname'], s.host);

      // The govc script passes exactly these key=value pairs, read from files, then gives
      // ethernet-0 the host's MAC (govc/USAGE.md: vm.network.change -net NETWORK -net.address MAC DEVICE).
      const mac = plan.nodes.find((n) => n.name === s.host)!.mac!;
      const script = join(dir, `${s.host}.govc.sh`);
      writeFileSync(script, text(tree, `vsphere/${s.host}.govc.sh`));
      const g = run('bash', [script, `vm-${s.host}`, 'VM Network'], { env: govc.env('00:50:56:8a:12:34') });
      assert.equal(g.status, 0, g.stderr);
      const [info, change, nic, ...more] = govc.calls();
      assert.deepEqual(info, ['device.info', '-vm', `vm-${s.host}`, 'ethernet-0']);
      assert.deepEqual(change!.slice(0, 3), ['vm.change', '-vm', `vm-${s.host}`]);
      assert.deepEqual(govc.extraConfig(), Object.entries(values).map(([k, v]) => `${k}=${v}`));
      // No value on govc's command line (ps shows it to every local user): only -f KEY=<absolute path>.
      for (const [k, v] of Object.entries(values)) assert.ok(!change!.some((a) => a.includes(v) && v.length > 20), `${k}'s value is on the command line`);
      const flags = change!.slice(3);
      assert.deepEqual(flags.filter((_, i) => i % 2 === 0), Object.keys(values).map(() => '-f'));
      for (const a of flags.filter((_, i) => i % 2 === 1)) assert.match(a, /^guestinfo\.[a-z.]+=\/[^=]+$/);
      assert.ok(flags.filter((_, i) => i % 2 === 1).every((a) => !existsSync(a.slice(a.indexOf('=') + 1))), 'the value files are removed');
      assert.deepEqual(nic, ['vm.network.change', '-vm', `vm-${s.host}`, '-net', 'VM Network', '-net.address', mac, 'ethernet-0']);
      assert.deepEqual(more, []);

      // A NIC that has the MAC already (any case) is left alone.
      const same = run('bash', [script, `vm-${s.host}`], { env: govc.env(mac.toUpperCase()) });
      assert.equal(same.status, 0, same.stderr);
      assert.deepEqual(govc.calls().map((c) => c[0]), ['device.info', 'vm.change']);
      // A VM without the NIC: the script stops before it changes anything.
      const none = run('bash', [script, `vm-${s.host}`], { env: govc.env('') });
      assert.notEqual(none.status, 0);
      assert.match(none.stderr, /device 'ethernet-0' not found/);
      assert.deepEqual(govc.calls().map((c) => c[0]), ['device.info']);
    }
  });
});

/**
 * cloud-init's VMware datasource as Debian installs it, run on our guestinfo: _get_data with the
 * platform check answered "VMware" and a stand-in vmware-rpctool that keeps the guestinfo values
 * in a folder (info-get prints one or fails with the datasource's "No value found"; info-set
 * stores one). Prints what the datasource read and what the guestinfo holds afterwards.
 */
const VMWARE_GET_DATA = `
import json, os, sys
from cloudinit import helpers
from cloudinit.sources import DataSourceVMware as ds
rpctool, store = sys.argv[1], sys.argv[2]
ds.dmi.read_dmi_data = lambda key: "VMware Virtual Platform" if key == "system-product-name" else None
source = ds.DataSourceVMware({}, None, helpers.Paths({"run_dir": store + "/run"}))
source.vmware_rpctool = rpctool
ok = source._get_data()
text = lambda b: b.decode() if isinstance(b, bytes) else b
after = {k: open(os.path.join(store, k)).read() for k in sorted(os.listdir(store)) if k.startswith("guestinfo.")}
print(json.dumps({"ok": ok, "userdata": text(source.userdata_raw), "instance": source.metadata.get("instance-id"), "after": after}))
`;

test('vSphere: cloud-init\'s VMware datasource clears guestinfo.userdata (and vendordata) once it has read it, as the metadata asks (redact)', async () => {
  const { seeds, tree } = await render('default');
  const seed = seeds.find((s) => s.host === 'cp1')!;
  await withTempDir((dir) => {
    const store = join(dir, 'guestinfo');
    mkdirSync(store);
    const vmx = text(tree, 'vsphere/cp1.vmx');
    for (const m of vmx.matchAll(/^(guestinfo\.[a-z.]+) = "([^"]*)"$/gm)) writeFileSync(join(store, m[1]!), m[2]!);
    const rpctool = join(dir, 'vmware-rpctool');
    writeFileSync(rpctool, `#!/bin/bash
store=${JSON.stringify(store)}
set -- $1
case "$1" in
  info-get) [ -f "$store/$2" ] || { printf 'No value found' >&2; exit 1; }; cat "$store/$2" ;;
  info-set) key=$2; shift 2; printf '%s' "$*" > "$store/$key" ;;
  *) exit 1 ;;
esac
`);
    chmodSync(rpctool, 0o755);
    const r = run('/usr/bin/python3', ['-c', VMWARE_GET_DATA, rpctool, store]);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { ok: boolean; userdata: string; instance: string; after: Record<string, string> };
    assert.equal(got.ok, true);
    assert.equal(got.userdata, seed.userData, 'it read the user-data first');
    assert.equal(got.instance, (parse(seed.metaData) as Record<string, string>)['instance-id']);
    // The datasource writes "---" (an empty YAML document) and blanks the encoding.
    assert.equal(got.after['guestinfo.userdata'], '---');
    assert.equal(got.after['guestinfo.vendordata'], '---');
    assert.ok(!('guestinfo.userdata.encoding' in got.after) || got.after['guestinfo.userdata.encoding']!.trim() === '', 'the encoding is blanked');
    assert.ok(got.after['guestinfo.metadata']!.startsWith('H4sI'), 'the metadata stays');
  });
});

test('vSphere: a MAC in the part of VMware\'s OUI that vSphere keeps for itself is set with a warning; kubebake\'s 52:54:00 MACs are not', async () => {
  const profile = readFileSync(repoPath('profiles', 'ubuntu-26-04-ha.yaml'), 'utf8');
  const plan = await renderPlan(topologyFrom(profile.replace('mac: "52:54:00:30:00:11"', 'mac: "00:50:56:80:00:11"').replace('mac: "52:54:00:30:00:12"', 'mac: "00:50:56:3f:00:12"')));
  const tree = await HeldTree.of(renderDeliveryTree(plan, renderCloudInit(plan).seeds, { forms: ['vsphere'] }));
  await withTempDir((dir) => {
    const govc = standInGovc(dir);
    for (const [host, warns] of [['cp1', true], ['cp2', false], ['cp3', false]] as const) {
      const script = join(dir, `${host}.govc.sh`);
      writeFileSync(script, text(tree, `vsphere/${host}.govc.sh`));
      const r = run('bash', [script], { env: govc.env('00:50:56:8a:12:34') });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(/warning: .* vSphere keeps for the addresses it generates/.test(r.stderr), warns, `${host}: ${r.stderr}`);
      assert.deepEqual(govc.calls().at(-1)!.slice(0, 3), ['vm.network.change', '-vm', host]);
    }
  });
});

/**
 * Proxmox VE's NIC models, as upstream lists them (proxmox/qemu-server src/PVE/QemuServer/Network.pm
 * @ 4fd7e7d92b1238f2bb6e839e7c1590a7475a46f3, $nic_model_list), and the other keys of its net format.
 */
const PVE_NIC_MODELS = ['e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3'];
const PVE_NET_OPTIONS = ['bridge', 'queues', 'rate', 'tag', 'trunks', 'firewall', 'link_down', 'mtu', 'host-tunnel'];

/**
 * The proxmox/ folder as the operator copies it to the Proxmox node, and stand-ins: `pvesm path
 * STORAGE:snippets/FILE` prints the file's path on that storage; `qm config` prints $QM_CONFIG;
 * `qm set --net0` refuses a value Proxmox's net format would refuse ("<model>=<MAC>" first, then
 * known keys), as the real qm does (exit 255, "400 Parameter verification failed").
 */
function proxmoxNode(dir: string, tree: HeldTree): { proxmox: string; storage: string; bin: string } {
  const proxmox = join(dir, 'proxmox');
  for (const f of tree.files().filter((f) => f.path.startsWith('proxmox/'))) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
  }
  const storage = join(dir, 'var-lib-vz', 'snippets');
  mkdirSync(storage, { recursive: true });
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'pvesm'), `#!/bin/sh\necho "pvesm $*" >> "$CALLS"\n[ "$1" = path ] && echo "${storage}/\${2#*:snippets/}"\n`);
  writeFileSync(join(bin, 'qm'), `#!/bin/bash
echo "qm $*" >> "$CALLS"
[ "$1" = config ] && exec cat "$QM_CONFIG"
if [ "$1" = set ] && [ "$3" = --net0 ]; then
  IFS=, read -r -a f <<< "$4"
  case "\${f[0]%%=*}" in ${PVE_NIC_MODELS.join('|')}) ;; *) echo "400 Parameter verification failed: net0: $4" >&2; exit 255 ;; esac
  [[ "\${f[0]#*=}" =~ ^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$ ]] || { echo "400 Parameter verification failed: net0: $4" >&2; exit 255; }
  for o in "\${f[@]:1}"; do case "\${o%%=*}" in ${PVE_NET_OPTIONS.join('|')}) ;; *) echo "400 Parameter verification failed: net0: $4" >&2; exit 255 ;; esac; done
fi
exit 0
`);
  for (const t of ['pvesm', 'qm']) chmodSync(join(bin, t), 0o755);
  return { proxmox, storage, bin };
}

/** A VM's `qm config` with this net0 line (none when undefined) and no CloudInit drive, as a fresh VM from a template has. */
const qmConfig = (net0: string | undefined): string => `boot: order=scsi0\n${net0 === undefined ? '' : `net0: ${net0}\n`}scsi0: local-lvm:vm-9001-disk-0\n`;

test('Proxmox: the qm script copies the snippets 0600 onto the storage, adds a CloudInit drive, sets cicustom and the MAC', async () => {
  const { plan, seeds, tree } = await render('default');
  await withTempDir((dir) => {
    const { proxmox, storage, bin } = proxmoxNode(dir, tree);
    writeFileSync(join(dir, 'qm.config'), qmConfig('virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1'));
    for (const s of seeds) {
      const node = plan.nodes.find((n) => n.name === s.host)!;
      const calls = join(dir, `${s.host}.calls`);
      const r = run('bash', [join(proxmox, `${s.host}.qm.sh`), '9001'], { env: { PATH: `${bin}:/usr/bin:/bin`, CALLS: calls, QM_CONFIG: join(dir, 'qm.config') } });
      assert.equal(r.status, 0, r.stderr);
      const base = `${plan.name}-${s.host}`;
      assert.equal(readFileSync(join(storage, `${base}-user-data.yaml`), 'utf8'), s.userData);
      assert.equal(statSync(join(storage, `${base}-user-data.yaml`)).mode & 0o777, 0o600);
      assert.equal(readFileSync(join(storage, `${base}-network-config.yaml`), 'utf8'), s.networkConfig);
      assert.equal(readFileSync(join(storage, `${base}-meta-data.yaml`), 'utf8'), s.metaData);
      assert.ok(!existsSync(join(storage, `${base}-vendor-data.yaml`)), 'no vendor-data snippet');
      const log = readFileSync(calls, 'utf8');
      assert.match(log, /^qm set 9001 --ide2 local-lvm:cloudinit$/m);
      assert.ok(log.includes(`qm set 9001 --cicustom user=local:snippets/${base}-user-data.yaml,network=local:snippets/${base}-network-config.yaml,meta=local:snippets/${base}-meta-data.yaml\n`), log);
      if (node.mac) assert.ok(log.includes(`qm set 9001 --net0 virtio=${node.mac},bridge=vmbr0,firewall=1\n`), log);
      else assert.doesNotMatch(log, /--net0/, `${s.host} is matched by interface name: net0 is left alone`);
    }
  });
});

test('Proxmox: net0 gets the host\'s MAC whatever NIC model Proxmox offers and however net0 spells it; a net0 the script cannot read stops it before any change', async () => {
  const { plan, tree } = await render('default');
  const node = plan.nodes.find((n) => n.name === 'cp1')!;
  assert.ok(node.mac);
  await withTempDir((dir) => {
    const { proxmox, storage, bin } = proxmoxNode(dir, tree);
    const runWith = (net0: string | undefined, i: number) => {
      const config = join(dir, `qm-${i}.config`);
      writeFileSync(config, qmConfig(net0));
      const calls = join(dir, `calls-${i}`);
      writeFileSync(calls, '');
      rmSync(storage, { recursive: true, force: true });
      mkdirSync(storage);
      const r = run('bash', [join(proxmox, 'cp1.qm.sh'), '9001'], { env: { PATH: `${bin}:/usr/bin:/bin`, CALLS: calls, QM_CONFIG: config } });
      return { ...r, log: readFileSync(calls, 'utf8') };
    };
    const cases: [string, string][] = [
      ...PVE_NIC_MODELS.map((m): [string, string] => [`${m}=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`, `${m}=${node.mac},bridge=vmbr0,firewall=1`]),
      ['model=e1000e,macaddr=BC:24:11:00:00:01,bridge=vmbr0,tag=30', `e1000e=${node.mac},bridge=vmbr0,tag=30`],
      ['bridge=vmbr1,model=vmxnet3', `vmxnet3=${node.mac},bridge=vmbr1`],
      ['virtio,bridge=vmbr0,link_down=1', `virtio=${node.mac},bridge=vmbr0,link_down=1`],
    ];
    cases.forEach(([net0, expected], i) => {
      const r = runWith(net0, i);
      assert.equal(r.status, 0, `${net0}: ${r.stderr}`);
      assert.ok(r.log.includes(`qm set 9001 --net0 ${expected}\n`), `${net0}:\n${r.log}`);
    });
    const bad: [string | undefined, RegExp][] = [
      [undefined, /has no net0: add one with MAC 52:54:00:20:00:11/],
      ['virtio-net-pci=BC:24:11:00:00:01,bridge=vmbr0', /no NIC model this script knows in net0 \(virtio-net-pci=BC:24:11:00:00:01,bridge=vmbr0\)/],
      ['e1000=BC:24:11:00:00:01,virtio=BC:24:11:00:00:02', /net0 names two NIC models/],
    ];
    bad.forEach(([net0, message], i) => {
      const r = runWith(net0, 100 + i);
      assert.notEqual(r.status, 0, `${net0}: must fail`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /qm set 9001 --net0 /, 'says how to fix it');
      assert.doesNotMatch(r.log, /qm set/, `${net0}: nothing changed on the VM`);
      assert.deepEqual(readdirSync(storage), [], `${net0}: no snippet copied`);
    });
  });
});

test('libvirt: virt-install gets the seed.iso as a CD-ROM, the MAC and the OS', async () => {
  const { plan, seeds, tree } = await render('debian-12-cilium');
  await withTempDir((dir) => {
    for (const f of tree.files().filter((f) => f.path.startsWith('libvirt/') || f.path.endsWith('seed.iso'))) {
      mkdirSync(join(dir, f.path, '..'), { recursive: true });
      writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
    }
    const bin = join(dir, 'bin');
    const pool = join(dir, 'pool');
    mkdirSync(bin);
    mkdirSync(pool);
    for (const t of ['virt-install', 'qemu-img', 'osinfo-query']) {
      writeFileSync(join(bin, t), `#!/bin/sh\necho "${t} $*" >> "$CALLS"\n${t === 'osinfo-query' ? 'echo " debian12 | Debian 12"' : ''}\n`);
      chmodSync(join(bin, t), 0o755);
    }
    writeFileSync(join(dir, 'cloud.qcow2'), 'stand-in image');
    for (const s of seeds) {
      const node = plan.nodes.find((n) => n.name === s.host)!;
      const calls = join(dir, `${s.host}.calls`);
      const r = run('bash', [join(dir, 'libvirt', `${s.host}.virt-install.sh`), join(dir, 'cloud.qcow2'), 'lab'], { env: { PATH: `${bin}:/usr/bin:/bin`, CALLS: calls, POOL_DIR: pool } });
      assert.equal(r.status, 0, r.stderr);
      const iso = join(pool, `${plan.name}-${s.host}-seed.iso`);
      assert.deepEqual(readFileSync(iso), Buffer.from(tree.get(`hosts/${s.host}/seed.iso`)!.content));
      assert.equal(statSync(iso).mode & 0o777, 0o600);
      const log = readFileSync(calls, 'utf8');
      assert.ok(log.includes(`--disk ${iso},device=cdrom`), log);
      assert.ok(log.includes(`--network network=lab,model=virtio,mac=${node.mac}`), log);
      assert.ok(log.includes('--osinfo debian12'), log);
      assert.match(log, new RegExp(`^qemu-img create -f qcow2 -F qcow2 -b ${join(dir, 'cloud.qcow2')} `, 'm'));
    }
  });
});

test('formOfPath (what a render reports removing per form) names the form of every path each form writes, and no form for the plain files', async () => {
  const r = await renderProfile('pxe');
  const seeds = r.seeds;
  for (const form of DELIVERY_FORMS) {
    const paths = renderDeliveryTree(r.plan, seeds, { forms: [form] }).files().map((f) => f.path).filter((p) => p !== 'README.md');
    assert.ok(paths.length > 0, form);
    for (const p of paths) assert.equal(formOfPath(p), form, p);
  }
  for (const f of [...r.tree.files(), ...renderDeliveryTree(r.plan, seeds, { forms: [] }).files()]) assert.equal(formOfPath(f.path), undefined, f.path);
});

test('every emitted script passes shellcheck -S warning; every file carrying user-data is 0600', async () => {
  for (const name of ['default', 'seed', 'debian-12-cilium']) {
    const { tree } = await render(name);
    const scripts = Object.fromEntries(tree.files().filter((f) => f.path.endsWith('.sh')).map((f) => [f.path, Buffer.from(f.content).toString('utf8')]));
    assert.ok(Object.keys(scripts).length > 0);
    assert.equal(shellcheck(scripts), '');
    for (const f of tree.files()) {
      const carries = /(seed\.(iso|tar)|seeds\.tar|\.vmx|govc\.sh|user-data\.yaml)$/.test(f.path);
      if (carries) assert.equal(f.mode & 0o077, 0, `${f.path} is readable by others`);
    }
  }
});

test('a tar is encoded entry by entry as it is read: a 5,000-host seeds.tar is never whole in memory', async () => {
  const read: string[] = [];
  const entries: TarEntry[] = Array.from({ length: 50 }, (_, i) => ({
    path: `hosts/h${String(i).padStart(2, '0')}/user-data`,
    mode: 0o600,
    get content() {
      read.push(this.path);
      return String(i % 10).repeat(64 * 1024);
    },
  }));
  const chunks = tarChunks(entries, DELIVERY_EPOCH);
  const first = await chunks.next();
  assert.equal(first.done, false);
  assert.ok(read.length < 5, `after the first chunk only the first entries were encoded (${read.length} of 50)`);
  const rest: Uint8Array[] = [first.value as Uint8Array];
  for await (const c of chunks) rest.push(c);
  assert.equal(read.length, 50);
  await withTempDir((dir) => {
    writeFileSync(join(dir, 'x.tar'), Buffer.concat(rest));
    const listing = run('tar', ['-tvf', join(dir, 'x.tar')]).stdout.trim().split('\n');
    assert.equal(listing.length, 50);
    assert.ok(listing.every((l) => l.startsWith('-rw------- ') && / 65536 /.test(l)), listing[0]);
  });
});
