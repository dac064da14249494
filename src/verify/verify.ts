// The render-time check: what needs no external tool is verified before anything is written, and
// every problem points back at the topology field the offending output came from.
import type { Diagnostic, FieldPath } from '../diagnostics/diagnostic.js';
import { HostManifestBuilder, type HostManifest } from '../manifest/host-manifest.js';
import { nodeSlots } from '../manifest/node-slots.js';
import type { RenderPlan } from '../plan/plan.js';
import { userDataObject, writeFiles } from '../render/cloud-init/user-data.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { checkCloudConfig } from './cloud-config.js';
import { checkKubeadmConfig } from './kubeadm-config.js';

const problem = (path: FieldPath, code: string, message: string, hint: string): Diagnostic => ({ severity: 'error', code, path, message, hint });

/** Hosts whose output can differ in more than slot values: one of each key (all but the workers' duplicates). */
function representatives(plan: RenderPlan, builder: HostManifestBuilder): HostManifest[] {
  const seen = new Set<string>();
  const out: HostManifest[] = [];
  for (const node of plan.nodes) {
    const { key } = nodeSlots(node);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(builder.build(node));
  }
  return out;
}

/** Topology field a user-data path (from the schema's instancePath) comes from. */
function sourceOf(m: HostManifest, instancePath: string): FieldPath {
  const [, key, index] = instancePath.split('/');
  if (key === 'write_files' && index !== undefined) {
    const file = writeFiles(m)[Number(index)];
    const from = m.files.find((f) => f.path === file?.path)?.from[0];
    if (from) return from;
  }
  if (key === 'users') return ['access'];
  return ['hosts', m.node.index];
}

/** The topology field a kubeadm config field comes from (by its top-level key); else the host. */
function kubeadmSource(m: HostManifest, field: string): FieldPath {
  const top = field.split(/[.[]/)[0]!;
  const from: Record<string, FieldPath> = {
    networking: ['network'],
    kubernetesVersion: ['kubernetes', 'version'],
    controlPlaneEndpoint: ['apiEndpoint'],
    apiServer: ['apiEndpoint'],
    bootstrapTokens: ['bootstrap'],
    discovery: ['apiEndpoint'],
  };
  return from[top] ?? ['hosts', m.node.index];
}

/** cloud-init's schema and kubeadm's field tables on each distinct host; join material only where its role allows. */
export function verifyRender(plan: RenderPlan): Diagnostic[] {
  const builder = new HostManifestBuilder(plan, plan.secrets);
  return verifyHosts(representatives(plan, builder));
}

/** The checks of verifyRender on given host manifests. */
export function verifyHosts(manifests: readonly HostManifest[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const m of manifests) {
    for (const p of checkCloudConfig(userDataObject(m) as Record<string, unknown>)) {
      out.push(problem(sourceOf(m, p.path), 'render.cloud-config-schema', `${m.node.name}'s user-data at ${p.path}: ${p.message} (cloud-init's schema)`, 'this is a kubebake bug: report it with the topology'));
    }
    const kubeadm = m.files.find((f) => f.path === HOST_PATHS.kubeadmConfig);
    for (const p of kubeadm ? checkKubeadmConfig(kubeadm.content) : []) {
      out.push(problem(kubeadmSource(m, p.field), 'render.kubeadm-fields', `${m.node.name}'s kubeadm configuration: ${p.message} (kubeadm's field tables)`, 'this is a kubebake bug: report it with the topology'));
    }
    // By construction no private key reaches a worker or a load balancer; checked all the same.
    if (m.node.role !== 'control-plane' && m.files.some((f) => /PRIVATE KEY/.test(f.content))) {
      out.push(problem(['hosts', m.node.index, 'role'], 'render.key-leak', `${m.node.name} (${m.node.role}) would receive a private key`, 'this is a kubebake bug: nothing was written'));
    }
  }
  return out;
}
