// What each OS release really ships, where kubebake's output depends on it: the cgroup
// hierarchy it boots with (kubelet ≥ 1.35 refuses cgroup v1), its kernel (CNI minimums), and
// the versions of the packages the load balancers and first boot run (haproxy.cfg keywords).
// One table; every value is sourced below. A value that could not be verified is a LOWER BOUND
// (marked in `lowerBounds`), never a guess: Ubuntu and Debian only move forward between releases.
//
// Sources (checked 2026-11-30):
// - cgroup: Ubuntu switched systemd to the unified hierarchy (cgroup v2) by default in 21.10
//   (ubuntu-devel, Lukas Märdian, 2021-08-17, "systemd enabling cgroup v2 by default",
//   https://lists.ubuntu.com/archives/ubuntu-devel/2021-August/041598.html), so 20.04 boots
//   with cgroup v1 (hybrid) and 22.04 and later with v2. Debian 12's systemd 252.38-1~deb12u1
//   reports `default-hierarchy=unified` (`systemctl --version`, run on Debian 12).
// - kernel: acassen/keepalived README.kernel_versions @ f71d20854ff0214c847fb1f265b9e4ecf3bc4766
//   ("Ubuntu 20.04 5.4, 22.04 5.15, 24.04 6.8, Debian 12 6.1"). Ubuntu 26.04's kernel is not in
//   that table: 24.04's 6.8 is its lower bound.
// - haproxy: wiki.ubuntu.com/HAProxyUpdates ("Jammy (22.04): HAProxy 2.4.x", "Focal (20.04):
//   HAProxy 2.0.x"); Debian 12: `apt-cache policy haproxy` → 2.6.12-1+deb12u4. The series in
//   Ubuntu 24.04 and 26.04 was not verifiable here: 22.04's 2.4 is their lower bound.
// - keepalived: Debian 12 `apt-cache policy` → keepalived 1:2.2.7-1+b2. For Ubuntu it could not
//   be verified here (no Ubuntu archive reachable); left undefined rather than guessed.
// - cloud-init: Debian 12 `apt-cache policy` → 22.4.2-1+deb12u4 (FACTS.md agrees). Ubuntu: the
//   version each release shipped with, from the packaging changelog in canonical/cloud-init
//   (debian/changelog, last upload before the release date): ubuntu/focal @ 7fd93ca47a554bc0ae874211786a78e1873d2369
//   20.1-10-g71af48df-0ubuntu5 (2020-04-16); ubuntu/jammy @ a3a35b792bcf2458fe6d6ef2875140e0ab45b9d8
//   22.1-14-g2e17a0d6-0ubuntu1~22.04.5 (2022-04-06); ubuntu/noble @ 7f86d440807abfe6b16eeb3eafe5425911f623ef
//   24.1.3-0ubuntu3 (2024-04-05); ubuntu/resolute @ 5c6da175e7079f914f4ee95063543edaa9502bc8
//   26.1-0ubuntu2 (2026-04-15). Ubuntu backports newer cloud-init to its LTS releases (focal got
//   24.4.1, jammy and noble 26.1), so for Ubuntu the value is a LOWER BOUND: what an installer
//   image or cloud image of the release carries at least. Choices made from it (kernel arguments
//   of a network seed, see the predicates below) must work from that version on.
// - network renderers (which of cloud-init's renderers writes the host's network config): Ubuntu's
//   cloud-init package depends on netplan.io (canonical/cloud-init debian/control, package
//   cloud-init on ubuntu/focal @ 7fd93ca47a554bc0ae874211786a78e1873d2369, ubuntu/jammy @
//   a3a35b792bcf2458fe6d6ef2875140e0ab45b9d8, ubuntu/noble @ 7f86d440807abfe6b16eeb3eafe5425911f623ef;
//   cloud-init-base on ubuntu/resolute @ 5c6da175e7079f914f4ee95063543edaa9502bc8) and its
//   cloud.cfg puts netplan first (config/cloud.cfg.tmpl at those commits: ubuntu renderers
//   ['netplan', 'eni', 'sysconfig']), so netplan always renders there. Debian 12's cloud-init
//   22.4.2 depends on no network stack and its /etc/cloud/cloud.cfg lists no renderers, so the
//   default order applies (cloudinit/net/renderers.py DEFAULT_PRIORITY: eni, sysconfig, netplan, …,
//   networkd) and the machine decides: eni with ifupdown (a Debian-installer machine), netplan
//   on the cloud images, networkd.
// - Debian 13 (trixie, stable since 2025-08-09: distro-info-data 0.66+deb13u2, Debian's own
//   /usr/share/distro-info/debian.csv): trixie's archive, `apt-cache policy` in a
//   `debootstrap --variant=minbase trixie` root (2026-12-05): cloud-init 25.1.4-1+deb13u1,
//   haproxy 3.0.11-1+deb13u4, keepalived 1:2.3.3-1, linux-image-amd64 6.12.117-1, systemd
//   257.13-1~deb13u1. cgroup v2: systemd 256 and later refuse to boot on cgroup v1 unless forced
//   (systemd NEWS, "CHANGES WITH 256": "support for cgroup v1 ('legacy' and 'hybrid' hierarchies)
//   is now considered obsolete and systemd by default will refuse to boot under it"); the VM
//   test (test/e2e/vm-boot.test.ts) records /sys/fs/cgroup's type in a booted trixie guest.
//   Renderers: as on Debian 12, trixie's cloud-init depends on no network stack and its
//   /etc/cloud/cloud.cfg lists no renderers (checked in that root, 2026-12-05), so the machine
//   decides; 25.1.4 is before eni's `ip route` lines (25.3).
import type { OsProfile } from '../types.js';

