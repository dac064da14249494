// haproxy.cfg has no structure library: a text template, every value from the validated plan.
import type { ClusterPlan } from '../../plan/plan.js';
import { controlPlanes } from '../../plan/plan.js';
import { API_SERVER_PORT } from '../../topology/facts/kubeadm.js';
import { haproxyHasHttpCheckSend } from '../../topology/facts/os-facts.js';
import { GENERATED } from '../../util/generated.js';

const indent = (lines: string[]): string => lines.map((l) => `    ${l}`).join('\n');

function section(header: string, lines: string[]): string {
  return `${header}\n${indent(lines)}\n`;
}

/**
 * The GET /readyz health check in the syntax of the HAProxy the load balancers' OS ships:
 * `http-check send` needs 2.2 (Ubuntu 20.04 has 2.0, which rejects it); `option httpchk
 * <method> <uri>` is what 2.0 has (see os-facts.ts for both facts' sources).
 */
function readyzCheck(haproxy: string): string[] {
  return haproxyHasHttpCheckSend(haproxy) ? ['option httpchk', 'http-check send meth GET uri /readyz'] : ['option httpchk GET /readyz'];
}

/**
 * The API frontend balances over every control plane in `mode tcp` (TLS passes through to the
 * API servers) and health-checks each with an HTTPS GET /readyz — a bare TCP connect would keep
 * sending clients to an API server that is up but not ready. Ingress frontends pass TCP (and so
 * TLS) through to the NodePorts of the workers (or control planes) they target.
 */
export function renderHaproxyCfg(plan: ClusterPlan): string {
  const bindAddress = plan.endpoint.address;
  const out = [
    `# ${GENERATED}\n# Cluster ${plan.name}: Kubernetes API on ${plan.endpoint.hostPort}\n`,
    section('global', [
      'log /dev/log local0',
      'log /dev/log local1 notice',
      'chroot /var/lib/haproxy',
      'stats socket /run/haproxy/admin.sock mode 660 level admin',
      'user haproxy',
      'group haproxy',
      'daemon',
      'maxconn 20000',
    ]),
    section('defaults', [
      'log global',
      'mode tcp',
      'option tcplog',
      'option dontlognull',
      'timeout connect 5s',
      // kubectl watches and logs -f hold connections open for a long time.
      'timeout client 4h',
      'timeout server 4h',
      'timeout check 5s',
    ]),
    section('frontend kubernetes', [`bind ${bindAddress}:${plan.endpoint.port}`, 'mode tcp', 'option tcplog', 'default_backend kubernetes-control-planes']),
    section('backend kubernetes-control-planes', [
      'mode tcp',
      'balance roundrobin',
      ...readyzCheck(plan.os.facts.haproxy),
      'http-check expect status 200',
      'default-server inter 5s fall 3 rise 2',
      ...controlPlanes(plan).map((n) => `server ${n.name} ${n.ip}:${API_SERVER_PORT} check check-ssl verify none`),
    ]),
  ];
  for (const f of plan.ingress) {
    out.push(
      section(`frontend ${f.name}`, [`bind ${bindAddress}:${f.port}`, 'mode tcp', 'option tcplog', `default_backend ${f.name}-nodeports`]),
      section(`backend ${f.name}-nodeports`, [
        'mode tcp',
        'balance roundrobin',
        'default-server inter 5s fall 3 rise 2',
        ...f.backends.map((b) => `server ${b.name} ${b.ip}:${f.nodePort} check`),
      ]),
    );
  }
  return out.join('\n');
}
