// Real machines: a Debian 12 disk built from Debian's packages (test/helpers/vm.ts), booted by
// QEMU with a rendered host's seed.iso as its CD-ROM and nothing else — the Linux kernel reads
// our ISO, cloud-init (Debian's 22.4.2) finds it by its cidata label and applies it. Two network
// stacks: ifupdown (what the Debian installer gives bare metal) and netplan + systemd-networkd
// (what cloud images use). Hosts (HOSTS): the first control plane, a worker and a load balancer of
// the debian-12 profile on netplan, its first control plane on ifupdown; and the first control
// plane of the debian-13 profile on a Debian 13 disk (cloud-init 25.1, netplan + networkd, as
// trixie's cloud images). Everything is asserted from what the guest wrote to its own disk, read back
// with debugfs after it powered off. The guest's NIC is on QEMU's user network with restrict=on:
// no packages are reachable, so kubebake's first boot must stop and say why. Two more delivery
// paths boot on the netplan disk in the same pool (PathBoot below): user-data only, on the
// platform's DHCP, and Ubuntu's installed system after autoinstall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { mapLimit } from '../../src/util/map-limit.js';
import type { NodePlan, RenderPlan } from '../../src/plan/plan.js';
import { pxeVariant, renderPxeTree, subiquityInstalledFiles } from '../helpers/installers.js';
import { HeldTree, renderProfile } from '../helpers/cluster.js';
import { withTempDir } from '../helpers/tmp.js';
import { bootVm, debianDisk, vmUnavailable, writeGuestFile, type DebianDisk, type NetworkStack, type VmBoot, type VmOptions } from '../helpers/vm.js';

const skip = vmUnavailable();
const STACKS: NetworkStack[] = ['ifupdown', 'netplan'];
/**
 * Which hosts boot on which stack. Their network-configs differ only in MAC and address, and
 * their first boots stop at the same package step: each role boots once (netplan, what cloud
 * images use), and ifupdown (the installer's bare metal) with the first control plane.
 */
const HOSTS: Record<NetworkStack, string[]> = { ifupdown: ['cp1'], netplan: ['cp1', 'worker1', 'lb1'] };
/** Software emulation on a shared 2-core machine: a boot takes 2-4 minutes; kill QEMU after 12. */
const BOOT_TIMEOUT_MS = 12 * 60_000;

/** A profile rendered with its hosts' seeds and ISOs. */
async function rendered(name: string) {
  const { plan, seeds } = await renderProfile(name);
  return { plan, seeds, delivery: await HeldTree.of(renderDeliveryTree(plan, seeds, { forms: ['iso'] })) };
}
type Cluster = Awaited<ReturnType<typeof rendered>>;

const BOOKWORM = await rendered('debian-12-cilium');
const { plan, delivery } = BOOKWORM;

interface Booted { stack: NetworkStack; node: NodePlan; boot: VmBoot; reboot?: VmBoot; cluster?: Cluster }
/** A host booted from its seed.iso on a disk of the stack. */
interface IsoRun { stack: NetworkStack; node: NodePlan; disk: DebianDisk; cluster: Cluster }

/**
 * Two more delivery paths on the netplan disk (test/e2e/delivery-paths.test.ts boots each in the
 * sandbox; these boot them under real systemd): a host given only its user-data, as from a
 * platform's single user-data box, whose network is the platform's (QEMU's DHCP hands it its
 * topology address as a reservation would: the first lease, dhcpstart); and Ubuntu's installed
 * system after autoinstall: the files subiquity writes (datasource None, its netplan file,
 * cloud-init's network off) on the disk, no seed at all, from pxe/autoinstall/cp1.yaml of an
 * Ubuntu variant of profiles/pxe.yaml.
 */
interface PathBoot { path: 'user-data only' | 'autoinstall'; node: NodePlan; plan: RenderPlan; userData: string; instanceId: string; dhcp: boolean; boot?: VmBoot }

