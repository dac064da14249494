// tar bundles and hypervisor recipes, checked with the tools that consume them: GNU tar, the
// VMware datasource of the installed cloud-init (its own decode and metadata processing),
// shellcheck, and each script run against recording stand-ins for govc, qm/pvesm and
// virt-install (stand-ins: they record arguments and answer as the real tools' outputs look).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { DELIVERY_FORMS, formsFor } from '../../src/render/delivery/forms.js';
import { DELIVERY_EPOCH, seedsFromTree, type HostSeed } from '../../src/render/delivery/seeds.js';
import { tarChunks, type TarEntry } from '../../src/render/delivery/tar.js';
import type { RenderPlan } from '../../src/plan/plan.js';
import { HeldTree, renderProfile } from '../helpers/cluster.js';
import { withTempDir } from '../helpers/tmp.js';
import { run, shellcheck } from '../helpers/tools.js';

async function render(name: string): Promise<{ plan: RenderPlan; seeds: HostSeed[]; tree: HeldTree }> {
  const r = await renderProfile(name);
  const seeds = seedsFromTree(r.plan, r.tree);
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

test('vSphere: cloud-init\'s VMware datasource decodes the .vmx values to the rendered files; govc gets the same', async () => {
  const { seeds, tree } = await render('ubuntu-26-04-ha');
  await withTempDir((dir) => {
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

      // The govc script passes exactly these key=value pairs (a stand-in govc records them).
      const bin = join(dir, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'govc'), '#!/bin/sh\nprintf "%s\\n" "$@" > "$GOVC_ARGS"\n');
      chmodSync(join(bin, 'govc'), 0o755);
      const script = join(dir, `${s.host}.govc.sh`);
      writeFileSync(script, text(tree, `vsphere/${s.host}.govc.sh`));
      const args = join(dir, `${s.host}.args`);
      const g = run('bash', [script, `vm-${s.host}`], { env: { PATH: `${bin}:/usr/bin:/bin`, GOVC_ARGS: args } });
      assert.equal(g.status, 0, g.stderr);
      const passed = readFileSync(args, 'utf8').trim().split('\n');
      assert.deepEqual(passed.slice(0, 3), ['vm.change', '-vm', `vm-${s.host}`]);
      assert.deepEqual(passed.slice(3).filter((a) => a !== '-e'), Object.entries(values).map(([k, v]) => `${k}=${v}`));
    }
  });
});

test('Proxmox: the qm script copies the snippets 0600 onto the storage, adds a CloudInit drive, sets cicustom and the MAC', async () => {
  const { plan, seeds, tree } = await render('default');
  await withTempDir((dir) => {
    // The folder as the operator copies it to the Proxmox node.
    const proxmox = join(dir, 'proxmox');
    for (const f of tree.files().filter((f) => f.path.startsWith('proxmox/'))) {
      mkdirSync(join(dir, f.path, '..'), { recursive: true });
      writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
    }
    const storage = join(dir, 'var-lib-vz', 'snippets');
    mkdirSync(storage, { recursive: true });
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    // pvesm path STORAGE:snippets/FILE prints the file's path on that storage; qm config prints a
    // VM with a net0 and no CloudInit drive, as a fresh VM from a template has.
    writeFileSync(join(bin, 'pvesm'), `#!/bin/sh\necho "pvesm $*" >> "$CALLS"\n[ "$1" = path ] && echo "${storage}/\${2#*:snippets/}"\n`);
    writeFileSync(join(bin, 'qm'), `#!/bin/sh\necho "qm $*" >> "$CALLS"\n[ "$1" = config ] && printf 'boot: order=scsi0\\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\\nscsi0: local-lvm:vm-9001-disk-0\\n'\nexit 0\n`);
    for (const t of ['pvesm', 'qm']) chmodSync(join(bin, t), 0o755);
    for (const s of seeds) {
      const node = plan.nodes.find((n) => n.name === s.host)!;
      const calls = join(dir, `${s.host}.calls`);
      const r = run('bash', [join(proxmox, `${s.host}.qm.sh`), '9001'], { env: { PATH: `${bin}:/usr/bin:/bin`, CALLS: calls } });
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
      assert.ok(log.includes(`qm set 9001 --net0 virtio=${node.mac},bridge=vmbr0,firewall=1\n`), log);
    }
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
