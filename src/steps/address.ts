import { HOST_PATHS } from '../plan/host-paths.js';
import { WAIT_FOR } from './helpers.js';
import type { Step } from './step.js';

/** How long first boot waits for the host's address (its unit starts after network-online.target: a margin for a slow DHCP). */
export const ADDRESS_WAIT_SECONDS = 30;

/** The host's own address as the address step reads it (a file of the host's, so the step is the same everywhere). */
export const renderAddressFile = (ip: string): string => `${ip}\n`;

/**
 * The host must have its topology address before anything else runs: kubeadm advertises it,
 * kubelet's node-ip and HAProxy's binds name it. A host given network-config has it from
 * cloud-init; a host given only its user-data (a platform's single user-data box) has the
 * platform's network, and a host whose NIC network-config did not match (another MAC) has
 * DHCP's or none. Rather than fail later with "cannot assign requested address", say here which
 * address is missing and what the host has. The same on every host, so a baked image carries it.
 */
export const ADDRESS_STEP: Step = {
  name: 'address',
  purpose: "Checks the host has its topology address (a platform's network must give it).",
  helpers: [WAIT_FOR],
  body: `want=$(cat ${HOST_PATHS.address})
has_address() { ip -o -4 addr show | awk '{ sub("/.*", "", $4); print $4 }' | grep -qxF "$want"; }
if ! wait_for ${ADDRESS_WAIT_SECONDS} address has_address 2>/dev/null; then
  echo "$want (hosts[].ip in the topology) is on no interface; this host has: $(ip -o -4 addr show scope global | awk '{ print $2 " " $4 }' | paste -sd ' ' -) - attach its network-config, or give it that address on the platform" >&2
  exit 1
fi`,
};
