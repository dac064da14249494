// The host firewall as an nftables ruleset of kubebake's own table. It filters only what reaches
// the host itself (the input hook) and never forwarded traffic, so the CNI's and kube-proxy's
// rules stay the only ones deciding about pods' packets. ufw and firewalld are not used: Calico's
// requirements ask that no other iptables manager runs beside it ("If your Linux distribution
// comes with installed Firewalld or another iptables manager it should be disabled", Calico
// docs, getting-started/kubernetes/requirements), and both rewrite chains the CNI owns.
import type { NodePlan, PortRule } from '../plan/plan.js';

export const FIREWALL_TABLE = 'inet kubebake';

/** Rules with the same protocol and source become one rule over a set of ports. */
function grouped(rules: readonly PortRule[]): { proto: PortRule['proto']; from?: string; ports: string[]; why: string[] }[] {
  const groups = new Map<string, { proto: PortRule['proto']; from?: string; ports: string[]; why: string[] }>();
  for (const r of rules) {
    const key = `${r.proto} ${r.from ?? ''} ${r.port === undefined}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { proto: r.proto, from: r.from, ports: [], why: [] }));
    if (r.port !== undefined) g.ports.push(r.port);
    g.why.push(r.why);
  }
  return [...groups.values()];
}

function rule(g: ReturnType<typeof grouped>[number]): string {
  const from = g.from ? `ip saddr ${g.from} ` : '';
  const ports = g.ports.length === 1 ? g.ports[0] : `{ ${g.ports.join(', ')} }`;
  const match = g.proto === 'vrrp' ? 'ip protocol 112 ' : g.proto === 'any' ? '' : `${g.proto} dport ${ports} `;
  // A comment line, not an nft `comment` (which the kernel caps at 128 bytes).
  return `    # ${g.why.join(', ')}\n    ${from}${match}accept`;
}

/**
 * Loading the file replaces the table and touches nothing else: the first two lines make sure it
 * exists, then delete it, so a reload never stacks rules (and never flushes the CNI's tables,
 * as the distributions' own /etc/nftables.conf with its `flush ruleset` would).
 */
export function renderFirewallRuleset(node: NodePlan): string {
  return `# Host firewall of a ${node.role}: its role's and the CNI's ports. Loading it replaces table ${FIREWALL_TABLE} only.
table ${FIREWALL_TABLE}
delete table ${FIREWALL_TABLE}
table ${FIREWALL_TABLE} {
  chain input {
    type filter hook input priority filter + 10; policy drop;
    ct state established,related accept
    ct state invalid drop
    iifname "lo" accept
    meta l4proto { icmp, ipv6-icmp } accept
${grouped(node.firewall).map(rule).join('\n')}
  }
}
`;
}

/** Loads the table at every boot, before the network comes up. */
export function renderFirewallUnit(rulesetPath: string): string {
  return `[Unit]
Description=kubebake host firewall (nftables table ${FIREWALL_TABLE})
DefaultDependencies=no
ConditionPathExists=${rulesetPath}
Wants=network-pre.target
Before=network-pre.target shutdown.target
Conflicts=shutdown.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f ${rulesetPath}
ExecStop=/usr/sbin/nft delete table ${FIREWALL_TABLE}
[Install]
WantedBy=sysinit.target
`;
}
