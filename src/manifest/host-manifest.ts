// What one host gets, decided once: its files (with the topology fields they come from), the steps
// its first boot runs, and its join material, typed by role. Every output form (cloud-init
// user-data, seed ISO, tar, PXE, …) is a serialisation of this; none of them decides anything.
import type { FieldPath } from '../diagnostics/diagnostic.js';
import { etcHostsRenderer } from '../config/etc-hosts.js';
import { renderFirewallRuleset } from '../config/firewall-nft.js';
import { renderHaproxyCfg } from '../config/haproxy/haproxy-cfg.js';
import { renderKeepalivedCheck, renderKeepalivedConf } from '../config/keepalived/keepalived-conf.js';
import { renderInitConfig, renderJoinConfig } from '../config/kubeadm/kubeadm-config.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { keyAlgorithmOf, type KeyAlgorithm } from '../plan/pki.js';
import { isKubernetesNode, type ClusterPlan, type NodePlan } from '../plan/plan.js';
import { entryText, SHARED_PKI, type Secrets } from '../plan/secrets.js';
import { ADDRESS_STEP, renderAddressFile } from '../steps/address.js';
import { bootstrapStep, labelNodesStep, renderClusterEnv } from '../steps/bootstrap.js';
import { renderCalicoResources } from '../steps/cni.js';
import { firewallStep } from '../steps/firewall.js';
import { imageCheckStep } from '../steps/image-check.js';
import { loadBalancerConfigStep } from '../steps/load-balancer-config.js';
import { phoneHomePath, reportConfigText } from '../steps/report.js';
import { renderResolvConf, RESOLVER_STEP } from '../steps/resolver.js';
import type { Step } from '../steps/step.js';
import { GENERATED } from '../util/generated.js';
import { SlotTemplates } from '../util/slot-template.js';
import { nodeSlots, withSlots } from './node-slots.js';
import { firstBootRuntime, imageHasStep, imageRuntime, stepFile, type ImageRuntime } from './runtime.js';
import { imageDropsSources, imageSteps, type ImageKind } from './image-manifest.js';
import { sourcesStep } from '../steps/sources.js';

export type FileMode = '0600' | '0644' | '0755';

export interface HostFile {
  /** Absolute path on the host. */
  path: string;
  mode: FileMode;
  content: string;
  /** Topology fields the content is made from: a problem found in it points back at them. */
  from: readonly FieldPath[];
}

/** A bootstrap token and the CA hash: all a worker ever receives of the cluster's secrets. */
export interface Discovery { token: string; caCertHash: string }

/**
 * Join material by role. A worker's holds the token and the CA hash only; control planes carry
 * the shared PKI files; load balancers nothing.
 */
export type JoinMaterial =
  | { kind: 'init'; token: string; keyAlgorithm: KeyAlgorithm; pki: readonly HostFile[] }
  | { kind: 'control-plane'; discovery: Discovery; pki: readonly HostFile[] }
  | { kind: 'worker'; discovery: Discovery }
  | { kind: 'none' };

export interface HostManifest {
  node: NodePlan;
  /** The admin user every host gets (same object for every host). */
  admin: ClusterPlan['access'];
  /**
   * Every file the host's user-data writes, in order: configuration (the PKI among them for
   * control planes), the step list, the step scripts, and — unless a baked image carries it — the
   * kubebake runtime (helpers, runner and its unit, firewall unit). A first-boot host's user-data
   * is complete on its own: nothing it needs travels in another document.
   */
  files: readonly HostFile[];
  /** What first boot runs, in order. */
  steps: readonly Step[];
  /** Where the runner and helpers come from: the host's own user-data, or a baked image. */
  runtime: 'user-data' | 'image';
  join: JoinMaterial;
  /** With delivery.server: the URL cloud-init's phone_home posts to when its final stage runs. */
  phoneHome?: string;
}

const file = (path: string, content: string, from: readonly FieldPath[], mode: FileMode = '0644'): HostFile => ({ path, mode, content, from });

const HOSTS: FieldPath = ['hosts'];

