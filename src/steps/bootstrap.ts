import { controlPlanes, type ClusterPlan, type NodePlan } from '../plan/plan.js';
import { API_SERVER_PORT } from '../topology/facts/kubeadm.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { splitLabels } from '../plan/labels.js';
import { SHARED_PKI } from '../plan/secrets.js';
import { cniInstall } from './cni.js';
import { WAIT_FOR } from './helpers.js';
import { q } from './shell.js';
import { proxyExports } from './sources.js';
import type { Step } from './step.js';

const { kubeadmConfig, pkiStaging, kubernetesPki, clusterEnv } = HOST_PATHS;

/**
 * The settings every kubeadm step reads, in a file of their own: a worker's step is then the same
 * on every worker of every cluster, so a baked image carries it and the user-data does not.
 */
export function renderClusterEnv(plan: ClusterPlan): string {
  return `ENDPOINT=${q(plan.endpoint.hostPort)} BUDGET=${plan.bootstrap.apiWaitSeconds} ATTEMPTS=${plan.bootstrap.joinAttempts}\n`;
}

/** Folders of kubeadm's pki folder the shared PKI has files in (etcd/). */
const PKI_SUBFOLDERS = [...new Set(SHARED_PKI.filter((f) => f.host.includes('/')).map((f) => f.host.slice(0, f.host.lastIndexOf('/'))))];

/** Copies the shipped shared PKI to where kubeadm looks, so it reuses the cluster's CAs. */
const INSTALL_PKI = `install_pki() {
  local f
  install -d -m 0755 ${kubernetesPki}
${PKI_SUBFOLDERS.map((d) => `  install -d -m 0700 ${kubernetesPki}/${d}\n`).join('')}  for f in ${SHARED_PKI.filter((f) => !f.secret).map((f) => f.host).join(' ')}; do install -m 0644 "${pkiStaging}/$f" "${kubernetesPki}/$f"; done
  for f in ${SHARED_PKI.filter((f) => f.secret).map((f) => f.host).join(' ')}; do install -m 0600 "${pkiStaging}/$f" "${kubernetesPki}/$f"; done
}`;

/** What of a node the kubeadm step depends on (the rest is in cluster.env and kubeadm.yaml). */
type StepNode = Pick<NodePlan, 'role' | 'initNode' | 'ordinal'>;

/** Settings and functions of the kubeadm step; the admin's kubeconfig only where kubeadm writes one. */
function common(plan: ClusterPlan, node: StepNode): string {
  const lines = [
    `. ${clusterEnv}`,
    `api_ready() { curl -ksf --max-time 5 "https://$1/readyz" >/dev/null; }`,
  ];
  if (node.initNode) lines.push(`lb_listening() { timeout 5 bash -c ': </dev/tcp/"$1"/"$2"' _ ${q(plan.endpoint.address)} ${plan.endpoint.port} 2>/dev/null; }`);
  if (node.role === 'control-plane') {
    lines.push(`admin_kubeconfig() {
  local user=${q(plan.access.adminUser)} home
  home=$(getent passwd "$user" | cut -d: -f6)
  [ -n "$home" ] || return 0
  install -d -m 0700 -o "$user" -g "$user" "$home/.kube"
  install -m 0600 -o "$user" -g "$user" ${HOST_PATHS.adminConf} "$home/.kube/config"
}`, INSTALL_PKI);
  }
  return lines.join('\n');
}

/** Labels kubelet may not set itself (node-role.kubernetes.io/…), per node that has any. */
export function adminLabels(plan: ClusterPlan): { node: string; labels: [string, string][] }[] {
  return plan.nodes
    .map((n) => ({ node: n.name, labels: Object.entries(splitLabels(n.labels).admin) }))
    .filter((x) => x.labels.length > 0);
}

/**
 * Applies the labels kubelet may not set itself, as each node joins; started by the first control
 * plane's bootstrap with systemd-run, so it outlives first boot.
 */
export function labelNodesStep(plan: ClusterPlan): Step | undefined {
  const wanted = adminLabels(plan);
  if (!wanted.length) return undefined;
  const lines = wanted.map(({ node, labels }) => `  label_node ${q(node)} ${labels.map(([k, v]) => q(`${k}=${v}`)).join(' ')}`);
  return {
    name: 'label-nodes',
    purpose: 'Node labels kubelet may not set itself, as each node joins (systemd-run by bootstrap).',
    helpers: [],
    body: `export KUBECONFIG=${HOST_PATHS.adminConf}
deadline=$((SECONDS + ${plan.bootstrap.apiWaitSeconds + 3600}))
pending=0
label_node() {
  kubectl get node "$1" >/dev/null 2>&1 && kubectl label node "$@" --overwrite >/dev/null && return 0
  pending=1
}
while (( SECONDS < deadline )); do
  pending=0
${lines.join('\n')}
  (( pending == 0 )) && exit 0
  sleep 20
done
echo "some nodes never joined; labels not applied to them" >&2
exit 1`,
  };
}

/**
 * Whether kubeadm finished on this host: a marker made after it exited 0. Its own files are no
 * evidence: /etc/kubernetes/kubelet.conf, for one, is written by init's kubeconfig phase and by a
 * join's kubelet TLS bootstrap, before most of what the cluster needs (kubeadm's phase order:
 * cmd/kubeadm/app/cmd/init.go newCmdInit, join.go newCmdJoin, kubernetes/kubernetes).
 */
const KUBEADM_DONE = `${HOST_PATHS.stateDir}/kubeadm-done`;

