// Taking one node out of a running cluster, the part `node remove` and `node replace` share, in
// the order kubeadm documents for removing a node (kubernetes/website content/en/docs/setup/
// production-environment/tools/kubeadm/create-cluster-kubeadm.md, "Remove the node": drain,
// `kubeadm reset` on the node, then delete the Node), with what an HA cluster adds around it:
//  1. refusals before anything changes: the last control plane, a removal that would cost etcd
//     its quorum (src/day2/quorum.ts); every host the steps need must answer over SSH;
//  2. the load balancers get the topology's haproxy.cfg (the node is already out of the topology,
//     or keeps its place under a new machine), so no new client is sent to it;
//  3. cordon and drain through the Eviction API (src/api/drain.ts);
//  4. `kubeadm reset` on the node: it removes a control plane's etcd member and stops the kubelet,
//     so the Node deleted next is not registered again;
//  5. for a control plane, on another control plane: the member is checked gone, and removed if
//     reset could not (it only warns) or the node was unreachable;
//  6. the Node object is deleted.
// Every step is safe to repeat, so a run that stopped is finished by running the command again.
import { isControlPlane, internalIp, isReady, type KubeClient, type NodeObject } from '../api/cluster-objects.js';
import { drainNode } from '../api/drain.js';
import { problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import { controlPlanes, type ClusterPlan } from '../plan/plan.js';
import type { RemoteHost, SshAccess } from '../remote/ssh.js';
import type { Host } from '../topology/types.js';
import { removalRefusal } from './quorum.js';
import { ensureEtcdMemberGone, loadBalancerHosts, reachable, resetNode, updateLoadBalancers, type Log } from './remote-steps.js';

export interface TakeOutOptions {
  client: KubeClient;
  ssh: SshAccess;
  /** Drain deadline, ms since the epoch. */
  drainDeadline: number;
  evictUnmanaged: boolean;
  /** The machine is gone: nothing runs on it (no reset); its etcd member goes from another control plane. */
  unreachable: boolean;
  log: Log;
  /** Drain pauses, for tests (kubectl's 5 s and 1 s by default). */
  retryMs?: number;
  pollMs?: number;
}

/** The outcome: done (with what happened), or the problems that stopped it. */
export type TakeOutResult = { done: true; nodeExisted: boolean } | { done: false; diagnostics: Diagnostic[] };

const stop = (diagnostics: Diagnostic[]): TakeOutResult => ({ done: false, diagnostics });

/** Whether a control plane's etcd member serves: its Node is Ready and its etcd pod (kubeadm's static pod, etcd-<node>) is ready. */
async function etcdHealthy(client: KubeClient, node: NodeObject): Promise<boolean> {
  if (!isReady(node)) return false;
  const pod = await client.pod('kube-system', `etcd-${node.metadata.name}`);
  return pod !== undefined && isReady(pod);
}

/**
 * Takes `name` out of the cluster. `plan` is the topology as it will be afterwards (without the
 * node for a removal, with its new machine for a replacement); `inTopology` is its host there, if any.
 * Throws only DiagnosticError (from the API client), which the CLI prints.
 */
export async function takeOut(plan: ClusterPlan, name: string, inTopology: Host | undefined, o: TakeOutOptions): Promise<TakeOutResult> {
  const { client, ssh, log } = o;
  const node = await client.node(name);
  const nodes = node ? await client.nodes() : [];
  const controlPlane = node ? isControlPlane(node) : inTopology?.role === 'control-plane';
  if (node && inTopology && (inTopology.role === 'control-plane') !== controlPlane) {
    return stop([problem(msg.roleMismatch(name, controlPlane ? 'control plane' : 'worker', inTopology.role))]);
  }
  // The machine that leaves is the one the cluster knows (a replacement may come at a new address).
  const address = (node && internalIp(node)) ?? inTopology?.ip;

  // 1. Refusals, before anything changes.
  let peer: RemoteHost | undefined;
  if (controlPlane) {
    const cps = nodes.filter(isControlPlane);
    const health = await Promise.all(cps.map(async (n) => ({ name: n.metadata.name, healthy: await etcdHealthy(client, n), node: n })));
    const refusal = node ? removalRefusal(name, health) : undefined;
    if (refusal) return stop([problem(refusal)]);
    // Another control plane to check the etcd member list on: a healthy one, in topology order.
    const order = controlPlanes(plan).map((n) => n.name);
    const candidates = health.filter((h) => h.name !== name && h.healthy).sort((a, b) => rank(order, a.name) - rank(order, b.name));
    const first = candidates[0];
    const firstAddress = first && (internalIp(first.node) ?? plan.nodes.find((n) => n.name === first.name)?.ip);
    if (node && first && firstAddress) peer = { name: first.name, address: firstAddress };
    if (!peer && node) return stop([problem(msg.noHealthyControlPlane(name))]);
  }
  const leaving: RemoteHost | undefined = address && !o.unreachable ? { name, address } : undefined;
  const unreachableHosts = await reachable(ssh, [
    ...loadBalancerHosts(plan).map((host) => ({ host })),
    ...(leaving ? [{ host: leaving, leaving: true }] : []),
    ...(peer ? [{ host: peer }] : []),
  ]);
  if (unreachableHosts.length) return stop(unreachableHosts);

  // 2. The load balancers follow the topology.
  const lbs = await updateLoadBalancers(plan, ssh, log);
  if (lbs.length) return stop(lbs);
  if (!node) {
    log(`the cluster has no Node ${name}: nothing to drain, reset or delete`);
    return { done: true, nodeExisted: false };
  }

  // 3. Cordon and drain.
  await drainNode(client, name, { deadline: o.drainDeadline, evictUnmanaged: o.evictUnmanaged, log, retryMs: o.retryMs, pollMs: o.pollMs });

  // 4. kubeadm reset on the node.
  if (leaving) {
    const reset = await resetNode(ssh, leaving, log);
    if (reset.length) return stop(reset);
  } else log(`${name}: not reset (--unreachable): switch the machine off for good before it comes back`);

  // 5. Its etcd member, checked (and removed if needed) from another control plane.
  if (controlPlane && peer && address) {
    const etcd = await ensureEtcdMemberGone(ssh, peer, name, address, log);
    if (etcd.length) return stop(etcd);
  }

  // 6. The Node object.
  await client.deleteNode(name);
  log(`Node ${name} deleted`);
  return { done: true, nodeExisted: true };
}

const rank = (order: string[], name: string): number => (order.includes(name) ? order.indexOf(name) : order.length);
