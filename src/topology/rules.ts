// Cross-field checks a JSON Schema cannot express. Input has passed the schema (defaults
// applied); output is diagnostics with field paths, positioned by the loader.
import { didYouMean, type Diagnostic, type FieldPath } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import {
  assignedMacs,
  broadcastAddress,
  cidrContains,
  cidrsOverlap,
  ipToInt,
  networkAddress,
  parseCidr,
} from '../util/addressing.js';
import { atLeast, OS_FACTS } from './facts/os-facts.js';
import {
  cniRelease,
  isCrioMaintainedMinor,
  isMaintainedMinor,
  isSupportedMinor,
  kubeletRefusesCgroupV1,
  minorOf,
  minorsWithTestedRelease,
  OS,
  pinnedCniRelease,
  REFUSES_UNTESTED_KUBERNETES,
  SUPPORTED_MINORS,
  testedWith,
} from './facts/versions.js';
import type { OverridableCheck, Topology } from './types.js';
import { durationSeconds } from '../util/duration.js';
import { checkMirrors } from './mirror-rules.js';
import { checkUrls } from './url-rules.js';
import { installDiskKind } from './install-disk.js';
import { EXAMPLE_KEY_DATA, sshKeyProblem } from './ssh-key.js';
import { INGRESS_BACKENDS_WARN, ingressBackends } from './ingress-backends.js';

const NODEPORT_MIN = 30000;
const NODEPORT_MAX = 32767;

/**
 * The API frontend src/render/haproxy/haproxy-cfg.ts generates beside one `frontend <ingress name>`
 * each. HAProxy 2.6 refuses two frontends of one name ("frontend 'kubernetes' has the same name as
 * frontend 'kubernetes'"), while a frontend and a backend may share one, so only this name clashes.
 */
const API_FRONTEND = 'kubernetes';

/**
 * The longest bootstrap token TTL kubeadm accepts: it reads `ttl` as a metav1.Duration, which is
 * Go's time.ParseDuration (kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/
 * duration.go @ 819ecd4dbe6afbaa4f6227d22b9c46938d48e603), and that overflows past 2^63-1 ns,
 * i.e. 2562047h47m16.854775807s. "" is rejected by the same parser.
 */
const MAX_TOKEN_TTL_SECONDS = 2562047 * 3600 + 47 * 60 + 16;

/**
 * kubeadm gives cluster DNS the 10th address of the service subnet (GetDNSIP, "Selects the 10th
 * IP in service subnet CIDR range as dnsIP": kubernetes/kubernetes cmd/kubeadm/app/constants/
 * constants.go @ 3301161c36ac9c27854a7b4636139d4ebde43e72); a /29 or smaller has none.
 */
const DNS_SERVICE_INDEX = 10;

/** /etc/hosts names the OS owns (Debian's and cloud-init's hosts templates). */
const RESERVED_HOST_NAMES = ['localhost', 'ip6-localhost', 'ip6-loopback', 'ip6-localnet', 'ip6-mcastprefix', 'ip6-allnodes', 'ip6-allrouters'];

/**
 * Accounts and groups a host already has: cloud-init's useradd would fail or hand the admin's
 * SSH keys to a system account. Users and groups of Debian's base-passwd 3.6.1
 * (/usr/share/base-passwd/passwd.master and group.master on Debian 12), and the service accounts
 * of the packages every host gets (systemd, dbus, openssh, rsyslog) or a load balancer gets (haproxy).
 */
const SYSTEM_ACCOUNTS = new Set([
  ...'root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc _apt nobody'.split(' '),
  ...'adm tty disk kmem dialout fax voice cdrom floppy tape sudo audio dip operator src shadow utmp video sasl plugdev staff users nogroup'.split(' '),
  ...'systemd-network systemd-resolve systemd-timesync systemd-journal messagebus sshd syslog haproxy'.split(' '),
]);

/** Kubernetes' documented limit: no more than 5,000 nodes (kubernetes.io/docs/setup/best-practices/cluster-large/). */
export const MAX_CLUSTER_HOSTS = 5000;

function checkClusterSize(t: Topology, warn: (path: FieldPath, m: Message) => void): void {
  const nodes = t.hosts.filter((h) => h.role !== 'load-balancer').length;
  if (nodes > MAX_CLUSTER_HOSTS) warn(['hosts'], msg.clusterTooLarge(nodes, MAX_CLUSTER_HOSTS));
}

