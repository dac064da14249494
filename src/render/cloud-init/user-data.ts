// #cloud-config for one host, built as an object (after Cluster API's per-section layout) and
// serialised once as PyYAML-safe YAML.
import type { NodePlan, RenderPlan } from '../../plan/plan.js';
import { KUBEADM_CONFIG_PATH, PKI_STAGING_DIR } from '../../steps/bootstrap.js';
import { CALICO_RESOURCES_PATH, renderCalicoResources } from '../../steps/cni.js';
import { FIRSTBOOT_PATH, renderFirstboot } from '../../steps/firstboot.js';
import { hostSteps } from '../../steps/host-steps.js';
import { HAPROXY_STAGED_PATH, KEEPALIVED_CHECK_PATH, KEEPALIVED_STAGED_PATH, LB_SYSCTL_PATH } from '../../steps/load-balancer-config.js';
import { GENERATED, SCRIPT_DIR } from '../../steps/shell.js';
import { renderHaproxyCfg } from '../haproxy/haproxy-cfg.js';
import { renderKeepalivedCheck, renderKeepalivedConf } from '../keepalived/keepalived-conf.js';
import { renderInitConfig, renderJoinConfig } from '../kubeadm/kubeadm-config.js';
import { toYaml11 } from '../yaml.js';
import { renderEtcHosts } from './etc-hosts.js';

interface WriteFile { path: string; content: string; permissions: string; owner?: string }

const file = (path: string, content: string, permissions = '0644'): WriteFile => ({ path, content, permissions, owner: 'root:root' });

/** The shared control-plane PKI, as kubeadm expects it under /etc/kubernetes/pki. Never for workers. */
function sharedPki(plan: RenderPlan): WriteFile[] {
  const s = plan.secrets;
  const pairs: [string, string][] = [
    ['ca.crt', s.ca.cert],
    ['ca.key', s.ca.key],
    ['front-proxy-ca.crt', s.frontProxyCa.cert],
    ['front-proxy-ca.key', s.frontProxyCa.key],
    ['etcd/ca.crt', s.etcdCa.cert],
    ['etcd/ca.key', s.etcdCa.key],
    ['sa.key', s.sa.key],
    ['sa.pub', s.sa.pub],
  ];
  return pairs.map(([name, pem]) => file(`${PKI_STAGING_DIR}/${name}`, pem, name.endsWith('.key') ? '0600' : '0644'));
}

/** Files a host needs beyond its scripts: kubeadm config, PKI, load-balancer configuration. */
function roleFiles(plan: RenderPlan, node: NodePlan): WriteFile[] {
  switch (node.role) {
    case 'load-balancer': {
      const files = [file(HAPROXY_STAGED_PATH, renderHaproxyCfg(plan))];
      if (plan.vip) {
        files.push(
          file(KEEPALIVED_STAGED_PATH, renderKeepalivedConf(plan, node)),
          file(KEEPALIVED_CHECK_PATH, renderKeepalivedCheck(), '0755'),
          file(LB_SYSCTL_PATH, `# ${GENERATED}\nnet.ipv4.ip_nonlocal_bind = 1\n`),
        );
      }
      return files;
    }
    case 'control-plane': {
      const config = node.initNode ? renderInitConfig(plan, node) : renderJoinConfig(plan, node);
      const files = [file(KUBEADM_CONFIG_PATH, config, '0600'), ...sharedPki(plan)];
      if (node.initNode && plan.cni.plugin === 'calico') files.push(file(CALICO_RESOURCES_PATH, renderCalicoResources(plan)));
      return files;
    }
    case 'worker':
      // Only the bootstrap token and the CA hash: no private key ever reaches a worker.
      return [file(KUBEADM_CONFIG_PATH, renderJoinConfig(plan, node), '0600')];
  }
}

export function userDataObject(plan: RenderPlan, node: NodePlan): object {
  const { steps, extraScripts } = hostSteps(plan, node);
  const writeFiles: WriteFile[] = [
    file('/etc/hosts', renderEtcHosts(plan)),
    ...roleFiles(plan, node),
    ...steps.map((s) => file(`${SCRIPT_DIR}/${s.name}.sh`, s.script, '0755')),
    ...extraScripts.map((s) => file(s.path, s.content, '0755')),
    file(FIRSTBOOT_PATH, renderFirstboot(steps), '0755'),
  ];
  return {
    hostname: node.name,
    ...(node.fqdn ? { fqdn: node.fqdn } : {}),
    prefer_fqdn_over_hostname: false,
    // kubebake writes /etc/hosts with every host of the cluster; cloud-init must not replace it.
    manage_etc_hosts: false,
    users: [
      {
        name: plan.access.adminUser,
        gecos: 'kubebake cluster admin',
        groups: ['sudo'],
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: plan.access.sshAuthorizedKeys,
      },
    ],
    ssh_pwauth: false,
    disable_root: true,
    write_files: writeFiles,
    runcmd: [[FIRSTBOOT_PATH]],
  };
}

export function renderUserData(plan: RenderPlan, node: NodePlan): string {
  return `#cloud-config\n# ${GENERATED}\n# host ${node.name} (${node.role}) of cluster ${plan.name}\n${toYaml11(userDataObject(plan, node))}`;
}
