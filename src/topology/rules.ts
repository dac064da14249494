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
} from '../plan/addressing.js';
import { isMaintainedMinor, isSupportedMinor, minorOf, OS, SUPPORTED_MINORS } from '../plan/versions.js';
import type { OverridableCheck, Topology } from './types.js';

const NODEPORT_MIN = 30000;
const NODEPORT_MAX = 32767;

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
  for (const [name, mac] of assignedMacs(t.name, t.hosts)) {
    warn(['hosts', t.hosts.findIndex((h) => h.name === name)], msg.assignedMac(name, mac));
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
    if (names.has(f.name)) error(['ingress', i, 'name'], msg.duplicateName('ingress', f.name));
    names.add(f.name);
    const clash = ports.get(f.port);
    if (clash) error(['ingress', i, 'port'], msg.portClash(f.port, clash));
    else ports.set(f.port, `ingress "${f.name}"`);
    if (f.nodePort < NODEPORT_MIN || f.nodePort > NODEPORT_MAX) error(['ingress', i, 'nodePort'], msg.nodePortRange(f.nodePort));
    if (f.targets === 'workers' && workers.length === 0) error(['ingress', i, 'targets'], msg.ingressNoWorkers(f.name));
  });

  // --- versions ------------------------------------------------------------------------------
  const minor = minorOf(t.kubernetes.version);
  if (!isSupportedMinor(minor)) error(['kubernetes', 'version'], msg.unsupportedKubernetes(t.kubernetes.version, SUPPORTED_MINORS));
  else if (!isMaintainedMinor(minor)) warn(['kubernetes', 'version'], msg.kubernetesEol(minor));
  if (t.kubernetes.crio !== undefined && minorOf(t.kubernetes.crio) !== minor) {
    error(['kubernetes', 'crio'], msg.crioMinor(t.kubernetes.crio, t.kubernetes.version));
  }
  if (OS[t.os].eol) warn(['os'], msg.osEol(t.os));
  if (t.cni.plugin === 'weave') warn(['cni', 'plugin'], msg.weave());
  if (t.access.sshAuthorizedKeys.length === 0) warn(['access'], msg.noSshKeys());

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
  if (parseCidr(n.serviceSubnet).prefix < 12) error(['network', 'serviceSubnet'], msg.serviceSubnetTooLarge(n.serviceSubnet));
}
