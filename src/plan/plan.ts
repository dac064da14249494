// Topology (what the operator wrote) → ClusterPlan (everything the renderers need, derived once).
// Renderers never re-derive: they read the plan.
import type { CniPlugin, FirewallMode, Host, ImageMode, Mirrors, Role, Taint, Topology } from '../topology/types.js';
import type { Secrets } from './secrets.js';
import { assignedMacs } from '../util/addressing.js';
import { API_SERVER_PORT } from '../topology/facts/kubeadm.js';
import { OS_FACTS, type OsFacts } from '../topology/facts/os-facts.js';
import { cloudImageDownloads, downloadUrl, proxyPlan, type ProxyPlan } from './sources.js';
import { crioAptRepo, kubeadmApiVersion, kubernetesAptRepo, minorOf, OS, pinnedCniRelease, type OsInfo } from '../topology/facts/versions.js';
import { ingressBackends } from '../topology/ingress-backends.js';

export const CRI_SOCKET = 'unix:///var/run/crio/crio.sock';

/** The two images kubebake bakes: Kubernetes nodes, and load balancers. */
export type ImageKind = 'node' | 'load-balancer';

export interface PortRule {
  /** vrrp: IP protocol 112, keepalived's. */
  proto: 'tcp' | 'udp' | 'vrrp' | 'any';
  /** A port or a range "a-b"; absent for protocols without ports. */
  port?: string;
  /** Source network or address; absent means anywhere. */
  from?: string;
  why: string;
}

export interface NodePlan {
  name: string;
  /** Position in the topology's hosts list: diagnostics about this host point at hosts[index]. */
  index: number;
  role: Role;
  ip: string;
  /** The topology's MAC, or one kubebake assigned (macAssigned) when it names neither mac nor interface. */
  mac?: string;
  macAssigned?: true;
  interface?: string;
  /** The disk the PXE installer installs to; absent: the installer's own choice (pxe/preseed.ts, pxe/autoinstall.ts). */
  installDisk?: string;
  /** FQDN when the topology has a search domain. */
  fqdn?: string;
  labels: Record<string, string>;
  taints?: Taint[];
  /** The control plane that runs `kubeadm init`. */
  initNode: boolean;
  /** Position among the hosts of its role, from 0; staggers control-plane joins. */
  ordinal: number;
  firewall: PortRule[];
}

export interface ClusterPlan {
  name: string;
  os: OsInfo & { profile: Topology['os']; facts: OsFacts };
  image: ImageMode;
  firewallMode: FirewallMode;
  /** aptRepo: pkgs.k8s.io's repository of the minor, or its mirror; aptKey: the mirror's key, when the topology gives it. */
  kubernetes: { version: string; minor: string; kubeadmApi: string; aptRepo: string; aptKey?: string };
  crio: { minor: string; version?: string; aptRepo: string; aptKey?: string };
  cni: { plugin: CniPlugin; version: string };
  network: Topology['network'];
  endpoint: {
    /** The address clients and joining nodes use: the load balancer's IP or the VIP. */
    address: string;
    port: number;
    /** host:port, as kubeadm wants it. */
    hostPort: string;
    url: string;
    /** The name /etc/hosts gives a VIP endpoint (`<cluster>-api`); absent without a VIP. */
    name?: string;
    /** Names and addresses the API server certificate must carry. */
    certSANs: string[];
  };
  vip?: { address: string; routerId: number };
  ingress: { name: string; port: number; nodePort: number; backends: { name: string; ip: string }[] }[];
  nodes: NodePlan[];
  access: Topology['access'];
  bootstrap: Topology['bootstrap'];
  packer: Topology['packer'];
  delivery: Topology['delivery'];
  /** The site's mirrors (topology `mirrors`), as given. */
  mirrors?: Mirrors;
  proxy?: ProxyPlan;
}

/** A plan with the cluster's secrets, for renderers that need them (cloud-init, kubeconfig). */
export type RenderPlan = ClusterPlan & { secrets: Secrets };

export const withSecrets = (plan: ClusterPlan, secrets: Secrets): RenderPlan => ({ ...plan, secrets });