/** Parts that are the same for many hosts: built once per cluster and shared by reference. */
interface Shared {
  templates: SlotTemplates;
  install: Record<ImageKind, Step[]>;
  firewall: Step;
  resolver: Step;
  resolvConf: HostFile;
  clusterEnv: HostFile;
  pki: HostFile[];
  discovery: Discovery;
  labelNodes?: Step;
  haproxy?: HostFile;
  keepalivedCheck: HostFile;
  lbSysctl: HostFile;
  calico?: HostFile;
  etcHosts: (node: NodePlan) => HostFile;
  imageRuntime?: ImageRuntime;
}

function shared(plan: ClusterPlan, secrets: Secrets): Shared {
  const hasLb = plan.nodes.some((n) => n.role === 'load-balancer');
  return {
    templates: new SlotTemplates(),
    firewall: firewallStep(plan),
    resolver: RESOLVER_STEP,
    resolvConf: file(HOST_PATHS.resolvConf, renderResolvConf(plan), [['network', 'dns'], ['network', 'searchDomain']]),
    clusterEnv: file(HOST_PATHS.clusterEnv, renderClusterEnv(plan), [['apiEndpoint'], ['bootstrap']]),
    install: {
      node: plan.image === 'baked' ? [] : imageSteps(plan, 'node'),
      'load-balancer': plan.image === 'baked' ? [] : imageSteps(plan, 'load-balancer'),
    },
    pki: SHARED_PKI.map((f) => file(`${HOST_PATHS.pkiStaging}/${f.host}`, entryText(secrets, f), [], f.secret ? '0600' : '0644')),
    discovery: { token: secrets.token.value, caCertHash: secrets.caCertHash },
    labelNodes: labelNodesStep(plan),
    haproxy: hasLb ? file(HOST_PATHS.haproxyStaged, renderHaproxyCfg(plan), [['apiEndpoint'], ['ingress'], HOSTS]) : undefined,
    keepalivedCheck: file(HOST_PATHS.keepalivedCheck, renderKeepalivedCheck(), [['apiEndpoint', 'vip']], '0755'),
    lbSysctl: file(HOST_PATHS.lbSysctl, `# ${GENERATED}\nnet.ipv4.ip_nonlocal_bind = 1\n`, [['apiEndpoint', 'vip']]),
    calico: plan.cni.plugin === 'calico' ? file(HOST_PATHS.calicoResources, renderCalicoResources(plan), [['cni'], ['network', 'podSubnet']]) : undefined,
    etcHosts: etcHostsFiles(plan),
    imageRuntime: plan.image === 'baked' ? imageRuntime(plan) : undefined,
  };
}

/** /etc/hosts as a file (the serialisers notice when every host's is the same). */
function etcHostsFiles(plan: ClusterPlan): (node: NodePlan) => HostFile {
  const render = etcHostsRenderer(plan);
  return (node) => file(HOST_PATHS.etcHosts, render(node), [HOSTS, ['network', 'etcHosts']]);
}

function joinMaterial(plan: ClusterPlan, node: NodePlan, s: Shared, secrets: Secrets): JoinMaterial {
  if (node.role === 'load-balancer') return { kind: 'none' };
  if (node.initNode) return { kind: 'init', token: secrets.token.value, keyAlgorithm: keyAlgorithmOf(secrets.ca.key), pki: s.pki };
  if (node.role === 'control-plane') return { kind: 'control-plane', discovery: s.discovery, pki: s.pki };
  return { kind: 'worker', discovery: s.discovery };
}

/** The kubeadm configuration, made from the join material alone (a worker's cannot hold a key). */
function kubeadmFile(plan: ClusterPlan, node: NodePlan, join: JoinMaterial, templates: SlotTemplates): HostFile | undefined {
  const from: FieldPath[] = [['hosts', node.index], ['kubernetes'], ['network'], ['apiEndpoint'], ['bootstrap']];
  const { key, values } = nodeSlots(node);
  const render = (make: (n: NodePlan) => string): string => templates.render(`kubeadm:${key}`, values, (v) => make(withSlots(node, v)));
  switch (join.kind) {
    case 'init':
      return file(HOST_PATHS.kubeadmConfig, renderInitConfig(plan, node, join), from, '0600');
    case 'control-plane':
    case 'worker':
      return file(HOST_PATHS.kubeadmConfig, render((n) => renderJoinConfig(plan, n, join.discovery)), from, '0600');
    case 'none':
      return undefined;
  }
}

