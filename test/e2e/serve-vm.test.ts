// A real machine fetches its seed over HTTP from `kubebake serve` and reports its first boot.
// The Debian 12 disk of test/helpers/vm.ts (ifupdown, as the Debian installer leaves bare metal)
// boots with no seed CD: only the kernel arguments the PXE tree gives the host (hosts.json:
// network-config=… for the static address, ds=nocloud-net;s=http://…/ for the seed; Debian's
// cloud-init is 22.4). The guest's NIC is on QEMU's user network with restrict=on; its one way
// out is a guestfwd from the delivery.server address to the server, which runs in a network
// namespace of its own where each guest connection arrives from the guest's address, as on a real
// network (serve hands a host's secret seed files to that host's address only).
// What the server recorded is compared with what the guest wrote to its own disk.
// Second, a PXE boot: the NIC's iPXE ROM (Debian's ipxe-qemu) gets boot.ipxe from QEMU's DHCP,
// chains to the host's per-MAC script and, the host being armed, loads the kernel and initrd from
// the server; once its installer fetched its config, the next network boot loads nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKubebake } from '../helpers/cli.js';
import { netnsUnavailable, serveInNamespace, statusOf, type NamespacedServe } from '../helpers/serve-netns.js';
import { withTempDir } from '../helpers/tmp.js';
import { bootVm, debianDisk, vmUnavailable, type VmBoot } from '../helpers/vm.js';
import type { ClusterStatus } from '../../src/serve/state.js';

const skip = vmUnavailable() ?? netnsUnavailable();
const BOOT_TIMEOUT_MS = 12 * 60_000;
/** QEMU's user network is 10.0.2.0/24 (gateway .2, DNS .3); the server sits at .100 for the guest. */
const SERVER_ADDR = '10.0.2.100';
/** serve's default listen address is delivery.server's: port 80 of SERVER_ADDR. */
const SERVER_URL = `http://${SERVER_ADDR}/`;
const WORKER = { name: 'worker1', ip: '10.0.2.15', mac: '52:54:00:00:02:15' };

const TOPOLOGY = `apiVersion: kubebake/v1alpha1
kind: Cluster
name: vmlab
kubernetes: { version: "1.37.2" }
os: debian-12
cni: { plugin: calico }
network:
  nodeSubnet: 10.0.2.0/24
  gateway: 10.0.2.2
  dns: [10.0.2.3]
  searchDomain: lab.example
apiEndpoint: { loadBalancer: lb1, port: 6443 }
hosts:
  - { name: cp1, role: control-plane, ip: 10.0.2.11, mac: "52:54:00:00:02:11" }
  - { name: ${WORKER.name}, role: worker, ip: ${WORKER.ip}, mac: "${WORKER.mac}" }
  - { name: lb1, role: load-balancer, ip: 10.0.2.10, mac: "52:54:00:00:02:10" }
access:
  adminUser: kubeadmin
  sshAuthorizedKeys:
    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKubebakeExampleKeyReplaceMeWithYours0000 operator@example
delivery:
  server: http://${SERVER_ADDR}
`;

/** The lab cluster rendered with its PXE tree under `dir`. */
function renderLab(dir: string): { file: string; out: string } {
  const file = join(dir, 'vmlab.yaml');
  writeFileSync(file, TOPOLOGY);
  const out = join(dir, 'out');
  const r = runKubebake(['render', 'cloud-init', '-f', file, '-o', out, '--delivery', 'pxe']);
  assert.equal(r.status, 0, r.stderr);
  return { file, out };
}

/** serve of the lab in its namespace, where the server and the worker have their addresses. */
const serveLab = (dir: string, file: string, out: string): Promise<NamespacedServe> => serveInNamespace(dir, { file, out, addresses: [SERVER_ADDR, WORKER.ip] });

/** QEMU's guestfwd: each connection of the guest to the server address, relayed from the worker's address. */
function forward(server: NamespacedServe): { addr: string; port: number; command: string } {
  return { addr: SERVER_ADDR, port: 80, command: server.relayCommand(WORKER.ip, SERVER_ADDR, 80) };
}

