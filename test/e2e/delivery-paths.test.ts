// Each delivery path, reproduced from the datasource's or platform's upstream source, boots the
// rendered files with the real cloud-init in the sandbox (test/helpers/sandbox.ts) and runs
// kubebake's steps to the end. What a path hands the machine is built here the way the platform
// builds it (which files, which tool and options, what it generates or merges), from the rendered
// output and nothing else; ds-identify then picks the datasource from what the platform presents,
// as on a real boot. Each test names the upstream files it follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { snippetNames } from '../../src/render/delivery/proxmox.js';
import type { NodePlan, RenderPlan } from '../../src/plan/plan.js';
import type { PxeIndex } from '../../src/render/delivery/pxe/hosts-json.js';
import { HeldTree, renderPlan, renderProfile, text } from '../helpers/cluster.js';
import { runKubebake } from '../helpers/cli.js';
import { renderedNetwork } from '../helpers/network.js';
import { profile, repoPath } from '../helpers/repo.js';
import { bootInSandbox, nocloudSeedFiles, PLAIN_CMDLINE, sandboxUnavailable, type BootOptions, type BootResult, type ClusterRecord, type Platform } from '../helpers/sandbox.js';
import { withTempDir } from '../helpers/tmp.js';
import { pxeVariant, renderPxeTree, subiquityInstalledFiles } from '../helpers/installers.js';
import { missingTools, run } from '../helpers/tools.js';

const skip = sandboxUnavailable();
const { plan, tree, seeds } = await renderProfile('default');
const delivery = await HeldTree.of(renderDeliveryTree(plan, seeds, { forms: ['iso', 'vsphere', 'proxmox', 'libvirt'] }));
/** A rendered file: a delivery form's, or one of a host's three NoCloud files. */
const bytes = (path: string): Buffer => {
  const f = delivery.get(path);
  return f ? Buffer.from(f.content) : Buffer.from(text(tree, path));
};
const node = (name: string, p: RenderPlan = plan): NodePlan => p.nodes.find((n) => n.name === name)!;

/** A host's boot on a platform: its NIC (MAC and name) as the topology gives them. */
const bootOf = (n: NodePlan, platform: Platform, extra: Partial<BootOptions> = {}, p: RenderPlan = plan): BootOptions => ({
  platform,
  kubernetesVersion: p.kubernetes.version,
  mac: n.mac,
  nic: n.interface,
  ...extra,
});

const firstLine = (calls: string[], re: RegExp): number => calls.findIndex((c) => re.test(c));

/** What every path must reach: cloud-init without errors, the host's address, route and DNS, its steps to "ok", and kubeadm. */
function assertUp(boot: BootResult, n: NodePlan, p: RenderPlan, kubeadm: 'init' | 'join' | 'none'): void {
  const where = `${n.name}: ${boot.output.slice(-3000)}`;
  assert.deepEqual(boot.errors, [], where);
  assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', boot.read('var/log/kubebake/firstboot.log')?.slice(-3000));
  assert.equal(boot.read('etc/hostname')?.trim(), n.name);
  const net = renderedNetwork(boot);
  assert.ok(net.addresses.includes(`${n.ip}/24`), `${net.renderer}: ${JSON.stringify(net)}`);
  assert.ok(net.gateways.includes(p.network.gateway), `${net.renderer}: ${JSON.stringify(net)}`);
  for (const dns of p.network.dns) assert.ok(net.dns.includes(dns), `${net.renderer}: DNS ${dns}: ${JSON.stringify(net)}`);
  assert.ok(boot.addresses.some((l) => l.includes(` inet ${n.ip}/24 `)), boot.addresses.join('\n'));
  assert.ok(boot.routes.some((l) => l.startsWith(`default via ${p.network.gateway} `)), boot.routes.join('\n'));
  const verbs = boot.calls.filter((c) => /^kubeadm (init|join) /.test(c)).map((c) => c.split(' ')[1]);
  assert.deepEqual(verbs, kubeadm === 'none' ? [] : [kubeadm], boot.calls.join('\n'));
}

