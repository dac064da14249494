// `kubebake token create`: a fresh bootstrap token for nodes booted after the first token expired
// (24 h after init by default) — registered in the running cluster through its API with the
// stored admin credentials, then written to the secrets store and into every joining host's
// re-rendered user-data (and baked images used for scale-out join with the same user-data).
// The token's secret half is never printed.
import { apiRefusal, apiRequest, networkProblem, type ApiCredentials } from '../api/kube-api.js';
import { bootstrapTokenSecret } from '../config/kubeadm/bootstrap-token.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { RenderPlan } from '../plan/plan.js';
import { durationSeconds } from '../util/duration.js';
import { parseAccess } from './cluster-access.js';
import { runRenderCloudInit } from './render.js';

export interface TokenCreateOptions { file: string; out: string; server?: string; delivery?: string; force?: boolean; timeout?: string }

export async function runTokenCreate(opts: TokenCreateOptions): Promise<number> {
  const access = parseAccess(opts);
  if (typeof access === 'number') return access;
  return runRenderCloudInit({
    file: opts.file,
    out: opts.out,
    force: opts.force,
    delivery: opts.delivery,
    rotateToken: true,
    requireStore: true,
    register: (plan) => register(plan, access.server ?? new URL(`https://${plan.endpoint.hostPort}`), access.timeoutMs),
  });
}

/** Creates the token's Secret in kube-system, as `kubeadm token create` does. */
export async function register(plan: RenderPlan, server: URL, timeoutMs: number): Promise<Diagnostic[]> {
  const s = plan.secrets;
  const creds: ApiCredentials = { server, caCert: s.ca.cert, clientCert: s.admin.cert, clientKey: s.admin.key };
  const ttl = durationSeconds(plan.bootstrap.tokenTTL) ?? 0;
  const secret = bootstrapTokenSecret(s.token, ttl, new Date());
  let r;
  try {
    r = await apiRequest(creds, 'POST', '/api/v1/namespaces/kube-system/secrets', secret, timeoutMs);
  } catch (e) {
    return [networkProblem(server, e)];
  }
  if (r.status !== 201) return [apiRefusal(server, `create the bootstrap token's Secret ${secret.metadata.name}`, r)];
  const expires = ttl > 0 ? `expires ${Buffer.from(secret.data.expiration!, 'base64').toString()}` : 'never expires (bootstrap.tokenTTL: 0)';
  process.stderr.write(`registered bootstrap token ${s.token.id} with the API at ${server.origin}; it ${expires}\n`);
  return [];
}