export function buildPlan(t: Topology): ClusterPlan {
  const minor = minorOf(t.kubernetes.version);
  const lbs = t.hosts.filter((h) => h.role === 'load-balancer');
  const cps = t.hosts.filter((h) => h.role === 'control-plane');
  const endpointAddress = t.apiEndpoint.vip?.address ?? t.hosts.find((h) => h.name === t.apiEndpoint.loadBalancer)!.ip;
  const fqdn = (name: string): string | undefined => (t.network.searchDomain ? `${name}.${t.network.searchDomain}` : undefined);
  // A VIP gets a name in every host's /etc/hosts: clients that use it must find it in the certificate.
  const endpointName = t.apiEndpoint.vip ? `${t.name}-api` : undefined;
  const certSANs = unique([
    endpointAddress,
    endpointName,
    ...lbs.flatMap((h) => [h.name, fqdn(h.name), h.ip]),
    t.apiEndpoint.dnsName,
  ]);

  const ingress = t.ingress.map((f) => ({
    name: f.name,
    port: f.port,
    nodePort: f.nodePort,
    backends: ingressBackends(t.hosts, f).map((h) => ({ name: h.name, ip: h.ip })),
  }));

  const proxy = proxyPlan(t, endpointAddress, unique([endpointName, t.apiEndpoint.dnsName]));
  const assigned = assignedMacs(t.name, t.hosts);
  const ordinals = new Map<Role, number>();
  // Workers' and control planes' rules depend on the role only: one array per role, shared (so
  // 5,000 workers do not hold 5,000 copies, and a manifest's key serialises it once).
  const roleRules = new Map<Role, PortRule[]>();
  const rulesOf = (h: Host): PortRule[] => {
    if (h.role === 'load-balancer') return firewallRules(t, h, lbs);
    let rules = roleRules.get(h.role);
    if (!rules) roleRules.set(h.role, (rules = firewallRules(t, h, lbs)));
    return rules;
  };
  const nodes = t.hosts.map((h, index): NodePlan => {
    const ordinal = ordinals.get(h.role) ?? 0;
    ordinals.set(h.role, ordinal + 1);
    return {
      name: h.name,
      index,
      role: h.role,
      ip: h.ip,
      mac: h.mac ?? assigned.get(h.name),
      ...(assigned.has(h.name) ? { macAssigned: true as const } : {}),
      interface: h.interface,
      ...(h.installDisk ? { installDisk: h.installDisk } : {}),
      fqdn: fqdn(h.name),
      labels: h.labels ?? {},
      taints: h.taints,
      initNode: h === cps[0],
      ordinal,
      firewall: rulesOf(h),
    };
  });

  return {
    name: t.name,
    os: { ...osFromMirrors(OS[t.os], t), profile: t.os, facts: OS_FACTS[t.os] },
    image: t.image,
    firewallMode: t.firewall,
    kubernetes: {
      version: t.kubernetes.version,
      minor,
      kubeadmApi: kubeadmApiVersion(minor),
      aptRepo: t.mirrors?.kubernetes?.url ?? kubernetesAptRepo(minor),
      ...(t.mirrors?.kubernetes?.key ? { aptKey: t.mirrors.kubernetes.key } : {}),
    },
    crio: {
      minor,
      version: t.kubernetes.crio?.split('.').length === 3 ? t.kubernetes.crio : undefined,
      aptRepo: t.mirrors?.crio?.url ?? crioAptRepo(minor),
      ...(t.mirrors?.crio?.key ? { aptKey: t.mirrors.crio.key } : {}),
    },
    cni: { plugin: t.cni.plugin, version: t.cni.version ?? cniPin(t.cni.plugin, minor) },
    network: t.network,
    endpoint: {
      address: endpointAddress,
      port: t.apiEndpoint.port,
      hostPort: `${endpointAddress}:${t.apiEndpoint.port}`,
      url: `https://${endpointAddress}:${t.apiEndpoint.port}`,
      name: endpointName,
      certSANs,
    },
    vip: t.apiEndpoint.vip,
    ingress,
    nodes,
    access: t.access,
    bootstrap: t.bootstrap,
    packer: t.packer,
    delivery: t.delivery,
    ...(t.mirrors ? { mirrors: t.mirrors } : {}),
    ...(proxy ? { proxy } : {}),
  };
}

