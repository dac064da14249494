// The packages the sandbox's apt-get stand-in knows, as their real repositories publish them:
// name, version, the packages it depends on (only those in this table: libraries the host already
// has are left out), and the commands it puts on PATH. A command of this table does not exist in
// the sandbox until its package is installed; a package not in this table fails as apt does.
//
// Sources:
// - pkgs.k8s.io (kubeadm, kubelet, kubectl, cri-tools, kubernetes-cni): kubernetes/release
//   cmd/krel/templates/latest/metadata.yaml @ 0ffd6e1f6fe45890e56f8ecc0d9a05add25f61ae (kubeadm
//   ">= 1.30.0 < 1.32.0" depends on cri-tools, ">= 1.32.0" on nothing; kubelet ">= 1.28.0" on
//   kubernetes-cni), kubelet/kubelet.spec @ d2a7ae376217f4fe873330da2a6a8b902c45bc68 (Requires
//   iptables, mount, util-linux; installs /usr/bin/kubelet), kubeadm.spec @ 7dbe5990415b…
//   (/usr/bin/kubeadm), kubectl.spec and cri-tools.spec @ b407b2dbbdedeb6ed8ee1426a0dd5878f64899d1
//   (/usr/bin/kubectl, /usr/bin/crictl), kubernetes-cni.spec @ b707ce23c99a5b1b475b388ea95ae8e26376cc82
//   (/opt/cni/bin only). Versions: the stand-in repository serves the topology's Kubernetes version
//   (and its minor's .0 for cri-tools) with a "-1.1" revision; those revisions are the stand-in's,
//   not checked against the real repository.
// - isv:cri-o: cri-o/packaging templates/latest/cri-o/cri-o.spec @ bab379a64ce5dc880a2b04296494f01991183658
//   (Requires iptables; /usr/bin/crio, /usr/bin/pinns; no crictl).
// - OS packages (Debian 12, what this sandbox is): `dpkg -L` / `dpkg-deb -c` of the Debian 12
//   packages, 2026-11-30: haproxy 2.6.12-1+deb12u4 (/usr/sbin/haproxy), keepalived 1:2.2.7-1+b2
//   (/usr/sbin/keepalived), curl 7.88.1-10+deb12u14, gpg 2.2.40-1.1+deb12u2, ufw 0.36.2-1
//   (/usr/sbin/ufw; Depends iptables), conntrack 1:1.4.7-1+b2, socat 1.7.4.4-2, ethtool 1:6.1-1
//   (/sbin/ethtool), iptables 1.8.9-2 (iptables and ip6tables through update-alternatives),
//   ebtables 2.0.11-5 (ebtables through update-alternatives), ca-certificates 20250419~deb12u2,
//   nftables 1.0.6-2+deb12u2 (/usr/sbin/nft; the real nft runs: the sandbox's network namespace
//   is its own, so the host firewall ruleset is really loaded there).
import { minorOf } from '../../src/topology/facts/versions.js';

export interface PackageDef {
  name: string;
  version: string;
  depends: string[];
  /** Absolute paths of the commands it installs. */
  commands: string[];
  /** The command is this machine's real tool (haproxy -c really checks), not a stand-in. */
  real?: boolean;
}

export function packageTable(kubernetesVersion: string): PackageDef[] {
  const minor = minorOf(kubernetesVersion);
  const k8s = `${kubernetesVersion}-1.1`;
  return [
    { name: 'kubeadm', version: k8s, depends: Number(minor.split('.')[1]) < 32 ? ['cri-tools'] : [], commands: ['/usr/bin/kubeadm'] },
    { name: 'kubelet', version: k8s, depends: ['iptables', 'kubernetes-cni'], commands: ['/usr/bin/kubelet'] },
    { name: 'kubectl', version: k8s, depends: [], commands: ['/usr/bin/kubectl'] },
    { name: 'cri-tools', version: `${minor}.0-1.1`, depends: [], commands: ['/usr/bin/crictl'] },
    { name: 'kubernetes-cni', version: `${minor}.0-1.1`, depends: [], commands: [] },
    { name: 'cri-o', version: `${minor}.0-1.1`, depends: ['iptables'], commands: ['/usr/bin/crio', '/usr/bin/pinns'] },
    { name: 'haproxy', version: '2.6.12-1+deb12u4', depends: [], commands: ['/usr/sbin/haproxy'], real: true },
    { name: 'keepalived', version: '1:2.2.7-1+b2', depends: [], commands: ['/usr/sbin/keepalived'], real: true },
    { name: 'curl', version: '7.88.1-10+deb12u14', depends: [], commands: ['/usr/bin/curl'] },
    { name: 'gpg', version: '2.2.40-1.1+deb12u2', depends: [], commands: ['/usr/bin/gpg'] },
    { name: 'ca-certificates', version: '20250419~deb12u2', depends: [], commands: [] },
    { name: 'ufw', version: '0.36.2-1', depends: ['iptables'], commands: ['/usr/sbin/ufw'] },
    { name: 'nftables', version: '1.0.6-2+deb12u2', depends: [], commands: ['/usr/sbin/nft'], real: true },
    { name: 'conntrack', version: '1:1.4.7-1+b2', depends: [], commands: ['/usr/sbin/conntrack'] },
    { name: 'socat', version: '1.7.4.4-2', depends: [], commands: ['/usr/bin/socat'] },
    { name: 'ethtool', version: '1:6.1-1', depends: [], commands: ['/usr/sbin/ethtool'] },
    { name: 'iptables', version: '1.8.9-2', depends: [], commands: ['/usr/sbin/iptables', '/usr/sbin/ip6tables'] },
    { name: 'ebtables', version: '2.0.11-5', depends: [], commands: ['/usr/sbin/ebtables'] },
  ];
}

/** The table as the stand-in reads it: one package a line, "name version dep,dep cmd,cmd real". */
export function packageTableText(kubernetesVersion: string): string {
  return packageTable(kubernetesVersion)
    .map((p) => [p.name, p.version, p.depends.join(',') || '-', p.commands.join(',') || '-', p.real ? 'real' : 'stand-in'].join(' '))
    .join('\n') + '\n';
}