/**
 * kubeadm init or join, resumed when an earlier attempt was cut short (a reboot or a power loss):
 * its preflight refuses the leftovers (FileAvailable--etc-kubernetes-manifests-…,
 * DirAvailable--var-lib-etcd, Port-…: cmd/kubeadm/app/preflight/checks.go), and the phases after it
 * take what is there: certificates and kubeconfigs already on disk are reused, static pod
 * manifests rewritten, API objects created or updated, an etcd member already added is found
 * (util/etcd/etcd.go addMember). A join whose kubelet has finished its TLS bootstrap
 * (kubelet.conf) also skips kubelet-start, which refuses a Node of its name that is Ready
 * (cmd/phases/join/kubelet.go). A failed attempt is undone with kubeadm reset, which empties
 * /etc/kubernetes/pki (so the shared PKI is restored) and removes a control plane's etcd member,
 * and the next one starts afresh: upstream's documented recovery.
 */
function kubeadmRun(verb: 'init' | 'join', pki: boolean, retrySleep: boolean): string {
  const join = verb === 'join';
  return `skip=
[ -e ${HOST_PATHS.apiserverCert} ] || [ -e /var/lib/kubelet/config.yaml ] && skip=preflight
${join ? `[ -e ${HOST_PATHS.kubeletConf} ] && skip=preflight,kubelet-start\n` : ''}attempt=1
until kubeadm ${verb} --config ${kubeadmConfig} \${skip:+--skip-phases=$skip}; do
  (( attempt < ATTEMPTS )) || { echo "kubeadm ${verb} failed $ATTEMPTS times" >&2; exit 1; }
  kubeadm reset --force
${pki ? '  install_pki\n' : ''}${retrySleep ? '  sleep $((attempt * 20))\n' : ''}  skip='' attempt=$((attempt + 1))
done
touch ${KUBEADM_DONE}`;
}

function initBody(plan: ClusterPlan, labels: boolean): string {
  const cni = cniInstall(plan);
  // After a successful init, a re-run skips kubeadm but completes what follows (all idempotent).
  return `if [ ! -f ${KUBEADM_DONE} ]; then
  install_pki
  # kubeadm reaches the API through the load balancer once the local API server is up
  wait_for "$BUDGET" "the load balancer at $ENDPOINT" lb_listening
${kubeadmRun('init', true, false).replace(/^/gm, '  ')}
fi
admin_kubeconfig
export KUBECONFIG=${HOST_PATHS.adminConf}
wait_for "$BUDGET" "the API through the load balancer (https://$ENDPOINT/readyz)" api_ready "$ENDPOINT"
${cni.body}
${labels ? `systemctl is-active --quiet kubebake-label-nodes || systemd-run --unit=kubebake-label-nodes --description='kubebake: label nodes as they join' bash -euo pipefail ${HOST_PATHS.labelNodes}\n` : ''}echo "cluster ${plan.name} initialised; other nodes join through $ENDPOINT"`;
}

/**
 * etcd adds one member at a time, and a member added while the previous one is still syncing
 * can cost the cluster its quorum: each joining control plane waits until the one before it (in
 * topology order) serves a ready API, which it does only once its etcd member is up.
 */
function previousControlPlaneWait(plan: ClusterPlan, node: StepNode): string {
  const previous = controlPlanes(plan)[node.ordinal - 1];
  if (!previous || previous.initNode) return '';
  return `# Control planes join one after another: etcd adds members one at a time.
wait_for "$BUDGET" ${q(`${previous.name} (the control plane before this one) to be ready at https://${previous.ip}:${API_SERVER_PORT}/readyz`)} api_ready ${q(`${previous.ip}:${API_SERVER_PORT}`)}
`;
}

function joinBody(plan: ClusterPlan, node: StepNode): string {
  const isCp = node.role === 'control-plane';
  return `if [ -f ${KUBEADM_DONE} ]; then echo "$(hostname) is already a member of the cluster; nothing to do"; exit 0; fi
wait_for "$BUDGET" "the API through the load balancer (https://$ENDPOINT/readyz)" api_ready "$ENDPOINT"
${isCp ? previousControlPlaneWait(plan, node) + 'install_pki\n' : ''}${kubeadmRun('join', isCp, true)}
${isCp ? 'admin_kubeconfig\n' : ''}echo "$(hostname) joined the cluster through $ENDPOINT"`;
}

/**
 * The kubeadm step. Safe to run again, and resumes after a reboot or a power loss at any point: a
 * node where kubeadm finished is left alone, an interrupted kubeadm is resumed, a failed attempt
 * is reset (and the shared PKI restored) before the next.
 */
export function bootstrapStep(plan: ClusterPlan, node: StepNode, opts: { labelNodes: boolean }): Step {
  return {
    name: 'bootstrap',
    purpose: node.initNode ? `kubeadm init: the first control plane of cluster ${plan.name}.` : `kubeadm join of this ${node.role} through the API endpoint.`,
    helpers: node.initNode ? [WAIT_FOR, ...cniInstall(plan).helpers] : [WAIT_FOR],
    body: `${proxyExports(plan)}${common(plan, node)}
${node.initNode ? initBody(plan, opts.labelNodes) : joinBody(plan, node)}`,
  };
}

/**
 * A worker's kubeadm step: the same on every worker of every cluster (the endpoint and limits are
 * in cluster.env, the rest in kubeadm.yaml), so a baked image carries it.
 */
export const workerJoinStep = (plan: ClusterPlan): Step => bootstrapStep(plan, { role: 'worker', initNode: false, ordinal: 0 }, { labelNodes: false });
