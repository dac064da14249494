// A cluster's render from start to end, one way: lock → secrets → render → verify → delivery →
// stage → write → commit. `render cloud-init`, `token create` and `node add/remove` all run it
// (through cli/render.ts); the CLI parses the options before and prints the outcome after.
//
// The secrets store changes only after the files were written (staged, then committed), so a
// render that fails or is stopped leaves the store as it was.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { ioDiagnostic } from '../diagnostics/io.js';
import { withSecrets, type ClusterPlan, type RenderPlan } from '../plan/plan.js';
import { loadOrCreateSecrets, storePath, type ClusterIdentity } from '../store/secrets-store.js';
import { renderCloudInit } from '../render/cloud-init/cluster.js';
import type { DeliveryForm } from '../render/delivery/forms.js';
import { acquireLock, type LockOptions } from '../output/lock.js';
import { ensureOutputFolder, interrupted, writeTree, type WriteOutcome, type WriteResult } from '../output/write.js';
import type { Topology } from '../topology/types.js';
import { verifyRender } from '../verify/verify.js';

export interface RenderClusterRequest {
  topology: Topology;
  plan: ClusterPlan;
  /** <out>/<cluster>: the files go here, the secrets store is its secrets/ folder. */
  clusterDir: string;
  forms: readonly DeliveryForm[];
  /**
   * Write nothing: read the stored secrets (or make throw-away ones in memory when there are none),
   * so it fails where a render would, and report the files a render would write or refuse.
   */
  check?: boolean;
  force?: boolean;
  rotateToken?: boolean;
  /** Refuse to make a new secrets store (commands for a cluster that exists). */
  requireStore?: boolean;
  /** Runs after the render verified and before anything is written; problems stop the render. */
  register?: (plan: RenderPlan) => Promise<Diagnostic[]>;
  /** Aborted: stop before writing begins, or let a begun write finish. */
  signal: AbortSignal;
  progress: RenderProgress;
}

/** What the caller hears while the render runs (before its outcome). */
export interface RenderProgress {
  /** Another render holds the folder's lock: this one waits. */
  waiting: NonNullable<LockOptions['onWait']>;
  /** The secrets store's warnings (nothing blocking). */
  storeWarnings(warnings: Diagnostic[]): void;
  /** Each host's user-data size, and the platforms no form fits. */
  sizes(report: { lines: string[]; warnings: string[] }): void;
}

/** The folder that cannot be created or locked is not an outcome: a DiagnosticError, for the CLI's edge to print. */
export type RenderClusterOutcome =
  /** requireStore, and there is no store. */
  | { kind: 'no-store'; secretsDir: string }
  | { kind: 'failed'; diagnostics: Diagnostic[] }
  /** The render's own check failed: problems name topology fields (for the caller to position). */
  | { kind: 'unverified'; problems: Diagnostic[] }
  /** Stopped by the signal; nothing was written, or the write was rolled back. */
  | { kind: 'aborted' }
  /** --check: what the write would do. */
  | { kind: 'checked'; outcome: WriteOutcome }
  /** `created`: the secrets store's new files, relative to it. */
  | { kind: 'written'; result: WriteResult; created: string[] };

export type Release = () => Promise<void>;

/** The identity the secrets store is bound to (see ClusterIdentity). */
export function identityOf(topology: Topology, plan: ClusterPlan): ClusterIdentity {
  return { name: topology.name, apiEndpoint: plan.endpoint.hostPort, nodeSubnet: topology.network.nodeSubnet };
}

/** Creates and locks an output folder: the release function. Throws a DiagnosticError (io.*, output.locked) when it cannot. */
export async function lockOutput(dir: string, onWait: LockOptions['onWait']): Promise<Release> {
  ensureOutputFolder(dir);
  return acquireLock(dir, { onWait });
}

export async function renderCluster(req: RenderClusterRequest): Promise<RenderClusterOutcome> {
  const secretsDir = join(req.clusterDir, 'secrets');
  // Checked again after loading (the store may go in between); this early check leaves no folder behind.
  if (req.requireStore && !existsSync(join(secretsDir, storePath('ca.key')))) return { kind: 'no-store', secretsDir };
  // --check writes nothing, so it takes no lock.
  const lock = req.check ? undefined : await lockOutput(req.clusterDir, req.progress.waiting);
  try {
    return await locked(req, secretsDir);
  } finally {
    await lock?.();
  }
}

async function locked(req: RenderClusterRequest, secretsDir: string): Promise<RenderClusterOutcome> {
  const { plan, signal } = req;
  // --check reads the stored secrets (or makes throw-away ones in memory when there are none), so
  // it fails where a render would.
  const stored = await loadOrCreateSecrets(secretsDir, { rotateToken: req.rotateToken, identity: identityOf(req.topology, plan) });
  if ('diagnostics' in stored) return { kind: 'failed', diagnostics: stored.diagnostics };
  if (req.requireStore && stored.changes.includes(storePath('ca.key'))) return { kind: 'no-store', secretsDir };
  if (stored.warnings.length) req.progress.storeWarnings(stored.warnings);
  const renderPlan = withSecrets(plan, stored.secrets);
  const rendered = renderCloudInit(renderPlan);
  // Verified before anything is written: the user-data strings the tree holds, not a re-derivation.
  const problems = verifyRender(rendered);
  if (problems.length) return { kind: 'unverified', problems };
  // Every delivery form (seed ISOs, tar bundles, hypervisor recipes, PXE, README) serialises the
  // seeds the render handed over: nothing is read back from the tree.
  const delivery = await import('../render/delivery/index.js');
  const tree = rendered.tree.merge(delivery.renderDeliveryTree(renderPlan, rendered.seeds, { forms: req.forms }));
  req.progress.sizes(delivery.sizeReport(rendered.seeds));
  if (req.check) return { kind: 'checked', outcome: await writeTree(req.clusterDir, tree, { dryRun: true }) };
  if (signal.aborted) return { kind: 'aborted' };
  const refused = (await req.register?.(renderPlan)) ?? [];
  if (refused.length) return { kind: 'failed', diagnostics: refused };
  try {
    await stored.stage();
  } catch (e) {
    return { kind: 'failed', diagnostics: [ioDiagnostic(secretsDir, e)] };
  }
  const outcome = await writeTree(req.clusterDir, tree, { force: req.force, signal });
  if (!('written' in outcome)) {
    await stored.discard();
    return interrupted(outcome) ? { kind: 'aborted' } : { kind: 'failed', diagnostics: outcome.diagnostics };
  }
  try {
    await stored.commit();
  } catch (e) {
    return { kind: 'failed', diagnostics: [ioDiagnostic(secretsDir, e)] };
  }
  return { kind: 'written', result: outcome, created: stored.changes };
}
