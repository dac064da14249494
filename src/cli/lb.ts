// `kubebake lb update`: every load balancer gets the topology's haproxy.cfg (checked with
// haproxy -c there, installed, HAProxy reloaded without dropping connections), over SSH. For a
// control plane added to the topology (the load balancers learn it before it boots: its backend
// stays down until its /readyz answers), or a changed ingress frontend. Needs no secrets and no API.
import { buildPlan } from '../plan/plan.js';
import { loadBalancerHosts, reachable, updateLoadBalancers } from '../day2/remote-steps.js';
import { fail } from './cluster-access.js';
import { EXIT } from './exit.js';
import { loadAndReport } from './validate.js';

export interface LbUpdateOptions { file: string; sshConfig?: string }

export async function runLbUpdate(opts: LbUpdateOptions): Promise<number> {
  const loaded = await loadAndReport({ file: opts.file });
  if (!loaded.topology) return EXIT.invalid;
  const plan = buildPlan(loaded.topology);
  const ssh = { user: plan.access.adminUser, configFile: opts.sshConfig, timeoutMs: 120_000 };
  const problems = await reachable(ssh, loadBalancerHosts(plan).map((host) => ({ host })));
  if (problems.length) return fail(problems);
  const updated = await updateLoadBalancers(plan, ssh, (line) => process.stderr.write(`${line}\n`));
  if (updated.length) return fail(updated);
  process.stdout.write(`load balancers: ${loadBalancerHosts(plan).map((h) => h.name).join(', ')} serve the topology's haproxy.cfg\n`);
  return EXIT.ok;
}