function buildHostManifest(plan: ClusterPlan, node: NodePlan, s: Shared, secrets: Secrets): HostManifest {
  const join = joinMaterial(plan, node, s, secrets);
  const kind: ImageKind = isKubernetesNode(node) ? 'node' : 'load-balancer';
  const files: HostFile[] = [s.etcHosts(node), file(HOST_PATHS.address, renderAddressFile(node.ip), [['hosts', node.index, 'ip']]), s.resolvConf];
  if (plan.firewallMode === 'open-required-ports') {
    files.push(file(HOST_PATHS.firewallRuleset, renderFirewallRuleset(node), [['firewall'], ['hosts', node.index, 'role'], ['cni'], ['network']]));
  }
  const kubeadm = kubeadmFile(plan, node, join, s.templates);
  if (kubeadm) files.push(kubeadm, s.clusterEnv);
  if (join.kind === 'init' || join.kind === 'control-plane') files.push(...join.pki);
  if (join.kind === 'init' && s.calico) files.push(s.calico);
  if (kind === 'load-balancer') {
    files.push(s.haproxy!);
    if (plan.vip) {
      files.push(
        file(HOST_PATHS.keepalivedStaged, renderKeepalivedConf(plan, node), [['apiEndpoint', 'vip'], ['hosts', node.index]]),
        s.keepalivedCheck,
        s.lbSysctl,
      );
    }
  }
  const image = s.imageRuntime;
  // An image that dropped the mirrors and proxy it was built with gets this site's on first boot.
  const siteSources = image && imageDropsSources(plan) ? sourcesStep(plan) : undefined;
  const install = image ? [imageCheckStep(plan, node, image.digest), ...(siteSources ? [siteSources] : [])] : s.install[kind];
  const final = kind === 'node' ? bootstrapStep(plan, node, { labelNodes: s.labelNodes !== undefined }) : loadBalancerConfigStep(plan, node);
  const steps = [ADDRESS_STEP, s.resolver, ...install, s.firewall, final];
  // Scripts a step starts itself (the runner does not run them).
  const tools = join.kind === 'init' && s.labelNodes ? [s.labelNodes] : [];
  const server = plan.delivery.server;
  if (server) files.push(file(HOST_PATHS.reportConfig, reportConfigText(server, secrets.reportSecret, node.name), [['delivery', 'server']], '0600'));
  files.push(file(HOST_PATHS.stepList, steps.map((st) => `${st.name}\n`).join(''), []));
  files.push(...[...steps, ...tools].filter((st) => !image || !imageHasStep(image, st)).map(stepFile));
  if (!image) files.push(...firstBootRuntime(plan, [...steps, ...tools]));
  const phoneHome = server ? { phoneHome: `${server}${phoneHomePath(node.name)}` } : {};
  return { node, admin: plan.access, files, steps, runtime: image ? 'image' : 'user-data', join, ...phoneHome };
}

/** Builds host manifests of one cluster; what hosts share is made once. */
export class HostManifestBuilder {
  readonly #shared: Shared;
  constructor(
    readonly plan: ClusterPlan,
    readonly secrets: Secrets,
  ) {
    this.#shared = shared(plan, secrets);
  }

  /** The manifest of `node` (a node of the plan, or one with another host's slot values). */
  build(node: NodePlan): HostManifest {
    return buildHostManifest(this.plan, node, this.#shared, this.secrets);
  }
}

/** One manifest per host, in topology order. */
export function buildHostManifests(plan: ClusterPlan, secrets: Secrets): HostManifest[] {
  const builder = new HostManifestBuilder(plan, secrets);
  return plan.nodes.map((node) => builder.build(node));
}