/** cloud-init's renderers for network config that matter here (cloudinit/net/{eni,netplan,networkd}.py). */
export type NetworkRenderer = 'eni' | 'netplan' | 'networkd';

export interface OsFacts {
  /** The cgroup hierarchy the release boots with by default. */
  cgroup: 1 | 2;
  /** The release's GA kernel series (major.minor). */
  kernel: string;
  /** The HAProxy series in the release's own archive. */
  haproxy: string;
  keepalived?: string;
  /** The cloud-init version the release ships with (see the sources above). */
  cloudInit: string;
  /** The renderers cloud-init may write the release's network config with (see the sources above). */
  networkRenderers: readonly NetworkRenderer[];
  /** Fields whose value is a lower bound (the exact value could not be verified, or updates raise it). */
  lowerBounds: ('kernel' | 'haproxy' | 'cgroup' | 'cloudInit')[];
}

export const OS_FACTS: Record<OsProfile, OsFacts> = {
  'ubuntu-20.04': { cgroup: 1, kernel: '5.4', haproxy: '2.0', cloudInit: '20.1', networkRenderers: ['netplan'], lowerBounds: ['cloudInit'] },
  'ubuntu-22.04': { cgroup: 2, kernel: '5.15', haproxy: '2.4', cloudInit: '22.1', networkRenderers: ['netplan'], lowerBounds: ['cloudInit'] },
  'ubuntu-24.04': { cgroup: 2, kernel: '6.8', haproxy: '2.4', cloudInit: '24.1.3', networkRenderers: ['netplan'], lowerBounds: ['haproxy', 'cloudInit'] },
  'ubuntu-26.04': { cgroup: 2, kernel: '6.8', haproxy: '2.4', cloudInit: '26.1', networkRenderers: ['netplan'], lowerBounds: ['kernel', 'haproxy', 'cloudInit'] },
  'debian-12': { cgroup: 2, kernel: '6.1', haproxy: '2.6', keepalived: '2.2.7', cloudInit: '22.4.2', networkRenderers: ['eni', 'netplan', 'networkd'], lowerBounds: [] },
  'debian-13': { cgroup: 2, kernel: '6.12', haproxy: '3.0', keepalived: '2.3.3', cloudInit: '25.1.4', networkRenderers: ['eni', 'netplan', 'networkd'], lowerBounds: [] },
};

