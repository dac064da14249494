import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { isRestrictedLabel } from '../render/kubeadm/kubeadm-config.js';
import { cniInstall } from './cni.js';
import { CONFIG_DIR, q, script, SCRIPT_DIR } from './shell.js';
import type { Step } from './step.js';

export const KUBEADM_CONFIG_PATH = `${CONFIG_DIR}/kubeadm.yaml`;
/** Shared control-plane PKI as shipped in user-data; copied into /etc/kubernetes/pki before each attempt. */
export const PKI_STAGING_DIR = `${CONFIG_DIR}/pki`;
export const SHARED_PKI_FILES = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'sa.key', 'sa.pub'] as const;
/** Seconds between control-plane joins: etcd adds one member at a time. */
const CONTROL_PLANE_STAGGER = 60;

const COMMON = (plan: ClusterPlan): string => `readonly ENDPOINT=${q(plan.endpoint.hostPort)}
readonly API_HOST=${q(plan.endpoint.address)} API_PORT=${plan.endpoint.port}
readonly BUDGET=${plan.bootstrap.apiWaitSeconds} ATTEMPTS=${plan.bootstrap.joinAttempts}
readonly ADMIN_USER=${q(plan.access.adminUser)}

# wait_for WHAT COMMAND...: retries COMMAND with backoff (2s doubling to 30s) within $BUDGET seconds.
wait_for() {
  local what=$1 start=$SECONDS delay=2
  shift
  until "$@"; do
    if (( SECONDS - start >= BUDGET )); then
      echo "timed out after \${BUDGET}s waiting for $what" >&2
      return 1
    fi
    sleep "$delay"
    delay=$(( delay < 30 ? delay * 2 : 30 ))
  done
}
lb_listening() { timeout 5 bash -c ': </dev/tcp/"$1"/"$2"' _ "$API_HOST" "$API_PORT" 2>/dev/null; }
api_ready() { curl -ksf --max-time 5 "https://$ENDPOINT/readyz" >/dev/null; }
retry() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    "$@" && return 0
    echo "retrying ($i): $*" >&2
    sleep $((i * 5))
  done
  return 1
}
admin_kubeconfig() {
  local home
  home=$(getent passwd "$ADMIN_USER" | cut -d: -f6)
  [ -n "$home" ] || return 0
  install -d -m 0700 -o "$ADMIN_USER" -g "$ADMIN_USER" "$home/.kube"
  install -m 0600 -o "$ADMIN_USER" -g "$ADMIN_USER" /etc/kubernetes/admin.conf "$home/.kube/config"
}`;

const INSTALL_PKI = `install_pki() {
  local f
  install -d -m 0755 /etc/kubernetes/pki
  install -d -m 0700 /etc/kubernetes/pki/etcd
  for f in ${SHARED_PKI_FILES.join(' ')}; do
    case "$f" in
      *.key) install -m 0600 "${PKI_STAGING_DIR}/$f" "/etc/kubernetes/pki/$f" ;;
      *) install -m 0644 "${PKI_STAGING_DIR}/$f" "/etc/kubernetes/pki/$f" ;;
    esac
  done
}`;

/** Labels kubelet may not set itself (node-role.kubernetes.io/…) are applied from the first control plane. */
export function restrictedLabels(plan: ClusterPlan): { node: string; labels: [string, string][] }[] {
  return plan.nodes
    .map((n) => ({ node: n.name, labels: Object.entries(n.labels).filter(([k]) => isRestrictedLabel(k)) }))
    .filter((x) => x.labels.length > 0);
}

