// `kubebake upgrade plan` and `kubebake upgrade apply`: the topology's kubernetes.version against
// what the cluster runs, read through its API with the stored admin certificate (as `token
// create` does: the cluster CA is the only trust root). The store is only read.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDiagnostic } from '../api/cluster.js';
import { KubeClient } from '../api/cluster-objects.js';
import { diagnosticOf, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { formatDiagnostics } from '../diagnostics/print.js';
import { acquireLock } from '../output/lock.js';
import { buildPlan, type ClusterPlan } from '../plan/plan.js';
import { loadOrCreateSecrets, storePath } from '../store/secrets-store.js';
import type { Topology } from '../topology/types.js';
import { applyUpgrade } from '../upgrade/apply.js';
import { readClusterFacts } from '../upgrade/facts.js';
import { formatUpgradePlan } from '../upgrade/format.js';
import { buildUpgradePlan } from '../upgrade/plan.js';
import { nodeInProgress, readUpgradeState } from '../upgrade/state.js';
import { durationSeconds } from '../util/duration.js';
import { EXIT } from './exit.js';
import { identityOf } from '../app/render-cluster.js';
import { noStore, withSignals } from './render.js';
import { parseAccess } from './cluster-access.js';
import { say, usageError } from './say.js';
import { loadAndReport } from './validate.js';

export interface UpgradeOptions { file: string; out: string; server?: string; timeout?: string; strict?: boolean }
export interface PlanOptions extends UpgradeOptions { json?: boolean }
export interface ApplyCliOptions extends UpgradeOptions {
  dryRun?: boolean;
  sshConfig?: string;
  drainTimeout?: string;
  stepTimeout?: string;
  nodeTimeout?: string;
}

interface Connected { topology: Topology; plan: ClusterPlan; clusterDir: string; api: KubeClient }

/** Topology, plan, the stored admin credentials and an API client; or the exit code after saying why not. */
async function connect(opts: UpgradeOptions): Promise<Connected | number> {
  const access = parseAccess(opts);
  if (typeof access === 'number') return access;
  const { server, timeoutMs } = access;
  const loaded = await loadAndReport({ file: opts.file, strict: opts.strict });
  if (!loaded.topology) return EXIT.invalid;
  const topology = loaded.topology;
  const plan = buildPlan(topology);
  const clusterDir = join(opts.out, topology.name);
  const secretsDir = join(clusterDir, 'secrets');
  const fail = (ds: Diagnostic[]): number => {
    process.stderr.write(formatDiagnostics(ds));
    return EXIT.invalid;
  };
  if (!existsSync(join(secretsDir, storePath('ca.key')))) return fail([noStore(secretsDir)]);
  // Read only: an admin certificate that would be renewed is renewed in memory, never written here.
  const stored = await loadOrCreateSecrets(secretsDir, { identity: identityOf(topology, plan) });
  if ('diagnostics' in stored) return fail(stored.diagnostics);
  const s = stored.secrets;
  const api = new KubeClient({ server: server ?? new URL(`https://${plan.endpoint.hostPort}`), caCert: s.ca.cert, clientCert: s.admin.cert, clientKey: s.admin.key }, timeoutMs);
  return { topology, plan, clusterDir, api };
}

export async function runUpgradePlan(opts: PlanOptions): Promise<number> {
  const c = await connect(opts);
  if (typeof c === 'number') return c;
  const facts = await readClusterFacts(c.api);
  if (isDiagnostic(facts)) {
    process.stderr.write(formatDiagnostics([facts]));
    return EXIT.invalid;
  }
  const saved = await readUpgradeState(c.clusterDir);
  const plan = buildUpgradePlan(c.topology, c.plan, facts, nodeInProgress(saved, c.plan.kubernetes.version));
  process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : formatUpgradePlan(plan, opts.file));
  return plan.refusals.length ? EXIT.invalid : EXIT.ok;
}

/** "90s", "10m", "1h30m" → milliseconds, or undefined. */
function durationMs(text: string | undefined, fallback: string): number | undefined {
  const s = durationSeconds(text ?? fallback);
  return s === undefined || s <= 0 ? undefined : s * 1000;
}

export async function runUpgradeApply(opts: ApplyCliOptions): Promise<number> {
  const bounds = { drain: durationMs(opts.drainTimeout, '10m'), step: durationMs(opts.stepTimeout, '30m'), node: durationMs(opts.nodeTimeout, '10m') };
  for (const [flag, value, ms] of [['--drain-timeout', opts.drainTimeout, bounds.drain], ['--step-timeout', opts.stepTimeout, bounds.step], ['--node-timeout', opts.nodeTimeout, bounds.node]] as const) {
    if (ms === undefined) return usageError(msg.badDuration(flag, value, '10m'));
  }
  if (opts.sshConfig !== undefined && !existsSync(opts.sshConfig)) return usageError(msg.sshConfigMissing(opts.sshConfig));
  const c = await connect(opts);
  if (typeof c === 'number') return c;
  return withSignals(async (signal) => {
    // One apply per cluster folder at a time (the lock renders take too): two would race on the state file and the nodes.
    let release: (() => Promise<void>) | undefined;
    if (!opts.dryRun) {
      try {
        release = await acquireLock(c.clusterDir, { waitSeconds: 0, busy: (_, owner) => msg.upgradeLocked(c.clusterDir, owner) });
      } catch (e) {
        // Busy, or the lock cannot be made (its io.* diagnostic): not another run, but said the same way, as before.
        say(diagnosticOf(e, 'output.locked') ?? msg.upgradeLocked(c.clusterDir, undefined));
        return EXIT.invalid;
      }
    }
    try {
      return await applyUpgrade({
        ...c,
        file: opts.file,
        sshConfig: opts.sshConfig,
        drainMs: bounds.drain!,
        stepMs: bounds.step!,
        readyMs: bounds.node!,
        dryRun: opts.dryRun === true,
        signal,
        out: (line) => process.stdout.write(`${line}\n`),
      });
    } finally {
      await release?.();
    }
  });
}