/** Why the PXE boot cannot run here: QEMU's iPXE ROM for virtio-net comes with Debian's ipxe-qemu (CI installs it). */
function noIpxeRom(): string | undefined {
  if (skip || existsSync('/usr/lib/ipxe/qemu/efi-virtio.rom')) return skip;
  const why = "QEMU's iPXE ROM /usr/lib/ipxe/qemu/efi-virtio.rom is not installed (apt-get install ipxe-qemu)";
  if (/^(true|1)$/i.test(process.env.CI ?? '')) throw new Error(`${why}: under CI every tool must be installed (.ci/run installs them)`);
  return why;
}

test('PXE: the iPXE ROM chains boot.ipxe → ipxe/<mac>.ipxe and loads the kernel and initrd from kubebake serve', { skip: noIpxeRom(), timeout: 15 * 60_000 }, async (t) => {
  const disk = await debianDisk('ifupdown');
  await withTempDir(async (dir) => {
    const { file, out } = renderLab(dir);
    // Where the operator puts the netboot installer; this test's Debian kernel and initrd stand in.
    const boot = join(out, 'vmlab', 'pxe', 'boot', 'debian-12');
    mkdirSync(boot, { recursive: true });
    copyFileSync(disk.kernel, join(boot, 'linux'));
    copyFileSync(disk.initrd, join(boot, 'initrd'));
    const server = await serveLab(dir, file, out);
    const stop = new AbortController();
    const initrd = `served boot/debian-12/initrd (${statSync(join(boot, 'initrd')).size} bytes)`;
    const watch = setInterval(() => server.output().includes(initrd) && stop.abort(), 1000);
    /** A network boot of the worker's machine through its NIC's iPXE ROM. */
    const pxeBoot = (timeoutMs: number, signal: AbortSignal): Promise<VmBoot> =>
      bootVm({
        disk,
        mac: WORKER.mac,
        pxe: { bootfile: `http://${SERVER_ADDR}/boot.ipxe` },
        guestfwd: forward(server),
        timeoutMs,
        signal,
      });
    try {
      const vm = await pxeBoot(10 * 60_000, stop.signal);
      vm.dispose();
      t.diagnostic(`${vm.seconds} s from power-on to the initrd served`);
      const log = server.output();
      for (const line of log.trimEnd().split('\n')) t.diagnostic(`serve: ${line}`);
      assert.ok(!vm.timedOut, 'the initrd was never served in 10 minutes');
      assert.match(log, /worker1: fetched ipxe\n/);
      assert.match(log, /served boot\/debian-12\/linux \(\d+ bytes\)/);
      assert.ok(log.includes(initrd));
      assert.match(log, /worker1: ipxe boot script, default install \(armed\)\n/, 'a fresh host is armed: iPXE chose install by itself');
      const st = JSON.parse(server.kubebake(['status', '-f', file, '--server', SERVER_URL, '--json']).stdout) as ClusterStatus;
      assert.deepEqual(st.hosts.find((h) => h.name === WORKER.name)!.seedFiles, ['ipxe']);
      assert.equal(st.hosts.find((h) => h.name === WORKER.name)!.phase, 'seed-fetched');

      // The Debian installer would now fetch its preseed (this stand-in kernel is no installer: the
      // test fetches it). The machine boots the network first again, as after the installer's
      // reboot: iPXE gets the local default and leaves; no kernel is loaded again.
      assert.equal(statusOf(server.ask([{ from: WORKER.ip, to: SERVER_ADDR, port: 80, path: `/preseed/${WORKER.name}.cfg` }])[0]), 200);
      const kernels = (): number => server.output().split('\n').filter((l) => l.includes('served boot/debian-12/linux')).length;
      const before = kernels();
      const again = new AbortController();
      let localAt = 0;
      const watchLocal = setInterval(() => {
        if (!localAt && server.output().includes('worker1: ipxe boot script, default local disk')) localAt = Date.now();
        // The menu waits 10 s before its default: 20 s after the script went out, a kernel would have been asked for.
        if ((localAt && Date.now() - localAt > 20_000) || kernels() > before) again.abort();
      }, 500);
      try {
        (await pxeBoot(5 * 60_000, again.signal)).dispose();
      } finally {
        clearInterval(watchLocal);
      }
      assert.ok(localAt, `the second network boot never fetched its script:\n${server.output()}`);
      assert.equal(kernels(), before, 'the installed host was not installed again');
    } finally {
      clearInterval(watch);
      await server.stop();
    }
  });
});

