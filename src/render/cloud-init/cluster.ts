import { renderAdminKubeconfig } from '../../config/kubeconfig.js';
import { HostManifestBuilder, type HostManifest } from '../../manifest/host-manifest.js';
import { nodeSlots, withSlots } from '../../manifest/node-slots.js';
import { HOST_PATHS } from '../../plan/host-paths.js';
import type { RenderPlan } from '../../plan/plan.js';
import { FileTree } from '../../output/tree.js';
import { SlotTemplates } from '../../util/slot-template.js';
import { metaDataDigest, renderMetaData } from './meta-data.js';
import { renderNetworkConfig } from './network-config.js';
import { UserDataWriter } from './user-data.js';
import type { HostSeed } from '../delivery/seeds.js';

const fileOf = (m: HostManifest, path: string): string | undefined => m.files.find((f) => f.path === path)?.content;

/**
 * A render, flowing one way: the files, each host's seed as the strings the files hold (what the
 * delivery forms serialise, and verify checks), and the manifests those seeds were serialised from.
 */
export interface CloudInitRender {
  tree: FileTree;
  /** Every host's NoCloud files, in the plan's host order: the very strings added to the tree. */
  seeds: HostSeed[];
  /**
   * The manifest of the first host of each kind (slot key): every other host's user-data is the
   * same serialisation with its slot values filled in, so these are the seeds worth checking, and
   * their manifests tell which topology fields each file comes from.
   */
  manifests: HostManifest[];
}

/** Only the files (for callers that write or inspect the tree alone). */
export const renderCloudInitTree = (plan: RenderPlan): FileTree => renderCloudInit(plan).tree;

/**
 * Everything `render cloud-init` produces for a cluster, relative to out/<cluster>/: each host's
 * NoCloud seed, and for the operator the load balancers' configuration as their hosts get it.
 * user-data and admin.conf carry secrets: 0600. A host's user-data is complete on its own (its
 * runtime included): kubebake writes no vendor-data.
 *
 * A host's seed is the serialisation of its manifest; hosts that differ only in their slot values
 * (name, address, MAC) share one serialisation, filled in per host (see util/slot-template.ts).
 */
export function renderCloudInit(plan: RenderPlan): CloudInitRender {
  const tree = new FileTree();
  const seeds: HostSeed[] = [];
  const representatives = new Map<string, HostManifest>();
  const manifests = new HostManifestBuilder(plan, plan.secrets);
  const userData = new UserDataWriter();
  const templates = new SlotTemplates();
  let haproxy: string | undefined;
  for (const node of plan.nodes) {
    const { key, values } = nodeSlots(node);
    const ud = templates.render(`user-data:${key}`, values, (v) => {
      const filled = withSlots(node, v);
      const m = manifests.build(filled);
      // The first host of a kind is always rendered directly (its template is made then).
      if (filled === node && !representatives.has(key)) representatives.set(key, m);
      return userData.render(m);
    });
    const networkConfig = templates.render(`network-config:${key}`, values, (v) => renderNetworkConfig(plan, withSlots(node, v)));
    const digest = metaDataDigest(ud, networkConfig);
    const metaData = templates.render('meta-data', [node.name, digest], ([name, d]) => renderMetaData(name!, d!));
    const dir = `hosts/${node.name}`;
    tree.add(`${dir}/user-data`, ud, 0o600).add(`${dir}/network-config`, networkConfig).add(`${dir}/meta-data`, metaData);
    seeds.push({ host: node.name, userData: ud, metaData, networkConfig });
    if (node.role === 'load-balancer') {
      const m = manifests.build(node);
      haproxy ??= fileOf(m, HOST_PATHS.haproxyStaged);
      const keepalived = fileOf(m, HOST_PATHS.keepalivedStaged);
      if (keepalived) tree.add(`keepalived/${node.name}.conf`, keepalived);
    }
  }
  if (haproxy) tree.add('haproxy/haproxy.cfg', haproxy);
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
  return { tree, seeds, manifests: [...representatives.values()] };
}