export function checkRules(t: Topology): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (path: FieldPath, m: Message): void => void out.push({ severity: 'error', path, ...m });
  const warn = (path: FieldPath, m: Message): void => void out.push({ severity: 'warning', path, ...m });
  const overridden = new Set<OverridableCheck>();
  /** An overridable check: an error unless the topology explicitly accepts it, with a reason. */
  const check = (check: OverridableCheck, path: FieldPath, m: Message): void => {
    const o = t.overrides.findIndex((x) => x.check === check);
    if (o < 0) return error(path, m);
    overridden.add(check);
    warn(['overrides', o], msg.overridden(check, t.overrides[o]!.reason));
  };

  checkHosts(t, error);
  checkNetwork(t, error);
  checkClusterSize(t, warn);
  checkMirrors(t, warn);
  checkUrls(t, error);
  // One index lookup per host: with thousands of MAC-less workers a search per warning was quadratic.
  const hostIndex = new Map(t.hosts.map((h, i) => [h.name, i] as const).reverse());
  for (const [name, mac] of assignedMacs(t.name, t.hosts)) {
    warn(['hosts', hostIndex.get(name)!], msg.assignedMac(name, mac));
  }

  // --- roles and the API endpoint --------------------------------------------------------
  const controlPlanes = t.hosts.filter((h) => h.role === 'control-plane');
  const workers = t.hosts.filter((h) => h.role === 'worker');
  const lbs = t.hosts.filter((h) => h.role === 'load-balancer');
  if (controlPlanes.length === 0) error(['hosts'], msg.noControlPlane());
  else if (controlPlanes.length === 1) warn(['hosts'], msg.singleControlPlane());
  else if (controlPlanes.length % 2 === 0) {
    check('etcd-quorum', ['hosts', t.hosts.indexOf(controlPlanes[controlPlanes.length - 1]!), 'role'], msg.etcdQuorum(controlPlanes.length));
  }

  const ep = t.apiEndpoint;
  if (ep.loadBalancer !== undefined && ep.vip !== undefined) error(['apiEndpoint'], msg.apiEndpointBoth());
  else if (ep.loadBalancer === undefined && ep.vip === undefined) error(['apiEndpoint'], msg.apiEndpointNone());
  else if (lbs.length === 0) error(['hosts'], msg.noLoadBalancer());
  else if (ep.loadBalancer !== undefined) {
    const names = lbs.map((h) => h.name);
    if (!names.includes(ep.loadBalancer)) error(['apiEndpoint', 'loadBalancer'], msg.lbNotFound(ep.loadBalancer, names, didYouMean(ep.loadBalancer, names)));
    else {
      warn(['apiEndpoint', 'loadBalancer'], msg.singleLoadBalancer(ep.loadBalancer));
      for (const h of lbs.filter((h) => h.name !== ep.loadBalancer)) {
        error(['hosts', t.hosts.indexOf(h), 'name'], msg.unusedLoadBalancer(h.name, ep.loadBalancer));
      }
    }
  } else {
    if (lbs.length === 1) warn(['apiEndpoint', 'vip'], msg.vipWithoutPair());
    for (const h of lbs.filter((h) => h.interface === undefined)) error(['hosts', t.hosts.indexOf(h)], msg.vipNeedsInterface(h.name));
  }

  // --- ingress frontends on the load balancer ------------------------------------------------
  // sshd listens on every address of the load balancer: HAProxy could not bind a frontend on 22.
  const ports = new Map<number, string>([[22, 'SSH (sshd)']]);
  if (ports.has(ep.port)) error(['apiEndpoint', 'port'], msg.portClash(ep.port, ports.get(ep.port)!));
  else ports.set(ep.port, 'the Kubernetes API');
  const names = new Set<string>();
  t.ingress.forEach((f, i) => {
    if (f.name === API_FRONTEND) error(['ingress', i, 'name'], msg.ingressNameReserved(f.name));
    else if (names.has(f.name)) error(['ingress', i, 'name'], msg.duplicateName('ingress', f.name));
    names.add(f.name);
    const clash = ports.get(f.port);
    if (clash) error(['ingress', i, 'port'], msg.portClash(f.port, clash));
    else ports.set(f.port, `ingress "${f.name}"`);
    if (f.nodePort < NODEPORT_MIN || f.nodePort > NODEPORT_MAX) error(['ingress', i, 'nodePort'], msg.nodePortRange(f.nodePort));
    if (f.targets === 'workers' && workers.length === 0) error(['ingress', i, 'targets'], msg.ingressNoWorkers(f.name));
    else {
      const backends = ingressBackends(t.hosts, f).length;
      if (f.nodeSelector !== undefined && backends === 0) error(['ingress', i, 'nodeSelector'], msg.ingressSelectorEmpty(f.name, f.targets, f.nodeSelector));
      else if (f.nodeSelector === undefined && backends > INGRESS_BACKENDS_WARN) warn(['ingress', i], msg.ingressManyBackends(f.name, f.targets, backends));
    }
  });

  // --- versions ------------------------------------------------------------------------------
  const minor = minorOf(t.kubernetes.version);
  if (!isSupportedMinor(minor)) error(['kubernetes', 'version'], msg.unsupportedKubernetes(t.kubernetes.version, SUPPORTED_MINORS));
  else if (!isMaintainedMinor(minor)) warn(['kubernetes', 'version'], msg.kubernetesEol(minor));
  if (t.kubernetes.crio !== undefined && minorOf(t.kubernetes.crio) !== minor) {
    error(['kubernetes', 'crio'], msg.crioMinor(t.kubernetes.crio, t.kubernetes.version));
  }
  const eol = OS[t.os].eol;
  if (eol) warn(['os'], msg.osEol(t.os, eol));
  checkOsAndVersionFacts(t, error, warn);
  if (t.cni.plugin === 'weave') warn(['cni', 'plugin'], msg.weave());
  if (t.access.sshAuthorizedKeys.length === 0) warn(['access'], msg.noSshKeys());
  t.access.sshAuthorizedKeys.forEach((line, i) => {
    const problem = sshKeyProblem(line);
    if (problem) warn(['access', 'sshAuthorizedKeys', i], msg.sshKeyUnreadable(problem, line.split(' ')[1] === EXAMPLE_KEY_DATA));
  });
  if (SYSTEM_ACCOUNTS.has(t.access.adminUser)) error(['access', 'adminUser'], msg.systemAccount(t.access.adminUser));
  const ttl = durationSeconds(t.bootstrap.tokenTTL);
  if (ttl === undefined || ttl > MAX_TOKEN_TTL_SECONDS) error(['bootstrap', 'tokenTTL'], msg.tokenTtl(t.bootstrap.tokenTTL));

  t.overrides.forEach((o, i) => {
    if (!overridden.has(o.check)) warn(['overrides', i, 'check'], msg.unusedOverride(o.check));
  });
  return out;
}