function labelNodesScript(plan: ClusterPlan): string | undefined {
  const wanted = restrictedLabels(plan);
  if (!wanted.length) return undefined;
  const lines = wanted.map(({ node, labels }) => `label_node ${q(node)} ${labels.map(([k, v]) => q(`${k}=${v}`)).join(' ')}`);
  return script(
    'Applies node labels kubelet may not set itself, as each node joins (run by systemd from the first control plane).',
    `export KUBECONFIG=/etc/kubernetes/admin.conf
deadline=$((SECONDS + ${plan.bootstrap.apiWaitSeconds + 3600}))
pending=0
label_node() {
  local node=$1
  shift
  kubectl get node "$node" >/dev/null 2>&1 && kubectl label node "$node" --overwrite "$@" >/dev/null && return 0
  pending=1
}
while (( SECONDS < deadline )); do
  pending=0
${lines.map((l) => '  ' + l).join('\n')}
  (( pending == 0 )) && exit 0
  sleep 20
done
echo "some nodes never joined; labels not applied to them" >&2
exit 1`,
  );
}

export const LABEL_NODES_PATH = `${SCRIPT_DIR}/label-nodes.sh`;

/**
 * The kubeadm step. Safe to run again: a node that already has a kubelet.conf is a member and is
 * left alone; a failed attempt is reset (and the shared PKI restored) before the next.
 */
export function bootstrapStep(plan: ClusterPlan, node: NodePlan): { step: Step; extraScripts: { path: string; content: string }[] } {
  const isCp = node.role === 'control-plane';
  const labels = node.initNode ? labelNodesScript(plan) : undefined;
  const header = `${COMMON(plan)}
${isCp ? INSTALL_PKI : ''}`;
  const member = `if [ -f /etc/kubernetes/kubelet.conf ]; then
  echo "${node.name} is already a member of the cluster; nothing to do"
  exit 0
fi`;
  let body: string;
  if (node.initNode) {
    // After a successful init, a re-run skips kubeadm but completes what follows (all idempotent).
    body = `${header}
if [ ! -f /etc/kubernetes/kubelet.conf ]; then
  install_pki
  # kubeadm talks to the API through the load balancer once the local API server is up.
  wait_for "the load balancer at $ENDPOINT" lb_listening
  attempt=1
  until kubeadm init --config ${KUBEADM_CONFIG_PATH}; do
    if (( attempt >= ATTEMPTS )); then echo "kubeadm init failed $ATTEMPTS times" >&2; exit 1; fi
    kubeadm reset --force
    install_pki
    attempt=$((attempt + 1))
  done
fi
admin_kubeconfig
export KUBECONFIG=/etc/kubernetes/admin.conf
wait_for "the API through the load balancer (https://$ENDPOINT/readyz)" api_ready
${cniInstall(plan)}
${labels ? `systemctl is-active --quiet kubebake-label-nodes || systemd-run --unit=kubebake-label-nodes --description='kubebake: label nodes as they join' ${LABEL_NODES_PATH}` : ''}
echo "cluster ${plan.name} initialised; other nodes join through $ENDPOINT"`;
  } else {
    const stagger = isCp ? Math.max(0, node.ordinal - 1) * CONTROL_PLANE_STAGGER : 0;
    body = `${header}
${member}
wait_for "the API through the load balancer (https://$ENDPOINT/readyz)" api_ready
${stagger ? `# Control planes join one after another: etcd adds members one at a time.\nsleep ${stagger}\n` : ''}${isCp ? 'install_pki\n' : ''}attempt=1
until kubeadm join --config ${KUBEADM_CONFIG_PATH}; do
  if (( attempt >= ATTEMPTS )); then echo "kubeadm join failed $ATTEMPTS times" >&2; exit 1; fi
  kubeadm reset --force
${isCp ? '  install_pki\n' : ''}  sleep $((attempt * 20))
  attempt=$((attempt + 1))
done
${isCp ? 'admin_kubeconfig\n' : ''}echo "${node.name} joined the cluster through $ENDPOINT"`;
  }
  return {
    step: { name: 'bootstrap', script: script(`kubeadm ${node.initNode ? 'init' : 'join'} for ${node.name} (${node.role}).`, body) },
    extraScripts: labels ? [{ path: LABEL_NODES_PATH, content: labels }] : [],
  };
}
