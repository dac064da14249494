// What every command for a running cluster starts with: the topology, its plan with the stored
// secrets (read only: nothing is committed to the store here), and a client for the cluster's API
// (the stored admin certificate, the cluster CA as the only trust root).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../api/cluster-objects.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { formatDiagnostics } from '../diagnostics/print.js';
import { buildPlan, withSecrets, type RenderPlan } from '../plan/plan.js';
import { loadOrCreateSecrets, storePath } from '../store/secrets-store.js';
import type { LoadResult } from '../topology/load.js';
import { positionDiagnostics } from '../topology/position.js';
import type { Topology } from '../topology/types.js';
import { API_SERVER_PORT } from '../topology/facts/kubeadm.js';
import { EXIT } from './exit.js';
import { identityOf } from '../app/render-cluster.js';
import { noStore } from './render.js';
import { usageError } from './say.js';
import { loadAndReport } from './validate.js';

export interface ClusterOptions { file: string; out: string; server?: string; timeout?: string }

export interface ClusterAccess {
  loaded: LoadResult & { topology: Topology };
  plan: RenderPlan;
  clusterDir: string;
  server: URL;
  timeoutMs: number;
  client: KubeClient;
}

/** An https://host:port URL with nothing after it, or null. */
export function parseServer(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && (url.pathname === '/' || url.pathname === '') && !url.search && !url.username ? url : null;
  } catch {
    return null;
  }
}

/** --server and --timeout as every command for a running cluster takes them: a usage error is printed, and EXIT.usage returned. */
export function parseAccess(opts: { server?: string; timeout?: string }): { server?: URL; timeoutMs: number } | number {
  const server = opts.server === undefined ? undefined : parseServer(opts.server);
  if (server === null) {
    return usageError(msg.badApiServer(opts.server, API_SERVER_PORT));
  }
  const timeoutMs = Number(opts.timeout ?? '15') * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 600_000) {
    return usageError(msg.badApiTimeout(opts.timeout));
  }
  return { server, timeoutMs };
}

/** Loads topology, plan and stored secrets; on a problem prints it and returns the exit code. */
export async function openCluster(opts: ClusterOptions): Promise<ClusterAccess | number> {
  const access = parseAccess(opts);
  if (typeof access === 'number') return access;
  const loaded = await loadAndReport({ file: opts.file });
  if (!loaded.topology) return EXIT.invalid;
  const topology = loaded.topology;
  const plan = buildPlan(topology);
  const clusterDir = join(opts.out, topology.name);
  const secretsDir = join(clusterDir, 'secrets');
  if (!existsSync(join(secretsDir, storePath('ca.key')))) return fail([noStore(secretsDir)]);
  const stored = await loadOrCreateSecrets(secretsDir, { identity: identityOf(topology, plan) });
  if ('diagnostics' in stored) return fail(stored.diagnostics);
  if (stored.warnings.length) process.stderr.write(formatDiagnostics(stored.warnings));
  const renderPlan = withSecrets(plan, stored.secrets);
  const server = access.server ?? new URL(`https://${plan.endpoint.hostPort}`);
  const s = stored.secrets;
  const client = new KubeClient({ server, caCert: s.ca.cert, clientCert: s.admin.cert, clientKey: s.admin.key }, access.timeoutMs);
  return { loaded: { ...loaded, topology }, plan: renderPlan, clusterDir, server, timeoutMs: access.timeoutMs, client };
}

/** Diagnostics about topology fields, printed at their lines. */
export function failAt(c: ClusterAccess, diagnostics: Diagnostic[]): number {
  process.stderr.write(formatDiagnostics(positionDiagnostics(c.loaded.source, c.loaded.file, diagnostics), c.loaded.source));
  return EXIT.invalid;
}

export function fail(diagnostics: Diagnostic[]): number {
  process.stderr.write(formatDiagnostics(diagnostics));
  return EXIT.invalid;
}
