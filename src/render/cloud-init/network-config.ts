import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import { parseCidr } from '../../plan/addressing.js';
import { toYaml11 } from '../../util/yaml.js';

/**
 * Network config version 2 (netplan syntax, rendered by cloud-init on Ubuntu and Debian alike):
 * the static address, default route and DNS. The NIC is matched by MAC when the topology gives
 * one (names differ between hypervisors), else by its name, else the first Ethernet-looking NIC.
 *
 * No `set-name`: with a MAC match and per-NIC nameservers, cloud-init's own network-state
 * parser (Debian 12's 22.4, and upstream since) raises KeyError whenever the NIC's current name
 * differs from set-name, and the host comes up without its network. The sandboxed first-boot
 * test hit exactly that. A topology's `interface` is the name the NIC has; the load balancer's
 * first boot checks it exists before keepalived is started on it.
 */
export function networkConfigObject(plan: ClusterPlan, node: NodePlan): object {
  const prefix = parseCidr(plan.network.nodeSubnet).prefix;
  const id = node.interface ?? 'primary';
  const match = node.mac
    ? { match: { macaddress: node.mac } }
    : node.interface
      ? {}
      : { match: { name: 'e*' } };
  return {
    version: 2,
    ethernets: {
      [id]: {
        ...match,
        dhcp4: false,
        dhcp6: false,
        addresses: [`${node.ip}/${prefix}`],
        // 0.0.0.0/0 rather than `default`: older cloud-init renderers only know the former.
        routes: [{ to: '0.0.0.0/0', via: plan.network.gateway }],
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
