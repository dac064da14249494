import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import { parseCidr } from '../../util/addressing.js';
import { toYaml11 } from '../../util/yaml.js';

/**
 * Network config version 2 (netplan syntax, rendered by cloud-init on Ubuntu and Debian alike):
 * the static address, default route and DNS on exactly one NIC. It is matched by MAC when the
 * plan has one (names differ between hypervisors; a host that names neither mac nor interface
 * gets a MAC assigned by the plan), else by the topology's interface name. Never by a name
 * pattern: `e*` gave every Ethernet NIC of a multi-NIC host the same static address.
 *
 * No `set-name`: with a MAC match and per-NIC nameservers, cloud-init's own network-state
 * parser (Debian 12's 22.4, and upstream since) raises KeyError whenever the NIC's current name
 * differs from set-name, and the host comes up without its network. The sandboxed first-boot
 * test hit exactly that. A topology's `interface` is the name the NIC has; the load balancer's
 * first boot checks it exists before keepalived is started on it.
 *
 * The default route is `gateway4`, not a `routes:` entry to 0.0.0.0/0. cloud-init turns v2 into
 * its network state first (canonical/cloud-init cloudinit/net/network_state.py @
 * 00db5dcbf01ca89cca2e546e03b61fc84053395d, `_v2_common`/subnet building: gateway4 becomes the
 * subnet's `gateway`, routes become subnet `routes`), then each renderer writes it:
 * - eni (ifupdown, a Debian-installer machine; cloudinit/net/eni.py @
 *   003c6678e9c873b3b787a814016872b6592f5069): the subnet gateway becomes the stanza's
 *   `gateway` line, which ifupdown applies with `ip route`; a route becomes
 *   `post-up route add default gw … || true`, which needs net-tools' `route` (not installed on
 *   Debian 12) and fails silently — the host had no default route (issue 8, defect 7).
 * - networkd (cloudinit/net/networkd.py @ 70eb9cc49db1532bf99961d43f2660b8994c1219): the subnet
 *   gateway becomes `Gateway=` in [Network].
 * - netplan (Ubuntu): cloud-init hands v2 to netplan as written; netplan still reads gateway4
 *   (it calls it deprecated in favour of routes, and warns) and writes the same `Gateway=`.
 * Debian 12's cloud-init 22.4.2 has the same code paths. The VM tests boot both ifupdown and
 * netplan + networkd and read the route back from the guest.
 */
export function networkConfigObject(plan: ClusterPlan, node: NodePlan): object {
  const prefix = parseCidr(plan.network.nodeSubnet).prefix;
  if (!node.mac && !node.interface) throw new Error(`host ${node.name} has neither a MAC nor an interface in the plan`);
  const id = node.interface ?? 'primary';
  const match = node.mac ? { match: { macaddress: node.mac } } : {};
  return {
    version: 2,
    ethernets: {
      [id]: {
        ...match,
        dhcp4: false,
        dhcp6: false,
        addresses: [`${node.ip}/${prefix}`],
        gateway4: plan.network.gateway,
        nameservers: {
          addresses: plan.network.dns,
          ...(plan.network.searchDomain ? { search: [plan.network.searchDomain] } : {}),
        },
      },
    },
  };
}

export function renderNetworkConfig(plan: ClusterPlan, node: NodePlan): string {
  return toYaml11(networkConfigObject(plan, node));
}
