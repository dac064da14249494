// The render-time check: what needs no external tool is verified before anything is written, and
// every problem points back at the topology field the offending output came from. What is checked
// is the user-data the writer gets — the same string, parsed back as cloud-init parses it — not a
// second derivation of it; the host's manifest only says where each part of it comes from.
import { parseDocument } from 'yaml';
import { problem, type Diagnostic, type FieldPath } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import type { HostManifest } from '../manifest/host-manifest.js';
import type { CloudInitRender } from '../render/cloud-init/cluster.js';
import { HOST_PATHS } from '../plan/host-paths.js';
import { checkCloudConfig } from './cloud-config.js';
import { checkKubeadmConfig } from './kubeadm-config.js';


/** A host's user-data and the manifest it was serialised from. */
export interface VerifiedHost { manifest: HostManifest; userData: string }

/** One write_files entry as parsed back from the user-data. */
interface WrittenFile { path?: unknown; content?: unknown }

/** Topology field a user-data path (from the schema's instancePath) comes from: the manifest's sources of the file at that index. */
function sourceOf(m: HostManifest, written: readonly WrittenFile[], instancePath: string): FieldPath {
  const [, key, index] = instancePath.split('/');
  if (key === 'write_files' && index !== undefined) {
    const file = written[Number(index)];
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

/**
 * cloud-init's schema and kubeadm's field tables on the user-data of the first host of each kind
 * (the others' is the same serialisation with their slot values filled in); join material only
 * where its role allows.
 */
export function verifyRender(render: CloudInitRender): Diagnostic[] {
  const userData = new Map(render.seeds.map((s) => [s.host, s.userData]));
  return verifyHosts(render.manifests.map((manifest) => ({ manifest, userData: userData.get(manifest.node.name)! })));
}

/** The checks of verifyRender on given hosts' user-data. */
export function verifyHosts(hosts: readonly VerifiedHost[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { manifest: m, userData } of hosts) {
    // cloud-init reads a document as #cloud-config only with this first line, and parses it as YAML 1.1 (PyYAML).
    const doc = parseDocument(userData, { version: '1.1' });
    if (!userData.startsWith('#cloud-config\n') || doc.errors.length) {
      out.push(problem(msg.renderNotCloudConfig(m.node.name, doc.errors[0]?.message), { path: ['hosts', m.node.index] }));
      continue;
    }
    const config = (doc.toJS() ?? {}) as Record<string, unknown>;
    const written: WrittenFile[] = Array.isArray(config.write_files) ? (config.write_files as WrittenFile[]) : [];
    for (const p of checkCloudConfig(config)) {
      out.push(problem(msg.renderSchema(m.node.name, p.path, p.message), { path: sourceOf(m, written, p.path) }));
    }
    const kubeadm = written.find((f) => f.path === HOST_PATHS.kubeadmConfig);
    for (const p of typeof kubeadm?.content === 'string' ? checkKubeadmConfig(kubeadm.content) : []) {
      out.push(problem(msg.renderKubeadm(m.node.name, p.message), { path: kubeadmSource(m, p.field) }));
    }
    // By construction no private key reaches a worker or a load balancer; checked all the same.
    if (m.node.role !== 'control-plane' && written.some((f) => typeof f.content === 'string' && /PRIVATE KEY/.test(f.content))) {
      out.push(problem(msg.renderKeyLeak(m.node.name, m.node.role), { path: ['hosts', m.node.index, 'role'] }));
    }
  }
  return out;
}
