import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostics } from '../diagnostics/print.js';
import { buildPlan, withSecrets, type ClusterPlan } from '../plan/plan.js';
import { loadOrCreateSecrets, SECRET_FILES } from '../plan/secrets.js';
import { renderCloudInitTree } from '../render/cloud-init/cluster.js';
import { writeTree } from '../output/write.js';
import type { FileTree } from '../output/tree.js';
import type { DeliveryForm } from '../render/delivery/forms.js';
import { EXIT } from './exit.js';
import { loadAndReport } from './validate.js';

export interface RenderOptions { file: string; out: string; strict?: boolean; check?: boolean; force?: boolean; rotateToken?: boolean; delivery?: string }

/** `render cloud-init`: topology → plan (+ stored secrets) → files under <out>/<cluster>/. */
export async function runRenderCloudInit(opts: RenderOptions): Promise<number> {
  const delivery = await import('../render/delivery/index.js');
  const forms = delivery.parseDeliveryForms(opts.delivery ?? 'all');
  if ('error' in forms) {
    process.stderr.write(`kubebake: --delivery: ${forms.error}\n`);
    return EXIT.usage;
  }
  const loaded = await loadAndReport(opts);
  if (!loaded.topology) return EXIT.invalid;
  const clusterDir = join(opts.out, loaded.topology.name);
  // --check writes nothing: without stored secrets it renders with throw-away ones.
  const scratch = opts.check ? await mkdtemp(join(tmpdir(), 'kubebake-check-')) : undefined;
  try {
    const stored = await loadOrCreateSecrets(join(scratch ?? clusterDir, 'secrets'), { rotateToken: opts.rotateToken });
    if ('diagnostics' in stored) {
      process.stderr.write(formatDiagnostics(stored.diagnostics));
      return EXIT.invalid;
    }
    if (stored.warnings.length) process.stderr.write(formatDiagnostics(stored.warnings));
    if (!opts.check) reportCreated(stored.created, join(clusterDir, 'secrets'));
    const plan = buildPlan(loaded.topology);
    const tree = renderCloudInitTree(withSecrets(plan, stored.secrets));
    await addDelivery(delivery, plan, tree, forms);
    const code = await emit(tree, clusterDir, opts);
    if (code === EXIT.ok && opts.rotateToken && !opts.check) reportRotation(plan, join(clusterDir, 'secrets', SECRET_FILES.token));
    return code;
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

type DeliveryModule = typeof import('../render/delivery/index.js');

/** Seed ISOs, tar bundles, hypervisor recipes and README (src/render/delivery); prints user-data sizes. */
async function addDelivery(d: DeliveryModule, plan: ClusterPlan, tree: FileTree, forms: DeliveryForm[]): Promise<void> {
  const seeds = d.seedsFromTree(plan, tree);
  tree.merge(await d.renderDeliveryTree(plan, seeds, { forms }));
  const sizes = d.sizeReport(seeds);
  process.stdout.write(`user-data sizes:\n${sizes.lines.join('\n')}\n`);
  for (const w of sizes.warnings) process.stderr.write(`warning: ${w}\n`);
}

/**
 * A running cluster does not know a token made after its `kubeadm init`: say how to register it
 * on a control plane (the command reads the token file; the token itself is never printed).
 */
function reportRotation(plan: ClusterPlan, tokenFile: string): void {
  const cp = plan.nodes.find((n) => n.initNode)!;
  process.stderr.write(
    `new bootstrap token in ${tokenFile}; nodes booted from the new user-data join with it.\n` +
      `If the cluster is already running, register the token there first:\n` +
      `  ssh ${plan.access.adminUser}@${cp.ip} sudo kubeadm token create "$(cat ${tokenFile})" --ttl ${plan.bootstrap.tokenTTL}\n`,
  );
}

/** Names what the secrets store gained (file names only: secrets are never printed). */
function reportCreated(created: string[], dir: string): void {
  if (created.includes(SECRET_FILES.caKey)) process.stderr.write(`created cluster secrets in ${dir} (keep them safe; never commit them)\n`);
  else for (const file of created) process.stderr.write(`created ${join(dir, file)}\n`);
}

/** Writes a rendered tree (or, with --check, only reports it). */
export async function emit(tree: FileTree, dir: string, opts: RenderOptions): Promise<number> {
  if (opts.check) {
    process.stdout.write(`check: ${tree.files().length} files would be written under ${dir}\n`);
    return EXIT.ok;
  }
  const result = await writeTree(dir, tree, { force: opts.force });
  if ('diagnostics' in result) {
    process.stderr.write(formatDiagnostics(result.diagnostics));
    return EXIT.invalid;
  }
  process.stdout.write(
    `${dir}: ${result.written.length} written, ${result.unchanged.length} unchanged${result.removed.length ? `, ${result.removed.length} removed` : ''}\n`,
  );
  return EXIT.ok;
}
