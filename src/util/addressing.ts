// IPv4 arithmetic for subnets and addresses; the schema has already checked the syntax.

export interface Cidr { base: number; prefix: number; text: string }

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCidr(text: string): Cidr {
  const [ip, prefix] = text.split('/');
  const p = Number(prefix);
  const size = 2 ** (32 - p);
  // Normalise to the network address: 10.2.47.80/24 means the network 10.2.47.0/24.
  return { base: Math.floor(ipToInt(ip!) / size) * size, prefix: p, text };
}

export const cidrSize = (c: Cidr): number => 2 ** (32 - c.prefix);
export const cidrContains = (c: Cidr, ip: string): boolean => {
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + cidrSize(c);
};
export const cidrsOverlap = (a: Cidr, b: Cidr): boolean => a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
export const networkAddress = (c: Cidr): string => intToIp(c.base);
export const broadcastAddress = (c: Cidr): string => intToIp(c.base + cidrSize(c) - 1);
/** First usable address of a service subnet: kube-apiserver gives it to the `kubernetes` Service. */
export const firstHostAddress = (c: Cidr): string => intToIp(c.base + 1);

/**
 * MACs for hosts that name neither `mac` nor `interface`. network-config must match exactly one
 * NIC (a name pattern such as e* would give every Ethernet NIC of a multi-NIC host the same
 * static address), so such a host gets a MAC of its own: 52:54:00 (the prefix libvirt and QEMU
 * require for a fixed MAC; see virt-install(1) --network mac) and three bytes of
 * sha256(cluster/host), stepped on past any MAC already in use. The delivery recipes set it on
 * the VM's NIC; on other machines the operator must, or give `mac`/`interface` instead.
 * Deterministic: the same topology always assigns the same MACs.
 */
export function assignedMacs(clusterName: string, hosts: readonly { name: string; mac?: string; interface?: string }[]): Map<string, string> {
  const taken = new Set(hosts.flatMap((h) => (h.mac ? [h.mac] : [])));
  const out = new Map<string, string>();
  for (const h of hosts) {
    if (h.mac !== undefined || h.interface !== undefined) continue;
    for (let attempt = 0; ; attempt++) {
      // node:crypto loads on first use: most topologies name every MAC, and loading it costs
      // 5 ms of each `kubebake validate` start.
      const digest = process.getBuiltinModule('node:crypto').hash('sha256', `${clusterName}/${h.name}/${attempt}`, 'buffer');
      const mac = ['52', '54', '00', ...[0, 1, 2].map((i) => digest[i]!.toString(16).padStart(2, '0'))].join(':');
      if (taken.has(mac)) continue;
      taken.add(mac);
      out.set(h.name, mac);
      break;
    }
  }
  return out;
}
