// keepalived.conf, one per load balancer (its own source address and peers); a text template.
import { loadBalancers, type ClusterPlan, type NodePlan } from '../../plan/plan.js';
import { parseCidr } from '../../util/addressing.js';
import { HOST_PATHS } from '../../plan/host-paths.js';
import { GENERATED } from '../../util/generated.js';

/**
 * Every balancer starts as BACKUP with a descending priority, so the first one listed in the
 * topology normally holds the VIP. Unicast VRRP, because many hypervisor and cloud networks drop
 * multicast. The VIP moves away when HAProxy dies (the tracked script fails).
 */
export function renderKeepalivedConf(plan: ClusterPlan, lb: NodePlan): string {
  const vip = plan.vip!;
  const peers = loadBalancers(plan).filter((p) => p.name !== lb.name);
  const iface = lb.interface!;
  const prefix = parseCidr(plan.network.nodeSubnet).prefix;
  return `# ${GENERATED}
global_defs {
    router_id ${lb.name}
    enable_script_security
    script_user root
}

vrrp_script check_haproxy {
    script "${HOST_PATHS.keepalivedCheck}"
    interval 3
    fall 2
    rise 2
}

vrrp_instance kubernetes_api {
    state BACKUP
    interface ${iface}
    virtual_router_id ${vip.routerId}
    priority ${Math.max(1, 150 - lb.ordinal * 10)}
    advert_int 1
    unicast_src_ip ${lb.ip}
    unicast_peer {
${peers.map((p) => `        ${p.ip}`).join('\n')}
    }
    virtual_ipaddress {
        ${vip.address}/${prefix} dev ${iface}
    }
    track_script {
        check_haproxy
    }
}
`;
}

/** keepalived's health check: HAProxy is running. */
export function renderKeepalivedCheck(): string {
  return `#!/bin/sh\n# keepalived health check: succeeds while HAProxy runs (${GENERATED}).\npgrep -x haproxy >/dev/null\n`;
}