test('VM: fetches its seed over HTTP from kubebake serve, brings its static address up, reports its steps', { skip, timeout: 30 * 60_000 }, async (t) => {
  const disk = await debianDisk('ifupdown');
  await withTempDir(async (dir) => {
    const { file, out } = renderLab(dir);
    const index = JSON.parse(readFileSync(join(out, 'vmlab', 'pxe', 'hosts.json'), 'utf8')) as { hosts: Record<string, { kernelArgs: string[] }> };
    const args = index.hosts[WORKER.name]!.kernelArgs;
    assert.ok(args.includes(`ds=nocloud-net;s=http://${SERVER_ADDR}/nocloud/${WORKER.name}/`), args.join(' '));

    const server = await serveLab(dir, file, out);
    let status: ClusterStatus;
    let boot: VmBoot;
    try {
      boot = await bootVm({
        disk,
        mac: WORKER.mac,
        append: args,
        guestfwd: forward(server),
        timeoutMs: BOOT_TIMEOUT_MS,
      });
      t.diagnostic(`${boot.seconds} s to power-off`);
      const st = server.kubebake(['status', '-f', file, '--server', SERVER_URL, '--json']);
      // The worker's second step fails (no package mirror is reachable): a failed host is exit 3.
      assert.equal(st.status, 3, st.stderr);
      status = JSON.parse(st.stdout) as ClusterStatus;
      for (const line of server.kubebake(['status', '-f', file, '--server', SERVER_URL]).stdout.trimEnd().split('\n')) t.diagnostic(line);
    } finally {
      const stopped = await server.stop();
      for (const line of stopped.stdout.trimEnd().split('\n')) t.diagnostic(`serve: ${line}`);
    }
    try {
      const tail = `\n--- console (last 3000 characters) ---\n${boot.console.slice(-3000)}`;
      assert.ok(!boot.timedOut, `QEMU killed after ${BOOT_TIMEOUT_MS / 1000} s${tail}`);
      assert.equal(boot.read('/var/log/kubebake-test/done')?.trim(), 'done', `the guest's probe did not finish${tail}`);

      // The seed came over HTTP from the server: cloud-init's datasource says so, the hostname is the host's.
      assert.match(boot.read('/var/lib/cloud/instance/datasource') ?? '', new RegExp(`NoCloudNet.*http://${SERVER_ADDR}/nocloud/${WORKER.name}/`));
      assert.equal(boot.read('/var/log/kubebake-test/hostname')?.trim(), WORKER.name);
      // The static address on the NIC with the host's MAC, the default route via the gateway.
      const nic = new RegExp(`^\\d+: (\\S+): .* link/ether ${WORKER.mac} `, 'm').exec(boot.read('/var/log/kubebake-test/ip-link') ?? '')?.[1];
      assert.ok(nic, 'no NIC with the MAC');
      assert.match(boot.read('/var/log/kubebake-test/ip-addr') ?? '', new RegExp(`^\\d+: ${nic}\\s+inet ${WORKER.ip.replace(/\./g, '\\.')}/24 `, 'm'));
      assert.match(boot.read('/var/log/kubebake-test/ip-route') ?? '', new RegExp(`^default via 10\\.0\\.2\\.2 dev ${nic}\\b`, 'm'));

      // What the server recorded is what the guest did: seed files fetched, one boot, the first
      // step done, the second failed (no package mirror is reachable) with the host's own reason.
      const w = status!.hosts.find((h) => h.name === WORKER.name)!;
      for (const f of ['meta-data', 'user-data']) assert.ok(w.seedFiles.includes(f), `${f} not fetched: ${w.seedFiles.join(', ')}`);
      assert.equal(w.boots, 1);
      assert.equal(w.phase, 'failed');
      const hostStatus = boot.read('/var/lib/kubebake/status')?.trim() ?? '';
      assert.match(hostStatus, /^failed: base: apt-get update failed: /);
      assert.equal(`failed: ${w.reason}`, hostStatus, 'the server shows the reason the host recorded');
      assert.ok(w.steps[0]!.startedAt && w.steps[0]!.endedAt, 'resolver ran and ended');
      assert.ok(w.log.length > 0, 'the last log lines came with the failure');
      assert.ok(w.cloudInitDoneAt, "cloud-init's phone_home arrived");
      assert.equal(status!.hosts.find((h) => h.name === 'cp1')!.phase, 'waiting', 'nothing for other hosts');
    } finally {
      boot.dispose();
    }
  });
});