/** The cloud image from the files mirror, when there is one (Packer then names no upstream host). */
/** The CNI release pinned for the minor; the rules refuse a topology without one before it is planned. */
function cniPin(plugin: CniPlugin, minor: string): string {
  const release = pinnedCniRelease(plugin, minor);
  if (!release) throw new Error(`no ${plugin} release is pinned for Kubernetes ${minor}: the topology should have been refused`);
  return release.version;
}

function osFromMirrors(os: OsInfo, t: Topology): OsInfo {
  if (!t.mirrors?.files) return os;
  const { image, checksums } = cloudImageDownloads(os, t.os);
  return { ...os, image: { ...os.image, url: downloadUrl(t.mirrors, image), checksumUrl: downloadUrl(t.mirrors, checksums) } };
}

/** Ports each CNI needs between nodes (SEED.md, "Required ports"). */
const CNI_PORTS: Record<CniPlugin, Omit<PortRule, 'from'>[]> = {
  // No BGP (TCP 179, which SEED.md lists): kubebake's Installation runs Calico with VXLAN only.
  calico: [
    { proto: 'udp', port: '4789', why: 'Calico VXLAN' },
    { proto: 'tcp', port: '5473', why: 'Calico Typha' },
  ],
  flannel: [{ proto: 'udp', port: '8472', why: 'Flannel VXLAN' }],
  cilium: [
    { proto: 'udp', port: '8472', why: 'Cilium VXLAN' },
    { proto: 'tcp', port: '4240', why: 'Cilium health' },
  ],
  weave: [
    { proto: 'tcp', port: '6783', why: 'Weave control' },
    { proto: 'udp', port: '6783-6784', why: 'Weave data' },
  ],
};

/**
 * Exactly the ports a host's role needs. Cluster-internal ports are opened to the node subnet
 * only; SSH and the load balancer's frontends to anyone.
 */
function firewallRules(t: Topology, h: Host, lbs: Host[]): PortRule[] {
  const nodes = t.network.nodeSubnet;
  const ssh: PortRule = { proto: 'tcp', port: '22', why: 'SSH' };
  if (h.role === 'load-balancer') {
    const rules: PortRule[] = [ssh, { proto: 'tcp', port: String(t.apiEndpoint.port), why: 'Kubernetes API frontend' }];
    for (const f of t.ingress) rules.push({ proto: 'tcp', port: String(f.port), why: `ingress frontend ${f.name}` });
    for (const peer of t.apiEndpoint.vip ? lbs.filter((p) => p !== h) : []) {
      // keepalived speaks unicast VRRP (IP protocol 112) to its peer.
      rules.push({ proto: 'vrrp', from: peer.ip, why: `keepalived VRRP from ${peer.name}` });
    }
    return rules;
  }
  const rules: PortRule[] = [ssh];
  const internal = (port: string, why: string): void => void rules.push({ proto: 'tcp', port, from: nodes, why });
  if (h.role === 'control-plane') {
    internal(String(API_SERVER_PORT), 'Kubernetes API server');
    internal('2379-2380', 'etcd');
    internal('10250', 'kubelet API');
    internal('10257', 'kube-controller-manager');
    internal('10259', 'kube-scheduler');
    for (const f of t.ingress.filter((f) => f.targets === 'control-planes')) internal(String(f.nodePort), `NodePort of ingress ${f.name}`);
  } else {
    internal('10250', 'kubelet API');
    internal('10256', 'kube-proxy health');
    internal('30000-32767', 'NodePort services');
  }
  for (const r of CNI_PORTS[t.cni.plugin]) rules.push({ ...r, from: nodes });
  // Pods reach node-local services (kubelet, the API via its Service) from pod addresses.
  rules.push({ proto: 'any', from: t.network.podSubnet, why: 'pod network to node' });
  return rules;
}

function unique(xs: (string | undefined)[]): string[] {
  return [...new Set(xs.filter((x): x is string => x !== undefined))];
}

export const controlPlanes = (p: ClusterPlan): NodePlan[] => p.nodes.filter((n) => n.role === 'control-plane');
export const loadBalancers = (p: ClusterPlan): NodePlan[] => p.nodes.filter((n) => n.role === 'load-balancer');
export const isKubernetesNode = (n: NodePlan): boolean => n.role !== 'load-balancer';
