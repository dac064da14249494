import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import { parseCidr } from '../../util/addressing.js';
import { toYaml11 } from '../../util/yaml.js';
import { defaultRouteNeedsGateway4 } from '../../topology/facts/os-facts.js';

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
 * The default route is a `routes:` entry to 0.0.0.0/0, except where the OS's cloud-init may
 * render with eni before 25.3 (Debian 12): there it is `gateway4` (defaultRouteNeedsGateway4 in
 * src/topology/facts/os-facts.ts, which cites the renderers each OS uses). cloud-init turns v2 into
 * its network state first (cloudinit/net/network_state.py `_v2_to_v1_ipcfg`: gateway4 becomes the
 * subnet's `gateway`, routes become subnet `routes`), then each renderer writes it; measured with
 * net-convert of cloud-init 20.1, 22.1, 22.4.2, 24.1.3, 25.3 and 26.1 (canonical/cloud-init tags):
 * - eni (ifupdown, a Debian-installer machine): a subnet gateway becomes the stanza's `gateway`
 *   line, which ifupdown applies with ip(8). A route becomes `post-up route add default gw … ||
 *   true` before 25.3, which needs net-tools' route(8), not installed on Debian 12, and fails
 *   silently: the host had no default route (issue 8, defect 7). From 25.3 it is `post-up ip route
 *   add default via …` (where ip exists).
 * - networkd (22.1 on; 20.1 has no networkd renderer): gateway4 and a route both become a [Route]
 *   with `Gateway=` (the route with `Destination=0.0.0.0/0`).
 * - netplan (every Ubuntu): cloud-init hands v2 to netplan as written; netplan writes either as a
 *   [Route] with Gateway=, and warns that gateway4 "has been deprecated, use default routes".
 * `to: 0.0.0.0/0`, not netplan's `to: default`: cloud-init reads `default` only from 25.3 ("Add
 * 'to: default' support in network state", d2f422d17493c8cef443c0262184d93c900f716a); 22.4.2 and
 * 24.1.3 raise ValueError on it, 20.1 and 22.1 turn it into a route to "default/24".
 * The VM tests boot Debian 12 with ifupdown and with netplan + networkd and read the route back.
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
        ...(defaultRouteNeedsGateway4(plan.os.facts) ? { gateway4: plan.network.gateway } : { routes: [{ to: '0.0.0.0/0', via: plan.network.gateway }] }),
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