/** The datasource cloud-init used (its status record, /var/lib/cloud/data/status.json), and the list ds-identify chose. */
const datasource = (boot: BootResult): string => (JSON.parse(boot.read('var/lib/cloud/data/status.json') ?? '{"v1":{}}') as { v1: { datasource?: string } }).v1.datasource ?? '';
const dsList = (boot: BootResult): string => /^datasource_list: (.*)$/m.exec(boot.read('run/cloud-init/cloud.cfg') ?? '')?.[1] ?? '';

/**
 * How cloud-init's NoCloud reads a `cidata` volume: it mounts the device labelled cidata (upper or
 * lower case, or a FAT boot label) and reads the files `user-data` and `meta-data` (required) and
 * `vendor-data` and `network-config` (optional) from its root, nothing else (cloud-init 22.4
 * cloudinit/sources/DataSourceNoCloud.py _get_data: fs_label "cidata", pp2d_kwargs with
 * util.pathprefix2dict). Here xorriso reads the image back (the Rock Ridge names the kernel's
 * iso9660 driver shows) and the files NoCloud would read become the seed dir, whose reading is the
 * same pathprefix2dict call. Returns the volume's label and those files.
 */
function readCidata(iso: Buffer): { label: string; names: string[]; seed: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-cidata-'));
  try {
    writeFileSync(join(dir, 'seed.iso'), iso);
    const info = run('xorriso', ['-indev', join(dir, 'seed.iso'), '-pvd_info']);
    assert.equal(info.status, 0, info.stderr);
    const label = /^Volume Id\s*:\s*(\S+)/m.exec(info.stdout)?.[1] ?? '';
    const x = run('xorriso', ['-osirrox', 'on', '-indev', join(dir, 'seed.iso'), '-extract', '/', join(dir, 'root')]);
    assert.equal(x.status, 0, x.stderr);
    const names = readdirSync(join(dir, 'root')).sort();
    const seed = Object.fromEntries(['user-data', 'meta-data', 'vendor-data', 'network-config'].filter((f) => names.includes(f)).map((f) => [f, readFileSync(join(dir, 'root', f), 'utf8')]));
    return { label, names, seed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A NoCloud seed dir with the files of a cidata volume, after checking NoCloud would find the volume. */
function cidataPlatform(iso: Buffer, extra: Platform = {}): Platform {
  const { label, seed } = readCidata(iso);
  assert.ok(['cidata', 'CIDATA'].includes(label), `volume label ${label}: NoCloud looks for cidata`);
  assert.ok(seed['user-data'] !== undefined && seed['meta-data'] !== undefined, 'NoCloud requires user-data and meta-data');
  return { ...extra, files: { ...nocloudSeedFiles(seed as { 'user-data': string; 'meta-data': string }), ...extra.files } };
}

let record: ClusterRecord | undefined;
/** The cluster the first control plane's seed.iso boot initialised, for the joins of the other paths. */
function initRecord(): ClusterRecord {
  if (!record) {
    record = bootInSandbox(bootOf(node('cp1'), cidataPlatform(bytes('hosts/cp1/seed.iso'))), (boot) => {
      assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n');
      return boot.clusterRecord();
    });
  }
  assert.ok(record);
  return record;
}

test('NoCloud seed ISO: the bytes of hosts/cp1/seed.iso, read as NoCloud reads a cidata volume, boot the first control plane to ok', { skip: skip ?? missingTools('xorriso') }, () => {
  const iso = readCidata(bytes('hosts/cp1/seed.iso'));
  assert.deepEqual(iso.names, ['meta-data', 'network-config', 'user-data'], 'what the ISO holds');
  bootInSandbox(bootOf(node('cp1'), cidataPlatform(bytes('hosts/cp1/seed.iso'))), (boot) => {
    assertUp(boot, node('cp1'), plan, 'init');
    assert.match(datasource(boot), /^DataSourceNoCloud \[seed=\/var\/lib\/cloud\/seed\/nocloud\]/);
    assert.equal(dsList(boot), '[ NoCloud, None ]', 'ds-identify found NoCloud');
    record = boot.clusterRecord();
  });
});

/** A vSphere VM's SMBIOS strings (see the vSphere test). */
const VMWARE_DMI: Record<string, string> = {
  sys_vendor: 'VMware, Inc.', product_name: 'VMware7,1', product_version: 'None', product_serial: 'VMware-56 4d 1a 2b 3c 4d 5e 6f-70 81 92 a3 b4 c5 d6 e7',
  product_uuid: '2b1a4d56-4d3c-6f5e-7081-92a3b4c5d6e7', chassis_vendor: 'No Enclosure', chassis_asset_tag: 'No Asset Tag', chassis_serial: 'None', chassis_version: 'N/A',
  board_vendor: 'Intel Corporation', board_name: '440BX Desktop Reference Platform', board_serial: 'None', board_version: 'None', board_asset_tag: '',
  bios_vendor: 'VMware, Inc.', bios_version: 'VMW71.00V.21100432.B64.2301110304', bios_date: '01/11/2023',
};

/**
 * STAND-IN for open-vm-tools' vmware-rpctool (vmware/open-vm-tools open-vm-tools/rpctool/rpctool.c
 * @ 169623f789a774603805cebd6d3f53d39352993f): it sends its first argument as one RPC to the VMX and
 * prints the reply with a newline, to stdout with exit 0 on success, to stderr with exit 1 on
 * failure; no argument prints its usage (exit 1). The VMX's side, acted out: "info-get
 * guestinfo.<key>" answers the value of that key of the VM's .vmx (keys are case-insensitive;
 * `key = "value"` lines), or fails with "No value found" (the reply cloud-init expects,
 * DataSourceVMware NOVAL); "info-set guestinfo.<key> <value>" (the guest may set guestinfo.*) succeeds
 * with an empty reply; anything else fails with "Unknown command". The .vmx is /standin/vmx.
 */
const RPCTOOL = `#!/bin/sh
# STAND-IN written by test/e2e/delivery-paths.test.ts for vmware-rpctool; not the real tool.
if [ $# -lt 1 ]; then printf 'rpctool syntax:\\n\\n  rpctool <text>\\n\\n' >&2; exit 1; fi
printf '%s\\n' "$1" >> /standin/rpctool.log
case "$1" in
  "info-get "*)
    key=\${1#info-get }
    if value=$(awk -v k="$key" 'BEGIN { k = tolower(k) } /^[ \\t]*#/ { next } { i = index($0, "="); if (!i) next; name = substr($0, 1, i - 1); gsub(/^[ \\t]+|[ \\t]+$/, "", name); if (tolower(name) != k) next; v = substr($0, i + 1); sub(/^[ \\t]*"/, "", v); sub(/"[ \\t]*$/, "", v); print v; found = 1; exit } END { exit !found }' /standin/vmx); then
      printf '%s\\n' "$value"
    else
      echo 'No value found' >&2; exit 1
    fi ;;
  "info-set guestinfo."*) echo ;;
  *) echo 'Unknown command' >&2; exit 1 ;;
esac
`;

test("vSphere guestinfo: cloud-init's VMware datasource reads the rendered .vmx values through vmware-rpctool; a worker joins", { skip }, () => {
  // What the VMware datasource needs to select itself (cloud-init 22.4 tools/ds-identify
  // dscheck_VMware and sources/DataSourceVMware.py _get_data): systemd-detect-virt says "vmware"
  // (systemd src/basic/virt.c detects VMware from the DMI vendor "VMware"), vmware-rpctool is on
  // PATH, and guestinfo has metadata or userdata; the datasource itself then checks that the DMI
  // system-product-name contains "vmware". A vSphere VM's SMBIOS: vendor "VMware, Inc.", product
  // "VMware7,1" (EFI VMs; BIOS ones "VMware Virtual Platform"). open-vm-tools ships vmware-rpctool
  // in /usr/bin.
  const vmx = bytes('vsphere/worker1.vmx').toString('utf8');
  const w = node('worker1');
  bootInSandbox(
    bootOf(w, { virt: 'vmware', dmi: VMWARE_DMI, files: { '/usr/bin/vmware-rpctool': { content: RPCTOOL, mode: 0o755 }, '/standin/vmx': vmx } }, { cluster: initRecord() }),
    (boot) => {
      assertUp(boot, w, plan, 'join');
      assert.equal(dsList(boot), '[ VMware, None ]', 'ds-identify found VMware');
      assert.equal(datasource(boot), 'DataSourceVMware');
      assert.match(boot.read('var/log/cloud-init.log') ?? '', /using data access method guestinfo/);
      const asked = (boot.read('standin/rpctool.log') ?? '').split('\n');
      for (const k of ['metadata', 'userdata']) assert.ok(asked.includes(`info-get guestinfo.${k}`), asked.join('\n'));
    },
  );
});

test('Proxmox cicustom: the drive qemu-server builds from the rendered snippets (genisoimage -V cidata) boots the first control plane to ok', { skip: skip ?? missingTools('genisoimage', 'xorriso') }, async () => {
  // proxmox/qemu-server src/PVE/QemuServer/Cloudinit.pm @ e6352be67f70042a7433a3a3c712b36d02f9f7cb:
  // generate_nocloud reads the cicustom snippets (read_cloudinit_snippets_file, at most 1 MiB
  // each); user and network default to Proxmox's own, vendor-data to '' and meta-data, when no
  // meta= is given, to "instance-id: <sha1 of user-data . network-config>" (nocloud_gen_metadata);
  // it writes /user-data, /network-config, /meta-data and /vendor-data into a folder and
  // commit_cloudinit_disk runs `genisoimage -quiet -iso-level 3 -J -R -V cidata <folder>` (then
  // qemu-img dd pads it to the 4 MiB volume: padding the ISO's reader never sees).
  const n = snippetNames(plan, 'cp1');
  const snippet = (name: string): string => bytes(`proxmox/snippets/${name}`).toString('utf8');
  // kubebake's qm script passes user=, network= and meta= (renderQmScript; its cicustom value).
  const files = { 'user-data': snippet(n.user), 'network-config': snippet(n.network), 'meta-data': snippet(n.meta), 'vendor-data': '' };
  // Without meta=, Proxmox would generate this one instead (not what kubebake hands it).
  const generated = `instance-id: ${createHash('sha1').update(files['user-data'] + files['network-config']).digest('hex')}\n`;
  assert.notEqual(files['meta-data'], generated);
  await withTempDir(async (dir) => {
    mkdirSync(join(dir, 'cloudinit'));
    for (const [f, c] of Object.entries(files)) writeFileSync(join(dir, 'cloudinit', f), c);
    const iso = run('genisoimage', ['-quiet', '-iso-level', '3', '-J', '-R', '-V', 'cidata', '-o', join(dir, 'drive.iso'), join(dir, 'cloudinit')]);
    assert.equal(iso.status, 0, iso.stderr);
    const drive = readFileSync(join(dir, 'drive.iso'));
    assert.deepEqual(readCidata(drive).names, ['meta-data', 'network-config', 'user-data', 'vendor-data']);
    bootInSandbox(bootOf(node('cp1'), cidataPlatform(drive)), (boot) => {
      assertUp(boot, node('cp1'), plan, 'init');
      assert.match(datasource(boot), /^DataSourceNoCloud /);
    });
  });
});

/**
 * virt-install --cloud-init (virt-manager/virt-manager virtinst/install/cloudinit.py and
 * installerinject.py @ 2450354f39f79af97a7c63f74c22eafdff94942a, v5.1.0-89): create_files writes
 * meta-data (its generated content is "", the empty string), user-data (user-data=FILE is copied as
 * it is) and network-config only when network-config=FILE is given (its own content is None: no
 * file); no vendor-data. _run_iso_commands builds the ISO with the first of xorrisofs, genisoimage,
 * mkisofs: `-o ISO -J -input-charset utf8 -rational-rock -V cidata DIR`.
 */
async function virtInstallIso(dir: string, files: Record<string, string>): Promise<Buffer> {
  const src = join(dir, 'virtinst');
  mkdirSync(src);
  for (const [f, c] of Object.entries({ 'meta-data': '', ...files })) writeFileSync(join(src, f), c);
  const r = run('xorrisofs', ['-o', join(dir, 'cloudinit.iso'), '-J', '-input-charset', 'utf8', '-rational-rock', '-V', 'cidata', src]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(join(dir, 'cloudinit.iso'));
}

test('virt-install --cloud-init user-data=FILE: the ISO virt-install builds (empty meta-data, no network-config) boots a worker on the DHCP reservation to ok; with network-config=FILE, on its static address', { skip: skip ?? missingTools('xorrisofs', 'xorriso') }, async () => {
  const w = node('worker1');
  const userData = bytes('hosts/worker1/user-data').toString('utf8');
  await withTempDir(async (dir) => {
    const iso = await virtInstallIso(dir, { 'user-data': userData });
    assert.deepEqual(readCidata(iso).names, ['meta-data', 'user-data']);
    // libvirt's network hands the worker its topology address: a DHCP reservation for its MAC.
    bootInSandbox(bootOf(w, cidataPlatform(iso, { dhcp: { address: `${w.ip}/24`, router: plan.network.gateway } }), { cluster: initRecord() }), (boot) => {
      assert.deepEqual(boot.errors, [], boot.output);
      assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', boot.read('var/log/kubebake/firstboot.log')?.slice(-2000));
      // NoCloud's default instance-id for meta-data without one (DataSourceNoCloud _get_data: "nocloud").
      assert.equal(boot.read('var/lib/cloud/data/instance-id')?.trim(), 'nocloud');
      const net = renderedNetwork(boot);
      assert.deepEqual(net.addresses, [], 'no static address: the NIC is left to DHCP');
      assert.ok(boot.addresses.some((l) => l.includes(` inet ${w.ip}/24 `)), boot.addresses.join('\n'));
      assert.ok(firstLine(boot.calls, /^kubeadm join /) >= 0, boot.calls.join('\n'));
      assert.equal(boot.read('etc/hostname')?.trim(), w.name);
    });
  });
  await withTempDir(async (dir) => {
    const iso = await virtInstallIso(dir, { 'user-data': userData, 'network-config': bytes('hosts/worker1/network-config').toString('utf8') });
    assert.deepEqual(readCidata(iso).names, ['meta-data', 'network-config', 'user-data']);
    bootInSandbox(bootOf(w, cidataPlatform(iso), { cluster: initRecord() }), (boot) => assertUp(boot, w, plan, 'join'));
  });
});

/** A platform's meta-data for a VM created from one user-data box (its own instance id, no network). */
const PLATFORM_META = 'instance-id: i-0f1e2d3c4b5a69788\n';

test("a UI with one user-data box: the platform's meta-data and DHCP; a lease on the topology address boots to ok, another address stops at the address step before kubeadm", { skip }, () => {
  // What such a host does for its network is what the README says (src/render/delivery/cluster-readme.ts,
  // "What to attach where"): without network-config cloud-init falls back to DHCP on the NIC (the
  // platform's network), and first boot checks the address and stops with "failed: address: …".
  const cp1 = node('cp1');
  const userData = bytes('hosts/cp1/user-data').toString('utf8');
  const seed = { 'user-data': userData, 'meta-data': PLATFORM_META };
  bootInSandbox(bootOf(cp1, { files: nocloudSeedFiles(seed), dhcp: { address: `${cp1.ip}/24`, router: plan.network.gateway } }), (boot) => {
    assert.deepEqual(boot.errors, [], boot.output);
    assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', boot.read('var/log/kubebake/firstboot.log')?.slice(-2000));
    assert.equal(boot.read('var/lib/cloud/data/instance-id')?.trim(), 'i-0f1e2d3c4b5a69788');
    assert.equal(boot.read('etc/hostname')?.trim(), 'cp1', "the hostname comes from the user-data");
    const net = renderedNetwork(boot);
    assert.deepEqual(net.addresses, [], `cloud-init's fallback leaves the NIC to DHCP: ${JSON.stringify(net)}`);
    assert.ok(net.match.includes(cp1.mac!), 'the fallback config names the NIC by its MAC');
    assert.ok(boot.addresses.some((l) => l.includes(` inet ${cp1.ip}/24 `)), boot.addresses.join('\n'));
    assert.ok(firstLine(boot.calls, /^kubeadm init /) >= 0);
  });
  bootInSandbox(bootOf(cp1, { files: nocloudSeedFiles(seed), dhcp: { address: '10.20.0.99/24', router: plan.network.gateway } }), (boot) => {
    assert.equal(
      boot.read('var/lib/kubebake/status'),
      `failed: address: ${cp1.ip} (hosts[].ip in the topology) is on no interface; this host has: eth0 10.20.0.99/24 - attach its network-config, or give it that address on the platform\n`,
    );
    assert.ok(!boot.calls.some((c) => /^(kubeadm|apt-get) /.test(c)), `nothing ran after the address step:\n${boot.calls.join('\n')}`);
  });
});

test('NoCloud-net over HTTP: the kernel arguments of pxe/hosts.json exactly, kubebake serve on the seed address in the host\'s network; the first control plane boots to ok', { skip }, async () => {
  // cloud-init 22.4: the local stage finds no datasource (DataSourceNoCloud's cmdline id is
  // "ds=nocloud", which "ds=nocloud-net;…" is not: parse_cmdline_data) but applies network config
  // anyway (cmd/main.py main_init: apply_network_config when no local datasource is found), taken
  // from `network-config=` first (stages._find_networking_config: cmdline source first;
  // net/cmdline.py read_kernel_cmdline_config decodes its base64). `ip=` is read only with the klibc
  // files an initramfs's ipconfig leaves in /run (net/cmdline.py KlibcNetworkConfigSource.is_applicable):
  // none here, so network-config= alone sets the address. The network stage's DataSourceNoCloudNet
  // takes the seed URL from "ds=nocloud-net;s=URL" and fetches user-data, meta-data and vendor-data
  // (util.read_seeded; no network-config before 24.3). ds-identify finds NoCloud from "ds=nocloud*".
  await withTempDir(async (dir) => {
    const file = join(dir, 'metal.yaml');
    writeFileSync(file, readFileSync(repoPath('profiles', 'pxe.yaml'), 'utf8'));
    const out = join(dir, 'out');
    const r = runKubebake(['render', 'cloud-init', '-f', file, '-o', out, '--delivery', 'pxe']);
    assert.equal(r.status, 0, r.stderr);
    const pxePlan = await renderPlan(profile('pxe'));
    const index = JSON.parse(readFileSync(join(out, 'metal', 'pxe', 'hosts.json'), 'utf8')) as PxeIndex;
    const args = index.hosts.cp1!.kernelArgs;
    const server = new URL(pxePlan.delivery.server!);
    assert.ok(args.some((a) => a.startsWith('network-config=')) && args.some((a) => a.startsWith('ip=')), args.join(' '));
    const cp1 = node('cp1', pxePlan);
    const serve = `exec ${process.execPath} ${repoPath('bin', 'kubebake.js')} serve -f ${file} -o ${out} --listen ${server.hostname}:${server.port}\n`;
    bootInSandbox(bootOf(cp1, { cmdline: [PLAIN_CMDLINE, ...args].join(' '), http: { address: server.hostname, port: Number(server.port), command: serve } }, {}, pxePlan), (boot) => {
      assertUp(boot, cp1, pxePlan, 'init');
      assert.equal(dsList(boot), '[ NoCloud, None ]');
      assert.match(datasource(boot), new RegExp(`^DataSourceNoCloudNet \\[seed=cmdline,${pxePlan.delivery.server}/nocloud/cp1/\\]`));
      // The network came from the command line: cloud-init 22.4 fetched no network-config.
      assert.match(boot.read('var/log/cloud-init.log') ?? '', /Applying network configuration from cmdline /);
      for (const f of ['user-data', 'meta-data', 'vendor-data']) assert.match(boot.serverOutput, new RegExp(`cp1: fetched ${f}\\b`), boot.serverOutput);
      assert.doesNotMatch(boot.serverOutput, /cp1: fetched network-config/);
    });
  });
});

test("Ubuntu's installed system after autoinstall: the files subiquity writes from pxe/autoinstall/cp1.yaml (datasource None, netplan, cloud-init's network off) boot the first control plane to ok", { skip: skip ?? missingTools('netplan') }, async () => {
  const ubuntu = await renderPxeTree(pxeVariant('ubuntu-24.04', 'http://10.30.0.5:8080'));
  const files = subiquityInstalledFiles(ubuntu.pxe('autoinstall/cp1.yaml').toString('utf8'), '24.04');
    const cp1 = node('cp1', ubuntu.plan);
    // The locale the installer configured exists on the installed system (Ubuntu's locale-gen
    // generates the locale it is given; Debian's, which this sandbox has, reads /etc/locale.gen).
    bootInSandbox(bootOf(cp1, { files }, { netplan: true, image: { '/etc/locale.gen': 'en_US.UTF-8 UTF-8\n' } }, ubuntu.plan), (boot) => {
      assertUp(boot, cp1, ubuntu.plan, 'init');
      // ds-identify with "policy: enabled" only enables cloud-init; the configured list ([None]) stands.
      assert.equal(boot.read('run/cloud-init/cloud.cfg'), undefined);
      assert.match(boot.read('run/cloud-init/ds-identify.log') ?? '', /^DSLIST=None$/m);
      assert.match(datasource(boot), /^DataSourceNone/);
      // The None datasource's instance id is fixed (cloud-init 22.4 sources/DataSourceNone.py get_instance_id).
      assert.equal(boot.read('var/lib/cloud/data/instance-id')?.trim(), 'iid-datasource-none');
      assert.equal(renderedNetwork(boot).renderer, 'netplan');
      assert.ok(boot.list('run/systemd/network').includes('10-netplan-primary.network'), 'netplan rendered the installer\'s file');
      assert.equal(boot.read('etc/netplan/50-cloud-init.yaml'), undefined, "cloud-init's network was off");
      // Later boots run no cloud-init (subiquity's deferred write_files entry); kubebake's unit still starts.
      assert.match(boot.read('etc/cloud/cloud-init.disabled') ?? '', /Disabled by Ubuntu live installer/);
    });
});

test("the Debian preseed's installed system: its late_command, run against the machine's root with wget from the server, installs the seed; the first boot runs it to ok", { skip: skip ?? missingTools('wget') }, async () => {
  // The Debian installer runs preseed/late_command in its own environment with the new system at
  // /target (debian-installer preseed: "d-i preseed/late_command string …", B.5.1 of the installation
  // guide); here /target is a folder that becomes the machine's files. A local server stands in for kubebake serve.
  const served = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const debian = await renderPxeTree(pxeVariant('debian-12', `http://127.0.0.1:${port}`));
    for (const f of ['user-data', 'meta-data', 'network-config', 'vendor-data']) served.set(`/nocloud/cp1/${f}`, debian.pxe(`nocloud/cp1/${f}`));
    const preseed = debian.pxe('preseed/cp1.cfg').toString('utf8');
    const late = /^d-i preseed\/late_command string (.*)$/m.exec(preseed)?.[1];
    assert.ok(late, 'the preseed has a late command');
    await withTempDir(async (target) => {
      mkdirSync(join(target, 'etc/network'), { recursive: true });
      await promisify(execFile)('sh', ['-c', late.replaceAll('/target/', `${target}/`)]);
      const files: Platform['files'] = {};
      for (const e of readdirSync(target, { recursive: true, withFileTypes: true })) {
        if (!e.isFile()) continue;
        const path = join(e.parentPath, e.name);
        files[path.slice(target.length)] = { content: readFileSync(path), mode: statSync(path).mode & 0o7777 };
      }
      assert.deepEqual(Object.keys(files).sort(), ['/etc/network/interfaces', '/var/lib/cloud/seed/nocloud/meta-data', '/var/lib/cloud/seed/nocloud/network-config', '/var/lib/cloud/seed/nocloud/user-data']);
      const cp1 = node('cp1', debian.plan);
      bootInSandbox(bootOf(cp1, { files }, {}, debian.plan), (boot) => {
        assertUp(boot, cp1, debian.plan, 'init');
        assert.match(datasource(boot), /^DataSourceNoCloud \[seed=\/var\/lib\/cloud\/seed\/nocloud\]/);
      });
    });
  } finally {
    server.close();
  }
});
