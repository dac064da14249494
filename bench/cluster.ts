// The bench's clusters: the HA profile grown to n hosts (5 control planes, 2 load balancers
// sharing a VIP, the rest workers) in a /16 node subnet. Its ingress frontends go to three
// labelled workers, as the render's warning advises beyond 64 (topology/ingress-backends.ts).
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

export function bigTopology(hosts: number): string {
  const doc = parse(readFileSync(new URL('../../profiles/ubuntu-26-04-ha.yaml', import.meta.url), 'utf8'));
  doc.name = 'bench';
  doc.network.nodeSubnet = '10.32.0.0/16';
  doc.network.gateway = '10.32.0.1';
  doc.network.podSubnet = '10.128.0.0/10'; // a /24 per node
  doc.apiEndpoint.vip.address = '10.32.0.100';
  const workers = hosts - 7;
  const INGRESS = { 'node-role.kubernetes.io/ingress': '' };
  for (const f of doc.ingress) f.nodeSelector = INGRESS;
  doc.hosts = [
    ...[1, 2, 3, 4, 5].map((i) => ({ name: `cp${i}`, role: 'control-plane', ip: `10.32.0.${10 + i}` })),
    ...Array.from({ length: workers }, (_, i) => ({
      name: `worker${i + 1}`,
      role: 'worker',
      ip: `10.32.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
      ...(i < 3 ? { labels: INGRESS } : {}),
    })),
    { name: 'lb1', role: 'load-balancer', ip: '10.32.0.8', interface: 'ens18' },
    { name: 'lb2', role: 'load-balancer', ip: '10.32.0.9', interface: 'ens18' },
  ];
  return stringify(doc);
}