/** a ≥ b for dotted version series ("5.15" ≥ "5.4"). */
export function atLeast(a: string, b: string): boolean {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/**
 * `http-check send` (a request built by directives) arrived in HAProxy 2.2: haproxy/haproxy
 * doc/configuration.txt documents it at v2.2.0 (3a00c915fd241fc398a080a11ccac9c5c46791ce) and not
 * at v2.0.0 (ba23630ad009464dc8e4d01dac9ce779eb84cc2a); added by 8acb1284bcd47301fce0aa45a7083dbcef94cb5f.
 * 2.0 has `option httpchk <method> <uri>` and `http-check expect status`.
 */
export const haproxyHasHttpCheckSend = (haproxy: string): boolean => atLeast(haproxy, '2.2');

/**
 * How a kernel command line names NoCloud with an HTTP seed (`ds=<name>;s=http://…/`). Before
 * cloud-init 24.1 the network-stage NoCloud class claimed the boot only for the literal name
 * "nocloud-net" (DataSourceNoCloudNet.ds_detect at 22.4.2, 606a0a7c278d8c93170f0b5fb1ce149be3349435:
 * `return "nocloud-net" == sources.parse_cmdline()`); 24.1 (49df547305f3d272437b4ebe310647a1eb8b9e91,
 * change 66b5ce9d5f94c0c6625972fdfdca3796d365b069) accepts "nocloud" and keeps "nocloud-net" as a
 * deprecated alias, so the old name works everywhere and the new one avoids the deprecation warning.
 * (The seedfrom scheme decides local vs network mode only since 23.2, f146fe71733e72b94fad525b8cc9988b1405e760.)
 */
export const nocloudSeedDsName = (cloudInit: string): 'nocloud' | 'nocloud-net' => (atLeast(cloudInit, '24.1') ? 'nocloud' : 'nocloud-net');

/**
 * Whether an HTTP NoCloud seed's `network-config` is fetched. util.read_seeded fetched only
 * meta-data, user-data and vendor-data until "fix(NoCloudNet): Add network-config support"
 * (5322dca2f3da7bb9b8d6f1fac6ccb00ef33ef8ee, first in 24.3, 9faafb0dfb21f6d90675185981cda1a5b02e2316):
 * before that a host booted from an HTTP seed needs its static address another way (ip=).
 */
export const httpSeedFetchesNetworkConfig = (cloudInit: string): boolean => atLeast(cloudInit, '24.3');

/**
 * Whether cloud-init's eni renderer (ifupdown) writes a route as `post-up ip route add …`: only
 * from 25.3 ("feat(eni): support "ip route" if available instead of "route"",
 * 10a5fdc52325ebfc6d9adcbc8629e1536ea979b9, first in 25.3), and then only where `ip` exists. Before,
 * it writes `post-up route add default gw … || true` (cloudinit/net/eni.py _render_route at 22.4.2),
 * which needs net-tools' route(8), absent on Debian 12, and whose `|| true` hides the failure.
 */
export const eniRoutesUseIp = (cloudInit: string): boolean => atLeast(cloudInit, '25.3');

/**
 * Whether a host's default route must be netplan's deprecated `gateway4` rather than a `routes:`
 * entry: where cloud-init may render with eni and its eni would write the route with route(8).
 * `gateway4` becomes the stanza's `gateway` line, which ifupdown applies with ip(8). Elsewhere
 * netplan (which warns that gateway4 is deprecated) and networkd take a route to 0.0.0.0/0.
 */
export const defaultRouteNeedsGateway4 = (facts: OsFacts): boolean => facts.networkRenderers.includes('eni') && !eniRoutesUseIp(facts.cloudInit);