type Report = (path: FieldPath, m: Message) => void;

function checkHosts(t: Topology, error: Report): void {
  const subnet = parseCidr(t.network.nodeSubnet);
  const seen = { name: new Map<string, number>(), ip: new Map<string, number>(), mac: new Map<string, number>() };
  const special = new Map<string, string>([[t.network.gateway, 'the gateway']]);
  if (t.apiEndpoint.vip) special.set(t.apiEndpoint.vip.address, 'the API VIP');

  t.hosts.forEach((h, i) => {
    for (const field of ['name', 'ip', 'mac'] as const) {
      const value = h[field];
      if (value === undefined) continue;
      const first = seen[field].get(value);
      if (first !== undefined) error(['hosts', i, field], msg.duplicate(field === 'name' ? 'name' : field === 'ip' ? 'IP' : 'MAC', value, t.hosts[first]!.name, first));
      else seen[field].set(value, i);
    }
    if (!cidrContains(subnet, h.ip)) error(['hosts', i, 'ip'], msg.outsideSubnet('host address', h.ip, t.network.nodeSubnet));
    else if (h.ip === networkAddress(subnet)) error(['hosts', i, 'ip'], msg.reservedAddress(h.ip, 'network'));
    else if (h.ip === broadcastAddress(subnet) && subnet.prefix < 31) error(['hosts', i, 'ip'], msg.reservedAddress(h.ip, 'broadcast'));
    if (RESERVED_HOST_NAMES.includes(h.name)) error(['hosts', i, 'name'], msg.reservedHostName(h.name));
    if (h.mac !== undefined) {
      const first = parseInt(h.mac.slice(0, 2), 16);
      if (h.mac === '00:00:00:00:00:00') error(['hosts', i, 'mac'], msg.badMac(h.mac, 'all zeros, which no NIC has'));
      else if (first & 1) error(['hosts', i, 'mac'], msg.badMac(h.mac, 'a multicast address (the lowest bit of the first octet is set), which no NIC has'));
    }
    if (h.interface === 'lo') error(['hosts', i, 'interface'], msg.loopbackInterface());
    if (h.installDisk !== undefined) {
      const disk = installDiskKind(h.installDisk);
      if ('why' in disk) error(['hosts', i, 'installDisk'], msg.badInstallDisk(h.installDisk, disk.why));
      else if (disk.kind !== 'kernel' && t.os.startsWith('ubuntu')) error(['hosts', i, 'installDisk'], msg.installDiskLinkOnUbuntu(h.installDisk));
    }
    if (h.taints) {
      const seenTaints = new Map<string, number>();
      h.taints.forEach((taint, k) => {
        const key = `${taint.key}\u0000${taint.effect}`;
        if (seenTaints.has(key)) error(['hosts', i, 'taints', k], msg.duplicateTaint(taint.key, taint.effect, seenTaints.get(key)!));
        else seenTaints.set(key, k);
      });
    }
    const other = special.get(h.ip);
    if (other) error(['hosts', i, 'ip'], msg.addressClash(h.ip, other));
    if (h.role === 'load-balancer') {
      if (h.labels && Object.keys(h.labels).length) error(['hosts', i, 'labels'], msg.notANode('labels'));
      if (h.taints && h.taints.length) error(['hosts', i, 'taints'], msg.notANode('taints'));
    }
  });
}

