// Whether taking one control plane (and so its stacked etcd member: kubeadm runs one etcd per
// control plane, named after the node) out of the cluster keeps etcd working. etcd commits a
// change, a member removal included, only with a quorum of (n/2)+1 of its n members
// (etcd-io/website content/en/docs/v3.5/faq.md, "Why an odd number of cluster members?", "Should I
// add a member before removing an unhealthy member?", and "Why won't etcd accept my membership
// changes?": strict-reconfig-check refuses a change that would lose quorum): the removal needs a
// quorum of the members before it, and the cluster after it a quorum of the members left.
import { msg, type Message } from '../diagnostics/messages.js';

export const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

export interface ControlPlaneHealth { name: string; healthy: boolean }

/**
 * Why `leaving` cannot go (a message with the fix), or undefined when it can. `members`: every
 * control plane of the running cluster, `leaving` included when the cluster still has it.
 */
export function removalRefusal(leaving: string, members: readonly ControlPlaneHealth[]): Message | undefined {
  const others = members.filter((m) => m.name !== leaving);
  const self = members.find((m) => m.name === leaving);
  if (!self) return undefined; // not a member: nothing of etcd changes
  if (others.length === 0) return msg.lastControlPlane(leaving);
  const healthyBefore = members.filter((m) => m.healthy).length;
  if (healthyBefore < quorumOf(members.length)) {
    return msg.quorumAlreadyLost(members.length, members.filter((m) => !m.healthy).map((m) => m.name));
  }
  const healthyAfter = others.filter((m) => m.healthy).length;
  if (healthyAfter < quorumOf(others.length)) {
    return msg.quorumWouldBeLost(leaving, others.length, quorumOf(others.length), others.filter((m) => !m.healthy).map((m) => m.name));
  }
  return undefined;
}
