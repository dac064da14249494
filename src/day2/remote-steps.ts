// The steps day-2 commands run on hosts over SSH (src/remote/), each returning diagnostics
// instead of throwing: reachability, the load balancers' haproxy.cfg, kubeadm reset, and the
// check (and, when needed, the removal) of an etcd member from another control plane.
import { renderHaproxyCfg } from '../config/haproxy/haproxy-cfg.js';
import { problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { CRI_SOCKET, loadBalancers, type ClusterPlan } from '../plan/plan.js';
import { lastLines, runRemote, SSH_FAILED, type RemoteHost, type RemoteResult, type SshAccess } from '../remote/ssh.js';

export type Log = (line: string) => void;


/** The diagnostic for a remote command that did not succeed. */
function failure(ssh: SshAccess, host: RemoteHost, what: string, r: RemoteResult, leaving = false): Diagnostic {
  if (r.status === SSH_FAILED) return problem(msg.sshFailed(host.name, host.address, ssh.user, lastLines(r.stderr) || 'ssh failed', leaving));
  return problem(msg.remoteFailed(host.name, what, r.status, lastLines(r.stderr || r.stdout)));
}

/** Checks that each host answers over SSH and that sudo works there, before anything changes. */
export async function reachable(ssh: SshAccess, hosts: { host: RemoteHost; leaving?: boolean }[]): Promise<Diagnostic[]> {
  const results = await Promise.all(hosts.map(async ({ host, leaving }) => ({ host, leaving, r: await runRemote(ssh, host, 'true') })));
  return results.filter(({ r }) => r.status !== 0).map(({ host, leaving, r }) => failure(ssh, host, 'sudo -n true', r, leaving));
}

/** The load balancers of the plan, as SSH targets. */
export const loadBalancerHosts = (plan: ClusterPlan): RemoteHost[] => loadBalancers(plan).map((n) => ({ name: n.name, address: n.ip }));

/**
 * Gives every load balancer the haproxy.cfg of the topology, one after the other: each checks it
 * with haproxy -c, installs it and reloads HAProxy without dropping connections
 * (src/remote/sh/haproxy-install.sh). Stops at the first that fails, so the others keep theirs.
 */
export async function updateLoadBalancers(plan: ClusterPlan, ssh: SshAccess, log: Log): Promise<Diagnostic[]> {
  const cfg = renderHaproxyCfg(plan);
  for (const lb of loadBalancerHosts(plan)) {
    const r = await runRemote(ssh, lb, 'haproxy-install', [HOST_PATHS.haproxyStaged], cfg);
    if (r.status === 3) return [problem(msg.haproxyRefused(lb.name, lastLines(r.stderr, 5)))];
    if (r.status !== 0) return [failure(ssh, lb, 'installing haproxy.cfg', r)];
    log(r.stdout.trim() === 'unchanged' ? `${lb.name}: haproxy.cfg already current` : `${lb.name}: haproxy.cfg checked, installed, HAProxy reloaded`);
  }
  return [];
}

/** `kubeadm reset` on the leaving node (src/remote/sh/kubeadm-reset.sh); its output goes to the log. */
export async function resetNode(ssh: SshAccess, host: RemoteHost, log: Log): Promise<Diagnostic[]> {
  const r = await runRemote(ssh, host, 'kubeadm-reset');
  if (r.status !== 0) return [failure(ssh, host, 'kubeadm reset', r, true)];
  for (const line of r.stdout.split('\n').filter((l) => /^\[reset\]|WARNING|W\d{4} /.test(l))) log(`${host.name}: ${line.trim()}`);
  log(`${host.name}: kubeadm reset done`);
  return [];
}

/**
 * Makes sure the etcd member with peer URL https://<address>:2380 (kubeadm's) is gone, on another
 * control plane: kubeadm reset removes it, but only warns when it cannot; an unreachable node was
 * never reset. Removes it there if it is still listed (src/remote/sh/etcd-member-remove.sh).
 */
export async function ensureEtcdMemberGone(ssh: SshAccess, on: RemoteHost, name: string, address: string, log: Log): Promise<Diagnostic[]> {
  const peer = `https://${address}:2380`;
  const r = await runRemote(ssh, on, 'etcd-member-remove', [peer, CRI_SOCKET]);
  if (r.status !== 0) return [failure(ssh, on, `removing the etcd member of ${name} (${peer})`, r)];
  const out = r.stdout.trim();
  if (out === 'absent') log(`etcd: ${name} (${peer}) is no member any more (checked on ${on.name})`);
  else if (/^removed [0-9a-f]+$/.test(out)) log(`etcd: member ${out.slice(8)} of ${name} (${peer}) removed on ${on.name}`);
  else return [problem(msg.etcdMemberStays(name, peer, on.name))];
  return [];
}