/** A platform's meta-data for a VM made from a user-data box: its own instance id, nothing else. */
const PLATFORM_INSTANCE = 'i-0f1e2d3c4b5a69788';

/** QEMU's user network standing in for the platform's: the topology's subnet, its gateway, its first DNS, and the host's address as the first lease. */
const platformNet = (p: RenderPlan, n: NodePlan): NonNullable<VmOptions['network']> =>
  ({ net: p.network.nodeSubnet, host: p.network.gateway, dhcpstart: n.ip, dns: p.network.dns[0]! });

async function pathBoots(dir: string, disk: DebianDisk): Promise<{ runs: PathBoot[]; start: (r: PathBoot) => Promise<VmBoot> }> {
  const worker = plan.nodes.find((n) => n.name === 'worker1')!;
  const userData = BOOKWORM.seeds.find((x) => x.host === worker.name)!.userData;
  // The ISO a platform builds from its user-data box (virt-install's way: xorrisofs -J -rational-rock -V cidata).
  mkdirSync(join(dir, 'box'));
  writeFileSync(join(dir, 'box', 'user-data'), userData);
  writeFileSync(join(dir, 'box', 'meta-data'), `instance-id: ${PLATFORM_INSTANCE}\n`);
  const x = spawnSync('xorrisofs', ['-o', join(dir, 'box.iso'), '-J', '-input-charset', 'utf8', '-rational-rock', '-V', 'cidata', join(dir, 'box')], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  const ubuntu = await renderPxeTree(pxeVariant('ubuntu-24.04', 'http://10.30.0.5:8080'));
  const autoinstall = ubuntu.pxe('autoinstall/cp1.yaml').toString('utf8');
  const files = subiquityInstalledFiles(autoinstall, '24.04');
  const cp1 = ubuntu.plan.nodes.find((n) => n.name === 'cp1')!;
  const runs: PathBoot[] = [
    { path: 'user-data only', node: worker, plan, userData, instanceId: PLATFORM_INSTANCE, dhcp: true },
    // The autoinstall's user-data is the host's own (src/render/delivery/pxe/autoinstall.ts), also served as its HTTP seed's.
    // The None datasource's instance id is fixed, whatever its metadata says (cloud-init 22.4
    // sources/DataSourceNone.py get_instance_id); the metadata subiquity wrote is still its metadata.
    { path: 'autoinstall', node: cp1, plan: ubuntu.plan, userData: ubuntu.pxe('nocloud/cp1/user-data').toString('utf8'), instanceId: 'iid-datasource-none', dhcp: false },
  ];
  const start = (r: PathBoot): Promise<VmBoot> =>
    bootVm({
      disk,
      mac: r.node.mac!,
      network: platformNet(r.plan, r.node),
      timeoutMs: BOOT_TIMEOUT_MS,
      ...(r.path === 'user-data only' ? { seedIso: join(dir, 'box.iso') } : { files }),
    });
  return { runs, start };
}

/** What vm-boot checks of every boot, for a path that hands the host no seed ISO of kubebake's. */
function assertPathBoot(r: PathBoot): void {
  const boot = r.boot!;
  const where = `${r.path}/${r.node.name}`;
  const tail = `\n--- console (last 3000 characters) ---\n${boot.console.slice(-3000)}`;
  assert.ok(!boot.timedOut, `${where}: QEMU killed${tail}`);
  assert.equal(boot.read('/var/log/kubebake-test/done')?.trim(), 'done', `${where}: the probe did not finish${tail}`);
  assert.equal(boot.read('/var/lib/cloud/data/instance-id')?.trim(), r.instanceId, where);
  assert.equal(boot.read('/var/log/kubebake-test/hostname')?.trim(), r.node.name, where);
  assertCloudInitStages(boot, where);
  const nic = nicWithMac(boot, r.node.mac!, where);
  const addrs = boot.read('/var/log/kubebake-test/ip-addr') ?? '';
  // A DHCP lease is "dynamic"; a static address is not.
  assert.match(addrs, new RegExp(`^\\d+: ${nic}\\s+inet ${r.node.ip.replace(/\./g, '\\.')}/24 .*${r.dhcp ? 'dynamic' : ''}`, 'm'), `${where}: address\n${addrs}`);
  const routes = boot.read('/var/log/kubebake-test/ip-route') ?? '';
  if (r.dhcp) {
    // QEMU's DHCP under restrict=on sends neither a router nor a DNS server (libslirp src/bootp.c:
    // RFC1533_GATEWAY and RFC1533_DNS only when !slirp->restricted): the lease is the address alone.
    assert.match(routes, new RegExp(`^${r.plan.network.nodeSubnet.replace(/\./g, '\\.')} dev ${nic} `, 'm'), `${where}: subnet route\n${routes}`);
    assert.doesNotMatch(routes, /^default /m, `${where}: a default route without a router in the lease?\n${routes}`);
  } else {
    assert.match(routes, new RegExp(`^default via ${r.plan.network.gateway.replace(/\./g, '\\.')} dev ${nic}\\b`, 'm'), `${where}: default route\n${routes}`);
  }
  const userData = parse(r.userData, { version: '1.1' }) as { write_files: { path: string; content: string }[] };
  for (const path of ['/usr/local/lib/kubebake/firstboot.sh', '/usr/local/lib/kubebake/address.sh']) {
    assert.equal(boot.read(path), userData.write_files.find((f) => f.path === path)!.content, `${where}: ${path} from the user-data`);
  }
  // Under real systemd, kubebake's first boot got past the address step to the package step.
  const journal = boot.read('/var/log/kubebake-test/journal') ?? '';
  assert.match(journal, /systemd\[1\]: Starting kubebake-firstboot\.service/, `${where}: systemd did not start the unit`);
  assert.match(boot.read('/var/lib/kubebake/steps-done') ?? '', /^address\n/, `${where}: the address step did not pass`);
  assert.match(boot.read('/var/lib/kubebake/status') ?? '', /^failed: base: apt-get update failed: /, `${where}: ${boot.read('/var/log/kubebake/firstboot.log')?.slice(-2000)}`);
}

/** The host booted a second time from its own disk: a reboot in the middle of its first boot. */
const REBOOTED = { stack: 'netplan' as NetworkStack, host: 'worker1' };
const isRebooted = (b: { stack: NetworkStack; node: NodePlan; cluster?: Cluster }): boolean =>
  b.stack === REBOOTED.stack && b.node.name === REBOOTED.host && (b.cluster ?? BOOKWORM) === BOOKWORM;

/**
 * After a reboot, systemd (not cloud-init: runcmd is once per instance) starts kubebake's first
 * boot again, which resumes with the step that did not finish: the resolver step ran once, the
 * failed base step twice, the second time in this boot.
 */
function assertResumed({ stack, node, reboot }: Booted): void {
  const where = `${stack}/${node.name} after a reboot`;
  assert.ok(reboot, where);
  const tail = `\n--- console (last 3000 characters) ---\n${reboot.console.slice(-3000)}`;
  assert.ok(!reboot.timedOut, `${where}: QEMU killed${tail}`);
  assert.equal(reboot.read('/var/log/kubebake-test/done')?.trim(), 'done', `${where}: the probe did not finish${tail}`);
  const journal = reboot.read('/var/log/kubebake-test/journal') ?? '';
  assert.match(journal, /systemd\[1\]: Starting kubebake-firstboot\.service/, `${where}: systemd did not start the unit at boot`);
  const log = reboot.read('/var/log/kubebake/firstboot.log') ?? '';
  const runs = (step: string): number => log.split('\n').filter((l) => l.startsWith(`=== ${step} `)).length;
  assert.equal(runs('resolver'), 1, `${where}: a finished step ran again:\n${log.slice(-2000)}`);
  assert.equal(runs('base'), 2, `${where}: the unfinished step did not run again:\n${log.slice(-2000)}`);
  assert.match(reboot.read('/var/lib/kubebake/status') ?? '', /^failed: base: apt-get update failed/, where);
}

/** cloud-init's per-stage record: /var/lib/cloud/data/status.json. */
type Status = { v1: Record<string, { errors?: string[] } | string | null> };

/** Every stage ran, and none but the final one (where runcmd starts kubebake's first boot) recorded an error. */
function assertCloudInitStages(boot: VmBoot, where: string): void {
  const status = JSON.parse(boot.read('/var/lib/cloud/data/status.json') ?? '{}') as Status;
  for (const stage of ['init-local', 'init', 'modules-config']) {
    const s = status.v1[stage];
    assert.ok(s && typeof s === 'object', `${where}: stage ${stage} did not run`);
    assert.deepEqual(s.errors, [], `${where}: ${stage} errors`);
  }
  const final = status.v1['modules-final'];
  assert.ok(final && typeof final === 'object', `${where}: the final stage did not run`);
  for (const e of final.errors ?? []) assert.match(e, /scripts[-_]user|runcmd/, `${where}: unexpected final-stage error`);
}

/** The name of the guest's NIC with this MAC, as its probe recorded `ip link`. */
function nicWithMac(boot: VmBoot, mac: string, where: string): string {
  const links = boot.read('/var/log/kubebake-test/ip-link') ?? '';
  const nic = new RegExp(`^\\d+: (\\S+): .* link/ether ${mac} `, 'm').exec(links)?.[1];
  assert.ok(nic, `${where}: no NIC with MAC ${mac}:\n${links}`);
  return nic;
}

/** The DNS servers the guest's resolver uses. */
function assertDns({ stack, node, boot, cluster: { plan } = BOOKWORM }: Booted): void {
  const resolver = stack === 'netplan' ? boot.read('/var/log/kubebake-test/resolvectl-dns') ?? '' : boot.read('/var/log/kubebake-test/resolv.conf') ?? '';
  for (const dns of plan.network.dns) assert.ok(resolver.includes(dns), `${stack}/${node.name}: DNS server ${dns} not in use:\n${resolver}`);
}

function assertBoot({ stack, node, boot, cluster: { plan, seeds } = BOOKWORM }: Booted): void {
  const where = `${stack}/${node.name}`;
  const tail = `\n--- console (last 3000 characters) ---\n${boot.console.slice(-3000)}`;
  assert.ok(!boot.timedOut, `${where}: QEMU killed after ${BOOT_TIMEOUT_MS / 1000} s${tail}`);
  assert.equal(boot.read('/var/log/kubebake-test/done')?.trim(), 'done', `${where}: the guest's probe did not finish${tail}`);

  // The seed came from our ISO: cloud-init's instance is the meta-data's instance-id, and the
  // hostname is the host's.
  const meta = parse(seeds.find((s) => s.host === node.name)!.metaData) as Record<string, string>;
  assert.equal(boot.read('/var/lib/cloud/data/instance-id')?.trim(), meta['instance-id'], where);
  assert.equal(boot.read('/var/log/kubebake-test/hostname')?.trim(), node.name, where);
  assert.equal(boot.read('/etc/hostname')?.trim(), node.name, where);

  // cloud-init finished, and no stage but the final one (where runcmd starts kubebake's first
  // boot, which cannot succeed without packages) recorded an error.
  assert.match(boot.read('/var/log/kubebake-test/cloud-init-status') ?? '', /status: (done|error)/, where);
  assertCloudInitStages(boot, where);
  // Every OS kubebake supports boots with cgroup v2 (src/topology/facts/os-facts.ts): kubelet ≥ 1.35 needs it.
  assert.equal(boot.read('/var/log/kubebake-test/cgroup-fs')?.trim(), 'cgroup2fs', `${where}: cgroup hierarchy`);

  // The network: the static address on the NIC with the host's MAC, the default route via the
  // gateway, the DNS servers.
  const nic = nicWithMac(boot, node.mac!, where);
  const addrs = boot.read('/var/log/kubebake-test/ip-addr') ?? '';
  assert.match(addrs, new RegExp(`^\\d+: ${nic}\\s+inet ${node.ip.replace(/\./g, '\\.')}/24 `, 'm'), `${where}: address\n${addrs}`);
  const routes = boot.read('/var/log/kubebake-test/ip-route') ?? '';
  assert.match(routes, new RegExp(`^default via ${plan.network.gateway.replace(/\./g, '\\.')} dev ${nic}\\b`, 'm'), `${where}: default route\n${routes}`);
  if (stack === 'ifupdown') {
    // What cloud-init hands ifupdown; whether anything applies it is checked in assertDns.
    const eni = boot.read('/etc/network/interfaces.d/50-cloud-init') ?? '';
    assert.match(eni, new RegExp(`^    dns-nameservers ${plan.network.dns.join(' ').replace(/\./g, '\\.')}$`, 'm'), `${where}:\n${eni}`);
  }

  // kubebake's runtime came with the ISO's user-data: the runner and a step, byte for byte.
  const userData = parse(seeds.find((s) => s.host === node.name)!.userData, { version: '1.1' }) as { write_files: { path: string; content: string }[] };
  for (const path of ['/usr/local/lib/kubebake/firstboot.sh', '/usr/local/lib/kubebake/base.sh']) {
    assert.equal(boot.read(path), userData.write_files.find((f) => f.path === path)!.content, `${where}: ${path} from user-data`);
  }

  // kubebake's first boot ran and says why it stopped: nothing to install from.
  const kb = boot.read('/var/lib/kubebake/status') ?? '';
  // Nothing is reachable from the test VM: the status names the cause an operator can act on.
  assert.match(kb, /^failed: base: apt-get update failed: (DNS failure: cannot resolve|mirror unreachable: )/, `${where}: status ${JSON.stringify(kb)}\n${boot.read('/var/log/kubebake/firstboot.log')?.slice(-2000)}`);
}

test('VM boots: Debian 12 (ifupdown; netplan + networkd) and Debian 13 (netplan + networkd), from each host\'s seed.iso; the user-data-only and autoinstall paths', { skip, timeout: 60 * 60_000 }, async (t) => {
  const disks: Partial<Record<NetworkStack, DebianDisk>> = {};
  for (const s of STACKS) disks[s] = await debianDisk(s);
  const trixieDisk = await debianDisk('netplan', 'trixie');
  for (const d of [...Object.values(disks), trixieDisk]) if (d.buildSeconds !== undefined) t.diagnostic(`built the ${d.release} ${d.stack} disk in ${d.buildSeconds} s`);
  const trixie = await rendered('debian-13');
  await withTempDir(async (dir) => {
    const iso = (cluster: Cluster, name: string): string => {
      const path = join(dir, `${cluster === trixie ? 'trixie-' : ''}${name}.iso`);
      writeFileSync(path, cluster.delivery.get(`hosts/${name}/seed.iso`)!.content);
      return path;
    };
    const runs: IsoRun[] = [
      ...STACKS.flatMap((stack) => HOSTS[stack].map((h) => ({ stack, node: plan.nodes.find((n) => n.name === h)!, disk: disks[stack]!, cluster: BOOKWORM }))),
      { stack: 'netplan', node: trixie.plan.nodes.find((n) => n.name === 'cp1')!, disk: trixieDisk, cluster: trixie },
    ];
    const paths = await pathBoots(dir, disks.netplan!);
    // One pool, two at a time (one per core), over every boot of this file, the reboot (the
    // longest) first, so that no core idles while the other finishes a separate test's boot.
    type Job = { iso: IsoRun } | { path: PathBoot };
    const jobs: Job[] = [...runs].sort((a) => (isRebooted(a) ? -1 : 0)).map((r) => ({ iso: r }));
    jobs.push(...paths.runs.map((r) => ({ path: r })));
    const done = await mapLimit(jobs, 2, async (job): Promise<Booted | PathBoot> => {
      if ('path' in job) return { ...job.path, boot: await paths.start(job.path) };
      const { stack, node, disk, cluster } = job.iso;
      const opts = { disk, seedIso: iso(cluster, node.name), mac: node.mac!, timeoutMs: BOOT_TIMEOUT_MS };
      const boot = await bootVm(opts);
      if (!isRebooted(job.iso) || boot.timedOut) return { stack, node, boot, cluster };
      // Test equipment: at the second boot the probe records what the first-boot unit did, so it waits for it.
      writeGuestFile(boot.diskPath, '/etc/systemd/system/kubebake-test-probe.service.d/after-firstboot.conf', '[Unit]\nAfter=kubebake-firstboot.service\n');
      return { stack, node, boot, cluster, reboot: await bootVm({ ...opts, again: boot }) };
    });
    const booted = done.filter((b): b is Booted => 'stack' in b);
    const pathBooted = done.filter((b): b is PathBoot => 'path' in b);
    try {
      for (const b of booted) {
        const where = `${b.cluster === trixie ? 'trixie/' : ''}${b.stack}/${b.node.name}`;
        t.diagnostic(`${where}: ${b.boot.seconds} s to power-off`);
        await t.test(`${where} (${b.node.role}) comes up with its address on the MAC-matched NIC and a default route; first boot says why it stopped`, () => assertBoot(b));
        // ifupdown applies dns-nameservers only through the resolvconf package, which neither
        // the Debian installer nor ifupdown installs: the first boot's resolver step writes them.
        await t.test(`${where} resolves with the topology's DNS servers`, () => assertDns(b));
        if (b.cluster === trixie) {
          // The guest is what the profile says: Debian 13's cloud-init (os-facts: 25.1.4).
          await t.test(`${where} runs Debian 13's cloud-init 25.1.4`, () =>
            assert.match(b.boot.read('/usr/lib/python3/dist-packages/cloudinit/version.py') ?? '', /__VERSION__ = "25\.1\.4"/));
        }
        if (isRebooted(b)) {
          if (b.reboot) t.diagnostic(`${where} again: ${b.reboot.seconds} s to power-off`);
          await t.test(`${where} rebooted: systemd starts the first boot again, which resumes at the step that did not finish`, () => assertResumed(b));
        }
      }
      for (const r of pathBooted) {
        t.diagnostic(`${r.path}/${r.node.name}: ${r.boot!.seconds} s to power-off`);
        await t.test(`${r.path}: ${r.node.name} comes up on the platform's network with its topology address, runs its user-data's runtime under systemd, and first boot gets past the address step`, () => assertPathBoot(r));
      }
    } finally {
      for (const b of booted) {
        b.reboot?.dispose();
        b.boot.dispose();
      }
      for (const r of pathBooted) r.boot!.dispose();
    }
  });
});

test('a guest that does not stop in time is killed at the bound, and no QEMU is left behind', { skip, timeout: 10 * 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const iso = join(dir, 'cp1.iso');
    writeFileSync(iso, delivery.get('hosts/cp1/seed.iso')!.content);
    const boot = await bootVm({ disk: await debianDisk('netplan'), seedIso: iso, mac: plan.nodes[0]!.mac!, timeoutMs: 8_000 });
    try {
      assert.equal(boot.timedOut, true);
      assert.ok(boot.seconds < 30, `${boot.seconds} s`);
      // This boot's own disk copy names its QEMU: other tests may boot guests with the same MAC.
      const left = spawnSync('pgrep', ['-f', `file=${boot.diskPath},`], { encoding: 'utf8' });
      assert.equal(left.stdout.trim(), '', 'QEMU still running');
    } finally {
      boot.dispose();
    }
  });
});
