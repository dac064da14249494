// Which hosts an ingress frontend on the load balancer sends to: every host of the targeted role,
// or those whose labels match its nodeSelector (every key with exactly its value, as a Pod's
// nodeSelector matches a Node's labels).
import type { Host, IngressFrontend } from './types.js';

export const ingressBackends = (hosts: readonly Host[], f: IngressFrontend): Host[] =>
  hosts.filter(
    (h) =>
      h.role === (f.targets === 'workers' ? 'worker' : 'control-plane') &&
      Object.entries(f.nodeSelector ?? {}).every(([k, v]) => h.labels?.[k] === v),
  );

/**
 * Beyond this many backends without a nodeSelector, a warning: each load balancer health-checks
 * every backend every 5 s (10,000 checks per 5 s for two frontends on 5,000 workers), and its
 * user-data grows with the cluster (two frontends on 5,000 workers: 490 KiB, over every
 * platform's limit). Any node forwards a NodePort (kube-proxy), so a few dedicated ones suffice.
 */
export const INGRESS_BACKENDS_WARN = 64;
