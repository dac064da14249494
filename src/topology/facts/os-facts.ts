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
// - keepalived, cloud-init: Debian 12 `apt-cache policy` → keepalived 1:2.2.7-1+b2, cloud-init
//   22.4.2-1+deb12u4 (FACTS.md agrees). For Ubuntu they could not be verified here (no Ubuntu
//   archive reachable); left undefined rather than guessed. Nothing in kubebake depends on them yet.
import type { OsProfile } from '../types.js';

export interface OsFacts {
  /** The cgroup hierarchy the release boots with by default. */
  cgroup: 1 | 2;
  /** The release's GA kernel series (major.minor). */
  kernel: string;
  /** The HAProxy series in the release's own archive. */
  haproxy: string;
  keepalived?: string;
  cloudInit?: string;
  /** Fields whose value is a lower bound (the exact value could not be verified). */
  lowerBounds: ('kernel' | 'haproxy' | 'cgroup')[];
}

export const OS_FACTS: Record<OsProfile, OsFacts> = {
  'ubuntu-20.04': { cgroup: 1, kernel: '5.4', haproxy: '2.0', lowerBounds: [] },
  'ubuntu-22.04': { cgroup: 2, kernel: '5.15', haproxy: '2.4', lowerBounds: [] },
  'ubuntu-24.04': { cgroup: 2, kernel: '6.8', haproxy: '2.4', lowerBounds: ['haproxy'] },
  'ubuntu-26.04': { cgroup: 2, kernel: '6.8', haproxy: '2.4', lowerBounds: ['kernel', 'haproxy'] },
  'debian-12': { cgroup: 2, kernel: '6.1', haproxy: '2.6', keepalived: '2.2.7', cloudInit: '22.4.2', lowerBounds: [] },
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
