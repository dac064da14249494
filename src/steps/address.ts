import type { NodePlan } from '../plan/plan.js';
import { WAIT_FOR } from './helpers.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/** How long first boot waits for the host's address to appear (a platform's DHCP can be slow). */
export const ADDRESS_WAIT_SECONDS = 120;

/**
 * The host must have its topology address before anything else runs: kubeadm advertises it,
 * kubelet's node-ip and HAProxy's binds name it. A host given network-config has it from
 * cloud-init; a host given only its user-data (a platform's single user-data box) has the
 * platform's network, and a host whose NIC network-config did not match (another MAC) has
 * DHCP's or none. Rather than fail later with "cannot assign requested address", say here which
 * address is missing and what the host has.
 */
export function addressStep(node: Pick<NodePlan, 'ip'>): Step {
  const ip = q(node.ip);
  return {
    name: 'address',
    purpose: "Checks the host has its topology address (a platform's network must give it).",
    helpers: [WAIT_FOR],
    body: `has_address() { ip -o -4 addr show | awk '{ sub("/.*", "", $4); print $4 }' | grep -qxF "$1"; }
if ! wait_for ${ADDRESS_WAIT_SECONDS} address has_address ${ip} 2>/dev/null; then
  echo ${q(`${node.ip} (hosts[].ip in the topology) is on no interface; this host has:`)} "$(ip -o -4 addr show scope global | awk '{ print $2 " " $4 }' | paste -sd ' ' -)" ${q('- attach its network-config, or give it that address on the platform')} >&2
  exit 1
fi`,
  };
}