function checkNetwork(t: Topology, error: Report): void {
  const n = t.network;
  const node = parseCidr(n.nodeSubnet);
  /** The subnet's own network and broadcast addresses can be neither a gateway nor a VIP. */
  const reserved = (ip: string): string | undefined =>
    ip === networkAddress(node) ? 'network' : ip === broadcastAddress(node) && node.prefix < 31 ? 'broadcast' : undefined;
  if (!cidrContains(node, n.gateway)) error(['network', 'gateway'], msg.outsideSubnet('gateway', n.gateway, n.nodeSubnet));
  else if (reserved(n.gateway)) error(['network', 'gateway'], msg.reservedAddress(n.gateway, reserved(n.gateway)!, 'the gateway'));
  const vip = t.apiEndpoint.vip?.address;
  if (vip !== undefined) {
    if (!cidrContains(node, vip)) error(['apiEndpoint', 'vip', 'address'], msg.outsideSubnet('VIP', vip, n.nodeSubnet));
    else if (reserved(vip)) error(['apiEndpoint', 'vip', 'address'], msg.reservedAddress(vip, reserved(vip)!, 'the API VIP'));
    else if (vip === n.gateway) error(['apiEndpoint', 'vip', 'address'], msg.addressClash(vip, 'the gateway'));
  }
  const nets: [string, string][] = [
    ['nodeSubnet', n.nodeSubnet],
    ['podSubnet', n.podSubnet],
    ['serviceSubnet', n.serviceSubnet],
  ];
  // 10.20.0.5/24 is an address, not a subnet: say which network was meant.
  for (const [field, text] of nets) {
    const c = parseCidr(text);
    if (ipToInt(text.split('/')[0]!) !== c.base) error(['network', field], msg.hostBits(field, text, `${networkAddress(c)}/${c.prefix}`));
  }
  for (let i = 0; i < nets.length; i++) {
    for (let j = i + 1; j < nets.length; j++) {
      const [a, ac] = nets[i]!;
      const [b, bc] = nets[j]!;
      if (cidrsOverlap(parseCidr(ac), parseCidr(bc))) error(['network', b], msg.subnetsOverlap(a, ac, b, bc));
    }
  }
  const pod = parseCidr(n.podSubnet);
  const nodes = t.hosts.filter((h) => h.role !== 'load-balancer').length;
  if (pod.prefix > 24 || 2 ** (24 - pod.prefix) < nodes) error(['network', 'podSubnet'], msg.podSubnetTooSmall(n.podSubnet, nodes));
  const service = parseCidr(n.serviceSubnet);
  if (service.prefix < 12) error(['network', 'serviceSubnet'], msg.serviceSubnetTooLarge(n.serviceSubnet));
  else if (2 ** (32 - service.prefix) <= DNS_SERVICE_INDEX) error(['network', 'serviceSubnet'], msg.serviceSubnetTooSmall(n.serviceSubnet));
  // Nodes resolve through these servers, and so does CoreDNS (it forwards to the node's
  // resolv.conf): a loopback or unspecified address, or one inside the cluster's own subnets, loops or goes nowhere.
  n.dns.forEach((ip, i) => {
    const first = Number(ip.split('.')[0]);
    if (first === 127) error(['network', 'dns', i], msg.badDnsServer(ip, 'a loopback address: on each node it would point at the node itself, and CoreDNS would forward to itself'));
    else if (ip === '0.0.0.0' || first === 0) error(['network', 'dns', i], msg.badDnsServer(ip, 'an unspecified address'));
    else if (cidrContains(node, ip)) return; // an overlap of node and pod/service subnets is reported above
    else if (cidrContains(pod, ip)) error(['network', 'dns', i], msg.badDnsServer(ip, `inside the pod subnet ${n.podSubnet}, which exists only inside the cluster`));
    else if (cidrContains(service, ip)) error(['network', 'dns', i], msg.badDnsServer(ip, `inside the service subnet ${n.serviceSubnet}, which exists only once the cluster runs`));
  });
}

