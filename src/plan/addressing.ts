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
