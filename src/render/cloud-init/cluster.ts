import type { RenderPlan } from '../../plan/plan.js';
import { FileTree } from '../../output/tree.js';
import { renderHaproxyCfg } from '../haproxy/haproxy-cfg.js';
import { renderKeepalivedConf } from '../keepalived/keepalived-conf.js';
import { renderAdminKubeconfig } from '../kubeconfig.js';
import { renderMetaData } from './meta-data.js';
import { renderNetworkConfig } from './network-config.js';
import { renderUserData } from './user-data.js';

/**
 * Everything `render cloud-init` produces for a cluster, relative to out/<cluster>/.
 * user-data and admin.conf carry secrets: 0600.
 */
export function renderCloudInitTree(plan: RenderPlan): FileTree {
  const tree = new FileTree();
  for (const node of plan.nodes) {
    const userData = renderUserData(plan, node);
    const networkConfig = renderNetworkConfig(plan, node);
    tree
      .add(`hosts/${node.name}/user-data`, userData, 0o600)
      .add(`hosts/${node.name}/network-config`, networkConfig)
      .add(`hosts/${node.name}/meta-data`, renderMetaData(node, userData, networkConfig));
    if (node.role === 'load-balancer' && plan.vip) tree.add(`keepalived/${node.name}.conf`, renderKeepalivedConf(plan, node));
  }
  tree.add('haproxy/haproxy.cfg', renderHaproxyCfg(plan));
  tree.add(
    'admin.conf',
    renderAdminKubeconfig({
      clusterName: plan.name,
      server: plan.endpoint.url,
      caCert: plan.secrets.ca.cert,
      clientCert: plan.secrets.admin.cert,
      clientKey: plan.secrets.admin.key,
    }),
    0o600,
  );
  return tree;
}