/**
 * What the OS release and the pinned versions allow together (facts: src/topology/facts/os-facts.ts and
 * src/topology/facts/versions.ts). A cgroup v1 OS with a kubelet that refuses cgroup v1 is an error:
 * kubebake could switch the host to cgroup v2 (kernel argument, then a reboot in the middle of
 * first boot), but that reboot breaks cloud-init's single unattended run and leaves an EOL OS on a
 * path its vendor never shipped; refusing, with the fix named, is simpler and honest.
 */
function checkOsAndVersionFacts(t: Topology, error: Report, warn: Report): void {
  const minor = minorOf(t.kubernetes.version);
  const facts = OS_FACTS[t.os];
  if (facts.cgroup === 1 && kubeletRefusesCgroupV1(minor)) error(['os'], msg.cgroupV1Kubelet(t.os, minor));
  if (isSupportedMinor(minor) && !isCrioMaintainedMinor(minor)) warn(['kubernetes', 'version'], msg.crioEol(minor));
  if (isSupportedMinor(minor)) checkCniRelease(t, minor, error, warn);
}

/**
 * The CNI release against the Kubernetes minor: the one kubebake pins for the minor, or the
 * topology's cni.version. A CNI in REFUSES_UNTESTED_KUBERNETES gets only a release its project
 * tests against the minor (an error otherwise); the others warn.
 */
function checkCniRelease(t: Topology, minor: string, error: Report, warn: Report): void {
  const plugin = t.cni.plugin;
  const pinned = pinnedCniRelease(plugin, minor);
  const refuses = REFUSES_UNTESTED_KUBERNETES.has(plugin);
  if (t.cni.version === undefined && pinned === undefined) {
    return error(['cni', 'plugin'], msg.cniNoTestedRelease(plugin, minor, minorsWithTestedRelease(plugin, SUPPORTED_MINORS)));
  }
  const release = t.cni.version === undefined ? pinned : cniRelease(plugin, t.cni.version);
  const tested = release ? testedWith(release, minor) : undefined;
  if (refuses && t.cni.version !== undefined && tested !== true) {
    return error(['cni', 'version'], msg.cniVersionUntested(plugin, t.cni.version, minor, release?.testedKubernetes, pinned?.version));
  }
  const facts = OS_FACTS[t.os];
  if (release?.minKernel && !atLeast(facts.kernel, release.minKernel)) {
    warn(['cni', 'plugin'], msg.cniKernel(plugin, release.version, release.minKernel, t.os, facts.kernel));
  }
  if (release && tested === false) warn(['cni', 'plugin'], msg.cniUntested(plugin, release.version, minor, release.testedKubernetes!));
}
